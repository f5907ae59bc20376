import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../log/index.js';
import { CedarAuthorizer, type CedarAuthorizerSettings } from './cedar-authorizer.js';
import { compilePolicySet, formatProblem, PolicyLoadError, type CompiledPolicySet } from './cedar/policy-set.js';
import { readPolicyFolder } from './policy-folder.js';

export interface PolicyStatus {
  mode: 'cedar';
  folder: string;
  policies: number;
  files: readonly string[];
  digest: string;
  loadedAt: string;
  /** The last reload that was refused; the policies above stayed in force. Cleared by the next good load. */
  error?: { at: string; problems: string[] } | undefined;
}

export type PolicyEvent = { kind: 'loaded'; set: CompiledPolicySet; reload: boolean } | { kind: 'refused'; problems: string[] };

/** Compiles a folder into a CompiledPolicySet (throws PolicyLoadError). */
export function loadPolicyFolder(dir: string): CompiledPolicySet {
  return compilePolicySet(readPolicyFolder(dir));
}

/**
 * The policies in force, loaded from a folder and reloaded when it changes. A reload builds
 * and validates a complete new set first and swaps it in with one assignment, so every
 * decision sees either the old set or the new one, never a mix. A folder that does not
 * load is refused: the old set stays, and the error is logged, kept for `gatehouse status`
 * and reported to `onEvent` (the audit log).
 */
export class PolicyStore {
  #authorizer: CedarAuthorizer;
  #loadedAt = new Date();
  #error: PolicyStatus['error'];
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly folder: string,
    private readonly settings: CedarAuthorizerSettings,
    private readonly log: Logger,
    private readonly onEvent: (event: PolicyEvent) => void,
    set: CompiledPolicySet,
  ) {
    this.#authorizer = new CedarAuthorizer(set, settings);
  }

  /** Loads `folder` or throws PolicyLoadError: a gateway does not start on policies it cannot read. */
  static open(folder: string, settings: CedarAuthorizerSettings, log: Logger, onEvent: (event: PolicyEvent) => void = () => undefined): PolicyStore {
    const set = loadPolicyFolder(folder);
    const store = new PolicyStore(folder, settings, log, onEvent, set);
    log.info({ folder, policies: set.policies.length, digest: set.digest }, 'policies loaded');
    if (set.policies.length === 0) log.warn({ folder }, 'the policy folder has no policies: every call is denied');
    onEvent({ kind: 'loaded', set, reload: false });
    return store;
  }

  /** The authorizer for the policies in force right now. */
  get authorizer(): CedarAuthorizer {
    return this.#authorizer;
  }

  /** Re-reads the folder. Returns true when a new set is in force. */
  reload(): boolean {
    let set: CompiledPolicySet;
    try {
      set = loadPolicyFolder(this.folder);
    } catch (error) {
      const problems = error instanceof PolicyLoadError ? error.problems.map(formatProblem) : [(error as Error).message];
      this.#error = { at: new Date().toISOString(), problems };
      this.log.error({ folder: this.folder, problems }, 'policy reload refused: the previous policies stay in force');
      this.onEvent({ kind: 'refused', problems });
      return false;
    }
    this.#error = undefined;
    if (set.digest === this.#authorizer.policySet.digest) return false;
    this.#authorizer = new CedarAuthorizer(set, this.settings);
    this.#loadedAt = new Date();
    this.log.info({ folder: this.folder, policies: set.policies.length, digest: set.digest }, 'policies reloaded');
    this.onEvent({ kind: 'loaded', set, reload: true });
    return true;
  }

  /** Watches the folder; changes are picked up after `debounceMs` of quiet. */
  watch(debounceMs = 150): void {
    if (this.#watcher) return;
    try {
      this.#watcher = watch(this.folder, { persistent: false }, () => {
        if (this.#timer) clearTimeout(this.#timer);
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.reload();
        }, debounceMs);
        this.#timer.unref();
      });
      this.#watcher.on('error', (error) => this.log.error({ folder: this.folder, err: error.message }, 'policy folder watch failed; reload by restarting'));
    } catch (error) {
      this.log.error({ folder: this.folder, err: (error as Error).message }, 'cannot watch the policy folder; reload by restarting');
    }
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  status(): PolicyStatus {
    const set = this.#authorizer.policySet;
    return {
      mode: 'cedar',
      folder: this.folder,
      policies: set.policies.length,
      files: set.files,
      digest: set.digest,
      loadedAt: this.#loadedAt.toISOString(),
      ...(this.#error ? { error: this.#error } : {}),
    };
  }
}
