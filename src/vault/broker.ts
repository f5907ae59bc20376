import { randomUUID } from 'node:crypto';
import { AuditKind, type AuditLog, namedActor } from '../audit/index.js';
import { GatehouseError, PolicyDeniedError, RpcCode, type GatehouseErrorOptions } from '../errors/index.js';
import { registerCredential, unregisterCredential, type Logger } from '../log/index.js';
import type { LeaseRecord, LeaseStore } from '../storage/index.js';

/** Just-in-time credentials live 5 minutes by default and an hour at most: long enough for a task, too short to be worth stealing. */
export const DEFAULT_LEASE_TTL_MS = 5 * 60_000;
export const MAX_LEASE_TTL_MS = 60 * 60_000;

export class BrokerError extends GatehouseError {
  constructor(code: string, message: string, options?: GatehouseErrorOptions & { status?: number; rpcCode?: number }) {
    super(code, message, options?.status ?? 503, options?.rpcCode ?? RpcCode.UpstreamUnavailable, options);
  }
}

export interface LeaseActor {
  sub: string;
  groups: readonly string[];
}

export interface LeaseRequest {
  actor: LeaseActor;
  /** The configured server the credential is for. */
  connector: string;
  /** Why: the tool and, when the client stated one, its reason. Recorded, never trusted for authorization. */
  purpose: string;
  ttlMs?: number | undefined;
  /** The request that caused the lease (audit correlation). */
  requestId?: string | undefined;
}

/** A brokered credential. `credential` lives in memory only; everything else is recorded. */
export interface Lease<C = unknown> {
  readonly id: string;
  readonly actor: LeaseActor;
  readonly connector: string;
  readonly purpose: string;
  /** What exists downstream because of this lease (e.g. the PostgreSQL role name). */
  readonly resource: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly credential: C;
  revoked: boolean;
}

export interface MintPlan {
  leaseId: string;
  resource: string;
  expiresAt: number;
  ttlMs: number;
}

/** What a connector implements to have credentials minted just in time. */
export interface CredentialIssuer<C = unknown> {
  /** Default TTL for this connector's leases. */
  readonly defaultTtlMs: number;
  /** A lease is not handed out for a new call once less than this remains (the call must finish inside it). */
  readonly renewMarginMs: number;
  /** Requests with equal keys share a warm lease (e.g. same user, same template roles). Throws to refuse. */
  leaseKey(request: LeaseRequest): string;
  /** Names the downstream resource before it exists, so it is recorded durably first. */
  resourceName(request: LeaseRequest, leaseId: string): string;
  mint(request: LeaseRequest, plan: MintPlan): Promise<C>;
  /** Ends the lease downstream: sessions terminated, credential destroyed. */
  revoke(lease: Lease<C>, reason: string): Promise<void>;
  /** Cleans up after a lease known only from its record (left by a crash). */
  cleanup(record: LeaseRecord): Promise<void>;
  /** Removes expired leftovers found in the downstream system itself; returns what was removed. */
  sweep?(): Promise<string[]>;
  /** Secrets inside a credential, to register with (and later remove from) the redactor. */
  secretsOf?(credential: C): string[];
}

export interface BrokerOptions {
  store: LeaseStore;
  audit: AuditLog;
  log: Logger;
  /** Identifies this process's run; the janitor cleans leases of other (dead) runs. */
  instanceId?: string;
  now?: () => number;
  /** How often expired leftovers are looked for (default 60 s). */
  janitorIntervalMs?: number;
  /**
   * `host` (default): every process sharing the lease store runs on this machine (embedded
   * SQLite), so a lease whose owner pid is gone was left behind and is cleaned at once.
   * `cluster`: nodes on other machines share the store; their pids mean nothing here, so
   * another node's lease is cleaned only once it has expired (its role's VALID UNTIL has passed
   * too, so nothing that still works is taken away from a live node).
   */
  leaseOwners?: 'host' | 'cluster';
  /**
   * Runs one janitor pass at a time across every process sharing the store (a cluster-wide
   * try-lock): resolves undefined without running `fn` when another node's pass holds it.
   */
  exclusive?: <T>(name: string, fn: () => Promise<T>) => Promise<T | undefined>;
}

/** A call's entitlement to a credential: what the broker stage granted, and the lease once minted. */
export interface CredentialEntitlement {
  readonly request: LeaseRequest;
  lease: Lease | undefined;
}

/**
 * A call as the broker sees it (the pipeline's call context fits): the entitlement rides on the
 * call itself, and the lease it used is noted for the outcome record.
 */
export interface EntitledCall {
  readonly requestId: string;
  readonly op: { readonly id: string };
  readonly notes: { lease?: { id: string; resource: string; expiresAt: number; purpose: string } };
  credential?: CredentialEntitlement | undefined;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The just-in-time credential broker: `credentialFor({ actor, connector, purpose, ttl })`
 * returns a lease. Leases are recorded durably (without secrets) before anything is created
 * downstream, reused while warm, and revoked at expiry, on `revokeActor` (user revoked), at
 * shutdown, and — for leases a crashed process left behind — by the janitor on the next
 * start. Every issue, use and revocation is an audit record with the actor and purpose.
 */
export class Broker {
  readonly instanceId: string;
  readonly #issuers = new Map<string, CredentialIssuer>();
  readonly #leases = new Map<string, Lease>();
  /** connector + lease key → the warm lease. */
  readonly #warm = new Map<string, Lease>();
  readonly #minting = new Map<string, Promise<Lease>>();
  readonly #revoking = new Map<string, Promise<boolean>>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #store: LeaseStore;
  readonly #audit: AuditLog;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #janitorIntervalMs: number;
  readonly #leaseOwners: 'host' | 'cluster';
  readonly #exclusive: NonNullable<BrokerOptions['exclusive']>;
  #janitorTimer: NodeJS.Timeout | undefined;
  #janitorRunning: Promise<unknown> | undefined;
  #closed = false;

  constructor(options: BrokerOptions) {
    this.#store = options.store;
    this.#audit = options.audit;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.instanceId = options.instanceId ?? randomUUID();
    this.#janitorIntervalMs = options.janitorIntervalMs ?? 60_000;
    this.#leaseOwners = options.leaseOwners ?? 'host';
    this.#exclusive = options.exclusive ?? ((_name, fn) => fn());
  }

  register(connector: string, issuer: CredentialIssuer): void {
    this.#issuers.set(connector, issuer);
  }

  handles(connector: string): boolean {
    return this.#issuers.has(connector);
  }

  /** Active leases (status pages, tests). Credentials stay inside. */
  active(): Lease[] {
    return [...this.#leases.values()].filter((l) => !l.revoked);
  }

  #issuer(connector: string): CredentialIssuer {
    const issuer = this.#issuers.get(connector);
    if (!issuer) throw new BrokerError('broker.unknown_connector', `No credential issuer for "${connector}".`);
    return issuer;
  }

  /** A lease for `request`: the warm one if it has enough life left, else a new one. */
  async credentialFor<C = unknown>(request: LeaseRequest): Promise<Lease<C>> {
    if (this.#closed) throw new BrokerError('broker.closed', 'The credential broker is shutting down.');
    const issuer = this.#issuer(request.connector);
    const ttlMs = request.ttlMs ?? issuer.defaultTtlMs;
    if (!Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > MAX_LEASE_TTL_MS) {
      throw new BrokerError('broker.ttl_invalid', `A lease lives between 1 ms and ${MAX_LEASE_TTL_MS / 60_000} minutes; ${ttlMs} ms was asked for.`, {
        status: 400,
        rpcCode: RpcCode.InvalidParams,
      });
    }
    const key = `${request.connector}\0${issuer.leaseKey(request)}`;
    const warm = this.#warm.get(key);
    if (warm && !warm.revoked && warm.expiresAt - this.#now() > issuer.renewMarginMs) return warm as Lease<C>;
    let pending = this.#minting.get(key);
    if (!pending) {
      pending = this.#mint(issuer, request, ttlMs).finally(() => this.#minting.delete(key));
      this.#minting.set(key, pending);
      const lease = await pending;
      this.#warm.set(key, lease);
      return lease as Lease<C>;
    }
    return (await pending) as Lease<C>;
  }

  async #mint(issuer: CredentialIssuer, request: LeaseRequest, ttlMs: number): Promise<Lease> {
    const id = randomUUID();
    const issuedAt = this.#now();
    const expiresAt = issuedAt + ttlMs;
    const resource = issuer.resourceName(request, id);
    const record: LeaseRecord = {
      id,
      connector: request.connector,
      actor: request.actor.sub,
      purpose: request.purpose,
      resource,
      issuedAt,
      expiresAt,
      state: 'active',
      revokedAt: null,
      revokeReason: null,
      ownerPid: process.pid,
      ownerInstance: this.instanceId,
    };
    // Durable before the credential exists: a crash from here on leaves a record the janitor finds.
    await this.#store.insert(record);
    let credential: unknown;
    try {
      credential = await issuer.mint(request, { leaseId: id, resource, expiresAt, ttlMs });
    } catch (error) {
      await issuer.cleanup(record).catch(() => undefined);
      await this.#store.markRevoked(id, this.#now(), 'mint failed');
      this.#log.error({ connector: request.connector, lease: id, err: (error as Error).message }, 'lease mint failed');
      if (error instanceof PolicyDeniedError) throw error;
      // The cause (a missing vault secret, a database error) is for the operator's log, not the agent.
      throw new BrokerError('broker.mint_failed', `Could not obtain a credential for "${request.connector}".`, {
        cause: error,
        detail: { error: (error as Error).message },
      });
    }
    for (const value of issuer.secretsOf?.(credential) ?? []) registerCredential(value);
    const lease: Lease = {
      id,
      actor: { sub: request.actor.sub, groups: [...request.actor.groups] },
      connector: request.connector,
      purpose: request.purpose,
      resource,
      issuedAt,
      expiresAt,
      credential,
      revoked: false,
    };
    this.#leases.set(id, lease);
    const timer = setTimeout(() => void this.revoke(id, 'expired'), Math.max(0, expiresAt - this.#now()));
    timer.unref();
    this.#timers.set(id, timer);
    await this.#audit.append(
      AuditKind.LeaseIssue,
      {
        requestId: request.requestId,
        actor: namedActor(request.actor.sub, { groups: request.actor.groups }),
        target: { server: request.connector },
        purpose: request.purpose,
        lease: { id, resource, issuedAt, expiresAt, ttlMs },
      },
      // Group-committed with the call's records (the lease row above is already durable, so a
      // crash in between still leaves a trace that the janitor revokes and audits).
      { durable: false },
    );
    this.#log.info({ connector: request.connector, lease: id, resource, actor: request.actor.sub, ttlMs }, 'lease issued');
    return lease;
  }

  /** Revokes one lease downstream; idempotent (a second call waits for the first). */
  revoke(id: string, reason: string): Promise<boolean> {
    const inflight = this.#revoking.get(id);
    if (inflight) return inflight;
    const lease = this.#leases.get(id);
    if (!lease || lease.revoked) return Promise.resolve(false);
    lease.revoked = true;
    const done = this.#revoke(lease, reason).finally(() => this.#revoking.delete(id));
    this.#revoking.set(id, done);
    return done;
  }

  async #revoke(lease: Lease, reason: string): Promise<boolean> {
    const id = lease.id;
    const timer = this.#timers.get(id);
    if (timer) clearTimeout(timer);
    this.#timers.delete(id);
    for (const [key, warm] of this.#warm) if (warm.id === id) this.#warm.delete(key);
    const issuer = this.#issuers.get(lease.connector);
    const lifecycle = { id, resource: lease.resource, issuedAt: lease.issuedAt, expiresAt: lease.expiresAt };
    try {
      await issuer?.revoke(lease, reason);
    } catch (error) {
      // Left open in the store: the janitor retries, and the credential's own expiry still holds.
      this.#log.error({ connector: lease.connector, lease: id, err: (error as Error).message }, 'lease revocation failed; the janitor will retry');
      void this.#audit.append(
        AuditKind.LeaseRevokeFailed,
        {
          actor: namedActor(lease.actor.sub),
          target: { server: lease.connector },
          purpose: lease.purpose,
          lease: lifecycle,
          reason,
          error: (error as Error).message,
        },
        { durable: false },
      );
      this.#leases.delete(id);
      return false;
    }
    for (const value of issuer?.secretsOf?.(lease.credential) ?? []) unregisterCredential(value);
    this.#leases.delete(id);
    await this.#store.markRevoked(id, this.#now(), reason);
    await this.#audit
      .append(
        AuditKind.LeaseRevoke,
        {
          actor: namedActor(lease.actor.sub),
          target: { server: lease.connector },
          purpose: lease.purpose,
          lease: { ...lifecycle, revokedAt: this.#now() },
          reason,
        },
        { durable: true },
      )
      .catch(() => undefined);
    this.#log.info({ connector: lease.connector, lease: id, resource: lease.resource, reason }, 'lease revoked');
    return true;
  }

  async #revokeWhere(match: (lease: Lease) => boolean, reason: string): Promise<number> {
    const targets = [...this.#leases.values()].filter((l) => !l.revoked && match(l));
    const results = await Promise.all(targets.map((l) => this.revoke(l.id, reason)));
    return results.filter(Boolean).length;
  }

  /** For identity: the user was revoked or disabled. Every lease of `sub` ends now. */
  revokeActor(sub: string, reason = 'actor revoked'): Promise<number> {
    return this.#revokeWhere((l) => l.actor.sub === sub, reason);
  }

  /** A user's last session on a connector ended. */
  revokeActorOn(connector: string, sub: string, reason = 'session ended'): Promise<number> {
    return this.#revokeWhere((l) => l.actor.sub === sub && l.connector === connector, reason);
  }

  /** Shutdown: every lease ends, then no more are issued. */
  async close(reason = 'shutdown'): Promise<number> {
    this.#closed = true;
    if (this.#janitorTimer) clearInterval(this.#janitorTimer);
    this.#janitorTimer = undefined;
    await this.#janitorRunning?.catch(() => undefined);
    await Promise.allSettled([...this.#minting.values()]);
    const revoked = await this.#revokeWhere(() => true, reason);
    // Revocations already under way (a session that just ended) finish before the admin connection closes.
    await Promise.allSettled([...this.#revoking.values()]);
    return revoked;
  }

  /**
   * Cleans up after crashes: open lease records of other runs whose process is gone (or that
   * have expired), then whatever each issuer finds expired downstream. Safe to run repeatedly.
   */
  janitor(): Promise<{ cleaned: number; failed: number; swept: number }> {
    // Another node's pass is under way: it does this pass's work.
    const run = this.#exclusive('lease-janitor', () => this.#runJanitor()).then((report) => report ?? { cleaned: 0, failed: 0, swept: 0 });
    this.#janitorRunning = run.catch(() => undefined);
    return run;
  }

  async #runJanitor(): Promise<{ cleaned: number; failed: number; swept: number }> {
    let cleaned = 0;
    let failed = 0;
    let swept = 0;
    const now = this.#now();
    for (const record of await this.#store.open()) {
      const ours = record.ownerInstance === this.instanceId;
      if (ours && this.#leases.has(record.id)) continue;
      const expired = record.expiresAt <= now;
      if (!ours && !expired && (this.#leaseOwners === 'cluster' || (isAlive(record.ownerPid) && record.ownerPid !== process.pid))) continue;
      const issuer = this.#issuers.get(record.connector);
      if (!issuer) {
        this.#log.warn(
          { lease: record.id, connector: record.connector, resource: record.resource },
          'a lease left behind belongs to a connector that is not configured; it cannot be cleaned up here',
        );
        failed++;
        continue;
      }
      try {
        await issuer.cleanup(record);
      } catch (error) {
        this.#log.warn({ lease: record.id, connector: record.connector, err: (error as Error).message }, 'janitor could not clean up a lease; will retry');
        failed++;
        continue;
      }
      const reason = ours
        ? 'janitor: revocation retried'
        : this.#leaseOwners === 'cluster'
          ? 'janitor: expired, left behind by another node or run'
          : 'janitor: left behind by a previous run';
      await this.#store.markRevoked(record.id, this.#now(), reason);
      await this.#audit
        .append(
          AuditKind.LeaseRevoke,
          {
            actor: namedActor(record.actor),
            target: { server: record.connector },
            purpose: record.purpose,
            lease: {
              id: record.id,
              resource: record.resource,
              issuedAt: record.issuedAt,
              expiresAt: record.expiresAt,
              revokedAt: this.#now(),
              ownerPid: record.ownerPid,
            },
            reason,
          },
          { durable: true },
        )
        .catch(() => undefined);
      this.#log.info(
        { lease: record.id, connector: record.connector, resource: record.resource, ownerPid: record.ownerPid },
        'janitor revoked a lease left behind',
      );
      cleaned++;
    }
    for (const [connector, issuer] of this.#issuers) {
      if (!issuer.sweep) continue;
      try {
        const removed = await issuer.sweep();
        if (removed.length > 0) {
          swept += removed.length;
          await this.#audit
            .append(AuditKind.LeaseSweep, { target: { server: connector }, removed, reason: 'expired leftovers found downstream' }, { durable: false })
            .catch(() => undefined);
          this.#log.info({ connector, removed }, 'janitor removed expired leftovers');
        }
      } catch (error) {
        this.#log.warn({ connector, err: (error as Error).message }, 'janitor sweep failed; will retry');
      }
    }
    return { cleaned, failed, swept };
  }

  /** Runs the janitor now (in the background) and then every interval. */
  startJanitor(): void {
    const run = () => {
      if (this.#closed) return;
      void this.janitor().catch((error: unknown) => this.#log.warn({ err: (error as Error).message }, 'janitor failed'));
    };
    run();
    this.#janitorTimer = setInterval(run, this.#janitorIntervalMs);
    this.#janitorTimer.unref();
  }

  // --- the pipeline's view -------------------------------------------------------------

  /** The broker stage marks a call as entitled to a credential; nothing is minted yet. */
  attach(call: EntitledCall, request: LeaseRequest): void {
    call.credential = { request, lease: undefined };
  }

  /**
   * The lease for a call the broker stage attached, minted or reused on first need (a call
   * refused by the connector's own checks never creates a credential). Records the use.
   */
  async leaseFor<C = unknown>(ctx: EntitledCall): Promise<Lease<C>> {
    const attachment = ctx.credential;
    if (!attachment)
      throw new BrokerError('broker.no_credential', 'No credential was brokered for this call.', { status: 500, rpcCode: RpcCode.InternalError });
    if (attachment.lease && !attachment.lease.revoked) return attachment.lease as Lease<C>;
    const lease = await this.credentialFor<C>(attachment.request);
    attachment.lease = lease;
    ctx.notes.lease = { id: lease.id, resource: lease.resource, expiresAt: lease.expiresAt, purpose: attachment.request.purpose };
    void this.#audit
      .append(
        AuditKind.LeaseUse,
        {
          requestId: ctx.requestId,
          actor: namedActor(lease.actor.sub),
          target: { server: lease.connector, tool: ctx.op.id },
          purpose: attachment.request.purpose,
          lease: { id: lease.id, resource: lease.resource, expiresAt: lease.expiresAt },
        },
        { durable: false },
      )
      .catch(() => undefined);
    return lease;
  }
}
