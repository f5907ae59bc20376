import type { NewRevocation, RevocationEntry, RevocationStore, UserStore } from '../storage/index.js';
import { TokenError } from './errors.js';
import type { Principal } from './principal.js';

/**
 * Every revocation that can still match a live token, in memory, checked on every call.
 * Entries come from storage (the CLI, other nodes, the connected-clients page) and are dropped
 * once no token they could match is still alive (`expiresAt`). Disabled users are kept here
 * too: their tokens stop working even if they were minted by the CLI.
 */
export class RevocationList {
  readonly #tokens = new Map<string, number>();
  readonly #users = new Map<string, number>();
  readonly #clients = new Map<string, number>();
  readonly #grants = new Map<string, number>();
  #disabled = new Set<string>();
  #lastId = 0;
  #pruneAt = 0;
  #lastCutoff = 0;

  constructor(
    private readonly store: RevocationStore,
    private readonly users: Pick<UserStore, 'disabledNames'>,
    /** Side effects of a new entry (close MCP sessions, drop refresh-token families); may add follow-up entries to `list`. */
    private readonly onEntry: (entry: RevocationEntry, list: RevocationList) => void | Promise<void> = () => undefined,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Reads everything new since the last call (startup, and whenever another process wrote). */
  async refresh(): Promise<void> {
    const entries = await this.store.listSince(this.#lastId, this.clock());
    for (const entry of entries) await this.#apply(entry);
    this.#disabled = new Set(await this.users.disabledNames());
  }

  /** Records a revocation made in this process and applies it before returning. */
  async add(entry: NewRevocation): Promise<RevocationEntry> {
    const stored = await this.store.add(entry);
    // Entries from other processes may have landed in between: catch up in id order.
    await this.refresh();
    return stored;
  }

  /** Marks a user disabled in memory right away (the row is already written by the caller). */
  disable(sub: string): void {
    this.#disabled.add(sub);
  }

  /**
   * Resolves once the current second is later than the second of the newest user, client or
   * grant revocation. `iat` has one-second granularity, so a token signed in that second
   * would be refused as "issued before": the authorization server waits (at most a second,
   * and only right after a revocation) rather than hand out a token that cannot work.
   */
  async afterLatestCutoff(): Promise<void> {
    const wait = Math.floor(this.#lastCutoff / 1000) * 1000 + 1000 - this.clock();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 5));
  }

  get size(): number {
    return this.#tokens.size + this.#users.size + this.#clients.size + this.#grants.size + this.#disabled.size;
  }

  /** The PrincipalCheck: throws `auth.token_revoked` for a revoked token. Allocation-free. */
  readonly check = (principal: Principal): void => {
    const now = this.clock();
    if (now >= this.#pruneAt) this.#prune(now);
    if (this.#tokens.has(principal.jti) || this.#disabled.has(principal.sub)) throw new TokenError('auth.token_revoked');
    if (this.#revokedBefore(this.#users, principal.sub, principal.issuedAt)) throw new TokenError('auth.token_revoked');
    if (principal.clientId !== undefined && this.#revokedBefore(this.#clients, principal.clientId, principal.issuedAt))
      throw new TokenError('auth.token_revoked');
    // A token exchanged by a sub-agent names the agents before it in `act`: revoking one of
    // those clients revokes what was delegated from it too.
    for (const actor of principal.act) if (this.#revokedBefore(this.#clients, actor, principal.issuedAt)) throw new TokenError('auth.token_revoked');
    // A revoked grant can never legitimately mint again, so every token carrying it is refused,
    // whenever signed (a refresh racing the revocation cannot slip a token through).
    if (principal.grantId !== undefined && this.#grants.size > 0 && this.#grants.has(principal.grantId)) throw new TokenError('auth.token_revoked');
  };

  #revokedBefore(map: Map<string, number>, key: string, issuedAt: number): boolean {
    if (map.size === 0) return false;
    const revokedAt = map.get(key);
    // `iat` has one-second granularity: a token from the same second as the revocation is
    // treated as older (the authorization server waits out that second: afterLatestCutoff).
    return revokedAt !== undefined && issuedAt <= revokedAt;
  }

  async #apply(entry: RevocationEntry): Promise<void> {
    this.#lastId = Math.max(this.#lastId, entry.id);
    switch (entry.kind) {
      case 'token':
        this.#tokens.set(entry.value, entry.expiresAt);
        break;
      case 'user':
        this.#latest(this.#users, entry);
        break;
      case 'client':
        this.#latest(this.#clients, entry);
        break;
      case 'grant':
        this.#latest(this.#grants, entry);
        break;
      case 'session':
        break;
    }
    await this.onEntry(entry, this);
  }

  readonly #expiry = new Map<string, number>();

  #latest(map: Map<string, number>, entry: RevocationEntry): void {
    this.#lastCutoff = Math.max(this.#lastCutoff, entry.revokedAt);
    map.set(entry.value, Math.max(map.get(entry.value) ?? 0, entry.revokedAt));
    this.#expiry.set(`${entry.kind}\u0000${entry.value}`, Math.max(this.#expiry.get(`${entry.kind}\u0000${entry.value}`) ?? 0, entry.expiresAt));
  }

  #prune(now: number): void {
    this.#pruneAt = now + 30_000;
    for (const [jti, expiresAt] of this.#tokens) if (expiresAt <= now) this.#tokens.delete(jti);
    for (const [key, expiresAt] of this.#expiry) {
      if (expiresAt > now) continue;
      this.#expiry.delete(key);
      const [kind, value] = key.split('\u0000') as [string, string];
      (kind === 'user' ? this.#users : kind === 'client' ? this.#clients : this.#grants).delete(value);
    }
  }
}
