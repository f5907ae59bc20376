import type { McpSession } from '../session.js';

/**
 * The modern revision has no sessions, but Gatehouse's per-caller state (the filtered catalog,
 * upstream instances of per-user servers, in-flight accounting, revocation) is organised around
 * one. Each (user, client, grant) pair gets one internal session, created from the verified token
 * alone and rebuilt on demand, so any node can serve any request: the client never sees its id
 * and cannot choose it. The sessions live in the ordinary registry, so revocation, idle expiry,
 * the per-user cap and shutdown apply to them as to any other.
 */
export class StatelessPool {
  readonly #byCaller = new Map<string, McpSession>();

  static key(sub: string, clientId: string | undefined, grantId: string | undefined): string {
    return JSON.stringify([sub, clientId ?? '', grantId ?? '']);
  }

  get(key: string): McpSession | undefined {
    const session = this.#byCaller.get(key);
    if (session?.closed) {
      this.#byCaller.delete(key);
      return undefined;
    }
    return session;
  }

  set(key: string, session: McpSession): void {
    this.#byCaller.set(key, session);
  }

  /** A session closed (revoked, idle, evicted): the next request builds a fresh one. */
  forget(session: McpSession): void {
    for (const [key, held] of this.#byCaller) if (held === session) this.#byCaller.delete(key);
  }

  get size(): number {
    return this.#byCaller.size;
  }
}
