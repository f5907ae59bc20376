import type { Storage } from './ports/index.js';

/**
 * Fans out "another process committed" to every room that keeps an in-memory copy of shared
 * state (revocations, users, later vault entries). `Storage.externalChanges()` resets when
 * read, so exactly one owner may call it: this feed. Rooms subscribe; the front door (or
 * whoever is first on a request) polls.
 */
export class ChangeFeed {
  readonly #listeners = new Set<() => void | Promise<void>>();
  #pending: Promise<void> | undefined;

  constructor(private readonly storage: Pick<Storage, 'externalChanges'>) {}

  subscribe(listener: () => void | Promise<void>): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Checks for outside commits (one PRAGMA read on SQLite) and, if there were any, runs every
   * listener and resolves when they are done. Returns undefined on the fast path so callers
   * need not await anything when nothing changed.
   */
  poll(): Promise<void> | undefined {
    if (this.#pending) return this.#pending;
    if (!this.storage.externalChanges()) return undefined;
    this.#pending = this.notify().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Runs every listener now (also after this process's own writes that others cache). */
  async notify(): Promise<void> {
    await Promise.all([...this.#listeners].map(async (listener) => listener()));
  }
}
