import type { Prompt, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { AuditBody, AuditKindName } from '../audit/index.js';
import type { Logger } from '../log/index.js';
import type { ToolPinReason, ToolPinStore } from '../storage/ports/index.js';
import { scanAll, schemaTexts, type ScanFinding } from './description-scan.js';
import { pinnedDefinition } from './tool-definition.js';

/** When Gatehouse pins a tool without asking anyone (`servers.<name>.pinning.mode`). */
export type PinningMode = 'first-start' | 'trust-on-first-use' | 'manual';
/** What a description that reads like instructions does to its tool (`servers.<name>.pinning.poisonedDescriptions`). */
export type PoisonAction = 'quarantine' | 'neutralize' | 'flag';
export type QuarantineReason = 'new' | 'changed' | 'poisoned';

export interface PinSettings {
  mode: PinningMode;
  poisonedDescriptions: PoisonAction;
}

export interface Admission {
  /** The tools agents may see and call, in catalog order (descriptions neutralized where configured). */
  tools: Tool[];
  /** Tools held back, by upstream name. */
  quarantined: Map<string, QuarantineReason>;
}

export interface PromptAdmission {
  prompts: Prompt[];
  /** Prompts held back (poisoned descriptions with the `quarantine` action), by upstream name. */
  quarantined: Set<string>;
}

export interface ToolPinsOptions {
  store: ToolPinStore;
  audit: { append(kind: AuditKindName, body: AuditBody, options: { durable: boolean }): Promise<unknown> };
  log: Logger;
  /** The server's pinning settings; undefined for servers whose tools Gatehouse defines itself (not pinned). */
  settings(server: string): PinSettings | undefined;
  /** Tool names other servers offer (for the cross-server reference check). */
  foreignTools?(server: string): ReadonlySet<string>;
  now?(): number;
}

/** The description agents see instead of one that read like instructions. */
export function neutralDescription(kind: 'tool' | 'prompt', name: string, server: string): string {
  return `The ${kind} "${name}" of server "${server}". Its description was withheld by Gatehouse because it contained instruction-like content.`;
}

/**
 * Tool pinning against rug pulls. Each upstream tool definition is hashed (canonical JSON,
 * SHA-256) and pinned in storage the first time it is allowed in. A definition that differs
 * later — after list_changed, a restart, a new upstream version — is quarantined: not listed,
 * not callable, audited as `tool.changed`, until an operator approves it.
 *
 * The approved digests are kept in memory, so the usual case (nothing changed) costs a map
 * lookup per tool. Anything else reads storage, so an approval written by the CLI applies to
 * the next request without a restart.
 */
export class ToolPins {
  readonly #approved = new Map<string, Map<string, string>>();
  /** Admissions of catalogs with nothing quarantined: valid until the catalog array is replaced. */
  #clean = new WeakMap<readonly Tool[], Admission>();
  readonly #prompts = new WeakMap<readonly Prompt[], PromptAdmission>();
  /** One slow-path admission per server at a time, so a first catalog is pinned once. */
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #flagged = new Set<string>();
  /** Quarantined definitions already on record, so listing a catalog that holds one does not write again. */
  readonly #recorded = new Set<string>();

  constructor(private readonly options: ToolPinsOptions) {}

  #now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Splits a server's catalog into admitted and quarantined tools, pinning and auditing what is new. */
  async admit(server: string, tools: readonly Tool[]): Promise<Admission> {
    const settings = this.options.settings(server);
    if (!settings) return { tools: [...tools], quarantined: new Map() };
    const clean = this.#clean.get(tools);
    if (clean) return clean;
    const approved = await this.#approvedFor(server);
    const fast = tools.every((t) => approved.get(t.name) === pinnedDefinition(t).digest);
    const admission = fast ? this.#build(server, settings, tools, new Map()) : await this.#serialized(server, () => this.#slow(server, settings, tools));
    if (admission.quarantined.size === 0) this.#clean.set(tools, admission);
    return admission;
  }

  /** Forgets cached approvals: the next admission reads storage. */
  invalidate(): void {
    this.#approved.clear();
    this.#recorded.clear();
    this.#clean = new WeakMap();
  }

  /**
   * Re-reads the approved digests of every server seen so far (another process — the CLI —
   * may have approved something) and returns the servers whose approvals changed, so their
   * clients can be told to list again.
   */
  async reload(): Promise<string[]> {
    const changed: string[] = [];
    for (const [server, cached] of [...this.#approved]) {
      const fresh = await this.options.store.approved(server);
      if (fresh.size !== cached.size || [...fresh].some(([tool, digest]) => cached.get(tool) !== digest)) changed.push(server);
      this.#approved.set(server, fresh);
    }
    if (changed.length > 0) {
      // An approval supersedes the other pending definitions: one seen again must be reopened.
      this.#clean = new WeakMap();
      this.#recorded.clear();
    }
    return changed;
  }

  async #approvedFor(server: string): Promise<Map<string, string>> {
    let approved = this.#approved.get(server);
    if (!approved) {
      approved = await this.options.store.approved(server);
      this.#approved.set(server, approved);
    }
    return approved;
  }

  #serialized<T>(server: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(server) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.#queues.set(server, settled);
    void settled.then(() => {
      if (this.#queues.get(server) === settled) this.#queues.delete(server);
    });
    return next;
  }

  async #slow(server: string, settings: PinSettings, tools: readonly Tool[]): Promise<Admission> {
    const { store } = this.options;
    // Storage, not the cache: the CLI may have approved something since.
    const approved = await store.approved(server);
    this.#approved.set(server, approved);
    const firstCatalog = settings.mode === 'first-start' && !(await store.serverSeen(server));
    const quarantined = new Map<string, QuarantineReason>();
    const foreign = this.options.foreignTools?.(server);
    for (const tool of tools) {
      const { digest, canonical } = pinnedDefinition(tool);
      const current = approved.get(tool.name);
      if (current === digest) continue;
      const findings = scanTool(tool, foreign);
      const poisoned = findings.length > 0 && settings.poisonedDescriptions === 'quarantine';
      const automatic: ToolPinReason | undefined =
        current !== undefined || poisoned
          ? undefined
          : firstCatalog
            ? 'first-start'
            : settings.mode === 'trust-on-first-use'
              ? 'trust-on-first-use'
              : undefined;
      const now = this.#now();
      if (automatic) {
        const inserted = await store.record({
          server,
          tool: tool.name,
          digest,
          definition: canonical,
          state: 'approved',
          reason: automatic,
          findings,
          firstSeenAt: now,
          decidedAt: now,
          decidedBy: 'gatehouse',
        });
        const nowApproved = (await store.approved(server)).get(tool.name);
        if (nowApproved === digest) {
          approved.set(tool.name, digest);
          if (inserted && findings.length > 0) this.#flag(server, 'tool', tool.name, digest, findings, settings.poisonedDescriptions);
          continue;
        }
      }
      const reason: QuarantineReason = poisoned ? 'poisoned' : current !== undefined ? 'changed' : 'new';
      quarantined.set(tool.name, reason);
      const key = `${server}\u0000${tool.name}\u0000${digest}`;
      if (this.#recorded.has(key)) continue;
      const inserted = await store.record({ server, tool: tool.name, digest, definition: canonical, state: 'pending', reason, findings, firstSeenAt: now });
      this.#recorded.add(key);
      if (inserted) {
        this.options.log.warn({ server, tool: tool.name, reason, digest, previous: current, findings }, 'tool quarantined until an operator approves it');
        void this.options.audit.append(
          'tool.changed',
          {
            target: { server, tool: `${server}__${tool.name}` },
            pin: { reason, digest, ...(current !== undefined ? { previous: current } : {}), ...(findings.length > 0 ? { findings } : {}) },
            outcome: { status: 'denied', code: 'tool.quarantined' },
          },
          { durable: false },
        );
        if (findings.length > 0) this.#flag(server, 'tool', tool.name, digest, findings, settings.poisonedDescriptions);
      }
    }
    if (firstCatalog) await store.markServerSeen(server, this.#now());
    return this.#build(server, settings, tools, quarantined);
  }

  /** The admitted tools; with `neutralize`, those whose descriptions read like instructions get neutral ones. */
  #build(server: string, settings: PinSettings, tools: readonly Tool[], quarantined: Map<string, QuarantineReason>): Admission {
    const foreign = this.options.foreignTools?.(server);
    const out: Tool[] = [];
    for (const tool of tools) {
      if (quarantined.has(tool.name)) continue;
      if (settings.poisonedDescriptions === 'neutralize' && scanTool(tool, foreign).length > 0) out.push(neutralizeTool(tool, server));
      else out.push(tool);
    }
    return { tools: out, quarantined };
  }

  /** Prompts are not pinned, but their descriptions are scanned like tools'. */
  admitPrompts(server: string, prompts: readonly Prompt[]): PromptAdmission {
    const settings = this.options.settings(server);
    if (!settings) return { prompts: [...prompts], quarantined: new Set() };
    const cached = this.#prompts.get(prompts);
    if (cached) return cached;
    const out: Prompt[] = [];
    const quarantined = new Set<string>();
    const foreign = this.options.foreignTools?.(server);
    for (const prompt of prompts) {
      const findings = scanAll([prompt.title, prompt.description, ...(prompt.arguments ?? []).map((a) => a.description)], {
        foreignTools: foreign,
      });
      if (findings.length === 0) {
        out.push(prompt);
        continue;
      }
      this.#flag(server, 'prompt', prompt.name, pinnedPromptKey(prompt), findings, settings.poisonedDescriptions);
      if (settings.poisonedDescriptions === 'quarantine') quarantined.add(prompt.name);
      else if (settings.poisonedDescriptions === 'neutralize') out.push(neutralizePrompt(prompt, server));
      else out.push(prompt);
    }
    const admission = { prompts: out, quarantined };
    this.#prompts.set(prompts, admission);
    return admission;
  }

  #flag(server: string, kind: 'tool' | 'prompt', name: string, digest: string, findings: ScanFinding[], action: PoisonAction): void {
    const key = `${kind}\u0000${server}\u0000${name}\u0000${digest}`;
    if (this.#flagged.has(key)) return;
    this.#flagged.add(key);
    this.options.log.warn({ server, [kind]: name, findings, action }, `${kind} description reads like instructions to the model`);
    void this.options.audit.append(
      'tool.flagged',
      { target: kind === 'tool' ? { server, tool: `${server}__${name}` } : { server, prompt: `${server}__${name}` }, findings, action },
      { durable: false },
    );
  }
}

/** Findings over a tool's own texts: title, description, and every description inside its schemas. */
export function scanTool(tool: Tool, foreign?: ReadonlySet<string>): ScanFinding[] {
  return scanAll([tool.title, tool.description, tool.annotations?.title, ...schemaTexts(tool.inputSchema), ...schemaTexts(tool.outputSchema)], {
    foreignTools: foreign,
  });
}

function pinnedPromptKey(prompt: Prompt): string {
  return JSON.stringify([prompt.title, prompt.description, prompt.arguments]);
}

/** The same tool with neutral text: its own description replaced, parameter descriptions and titles dropped. */
export function neutralizeTool(tool: Tool, server: string): Tool {
  const { title: _title, ...rest } = tool;
  return {
    ...rest,
    description: neutralDescription('tool', tool.name, server),
    inputSchema: stripTexts(tool.inputSchema) as Tool['inputSchema'],
    ...(tool.outputSchema ? { outputSchema: stripTexts(tool.outputSchema) as Tool['outputSchema'] } : {}),
    ...(tool.annotations ? { annotations: { ...tool.annotations, title: undefined } } : {}),
  };
}

function neutralizePrompt(prompt: Prompt, server: string): Prompt {
  const { title: _title, ...rest } = prompt;
  return {
    ...rest,
    description: neutralDescription('prompt', prompt.name, server),
    ...(prompt.arguments ? { arguments: prompt.arguments.map(({ name, required }) => ({ name, ...(required !== undefined ? { required } : {}) })) } : {}),
  };
}

/** A schema without `description`, `title` and `examples` anywhere (bounded depth; deeper parts are dropped). */
function stripTexts(node: unknown, depth = 0): unknown {
  if (depth > 24 || node === null || typeof node !== 'object') return depth > 24 ? {} : node;
  if (Array.isArray(node)) return node.map((item) => stripTexts(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key === 'description' || key === 'title' || key === 'examples') continue;
    out[key] = stripTexts(value, depth + 1);
  }
  return out;
}
