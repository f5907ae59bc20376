import { heldCredentials, type SecretRedactor } from '../log/index.js';
import { encodedForms } from './encodings.js';
import { buildMatcher, type Matcher, type Pattern } from './matcher.js';

/** Same floor as the log redactor: shorter values collide with ordinary text. */
export const MIN_HELD_LENGTH = 4;

/** Redaction type of a credential Gatehouse holds (vault values, lease passwords, config literals). */
export const HELD_TYPE = 'vault';

/** Every encoded form of every value, labelled `type`. */
export function patternsFor(values: Iterable<string>, type: string, options?: { aligned?: boolean }): Pattern[] {
  const patterns: Pattern[] = [];
  for (const value of values) for (const text of encodedForms(value, options)) patterns.push({ text, type });
  return patterns;
}

/**
 * The credentials Gatehouse holds, as the outbound sanitizer sees them. The matcher over all
 * their encoded forms is rebuilt lazily after a change, so registering a lease password costs
 * one rebuild on the next message, not one per message.
 */
export class HeldSecrets {
  readonly #values = new Set<string>();
  #version = 0;
  #matcher: Matcher | undefined;

  add(value: string): void {
    if (value.length < MIN_HELD_LENGTH || this.#values.has(value)) return;
    this.#values.add(value);
    this.#changed();
  }

  delete(value: string): void {
    if (this.#values.delete(value)) this.#changed();
  }

  #changed(): void {
    this.#version++;
    this.#matcher = undefined;
  }

  /** Changes with every add and delete (cache keys). */
  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#values.size;
  }

  matcher(): Matcher {
    this.#matcher ??= buildMatcher(patternsFor(this.#values, HELD_TYPE));
    return this.#matcher;
  }
}

const mirrored = new WeakSet<SecretRedactor>();

/**
 * Keeps `held` in step with a redactor's registrations. The log redactor is where every
 * component registers a credential it resolves (vault, broker, config literals); it only
 * scrubs, it cannot list its values, so the sanitizer observes registrations here instead.
 */
export function mirrorRegistrations(redactor: SecretRedactor, held: HeldSecrets): void {
  if (mirrored.has(redactor)) return;
  mirrored.add(redactor);
  const register = redactor.register.bind(redactor);
  const unregister = redactor.unregister.bind(redactor);
  redactor.register = (value: string) => {
    register(value);
    held.add(value);
  };
  redactor.unregister = (value: string) => {
    unregister(value);
    held.delete(value);
  };
}

/** The process-wide set: everything `registerCredential` registers. */
export const heldSecrets = new HeldSecrets();
mirrorRegistrations(heldCredentials, heldSecrets);
