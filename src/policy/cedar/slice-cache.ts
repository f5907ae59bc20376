import { cedarWasm, type PolicyJson } from './wasm.js';

interface SlotEntry {
  owner: Map<string, string>;
  key: string;
}

/**
 * Pre-parsed policy slices live in cedar-wasm's thread-local cache, under ids we choose. That
 * cache has no delete, so ids are a fixed pool of slots reused least-recently-used first: the
 * wasm heap stays bounded however many distinct slices requests produce, across reloads.
 */
export class SlicePool {
  readonly #slots = new Map<string, SlotEntry>();
  #next = 0;

  constructor(readonly capacity = 2048) {}

  /**
   * The slot holding the slice `key` of `owner` (a policy set's own key→slot map), parsing
   * `policies` into a slot on a miss.
   */
  slot(owner: Map<string, string>, key: string, policies: () => Record<string, string | PolicyJson>): string {
    const hit = owner.get(key);
    if (hit !== undefined) {
      const entry = this.#slots.get(hit) as SlotEntry;
      // Touch: Map iteration order is insertion order, so re-inserting marks it most recent.
      this.#slots.delete(hit);
      this.#slots.set(hit, entry);
      return hit;
    }
    let slot: string;
    if (this.#slots.size < this.capacity) slot = `gatehouse-slice-${this.#next++}`;
    else {
      const [oldest, entry] = this.#slots.entries().next().value as [string, SlotEntry];
      this.#slots.delete(oldest);
      entry.owner.delete(entry.key);
      slot = oldest;
    }
    const answer = cedarWasm.preparsePolicySet(slot, { staticPolicies: policies() });
    if (answer.type !== 'success') throw new Error(`cedar: could not parse a policy slice: ${answer.errors.map((e) => e.message).join('; ')}`);
    this.#slots.set(slot, { owner, key });
    owner.set(key, slot);
    return slot;
  }
}

/** Shared by every policy set in the process (one wasm instance, one cache). */
export const slicePool = new SlicePool();
