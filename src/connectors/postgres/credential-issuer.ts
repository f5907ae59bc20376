import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import type { PostgresSettings } from '../../config/index.js';
import { PolicyDeniedError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import type { LeaseRecord } from '../../storage/index.js';
import type { CredentialIssuer, Lease, LeaseRequest, MintPlan } from '../../vault/index.js';
import type { ConnectorHealth } from './health.js';
import { connectionBase, LEASED_ROLE_PREFIX, RoleManager } from './role-manager.js';
import { scramSha256Verifier } from './scram.js';
import { truncateBytes } from './truncate-bytes.js';
import { PG_TYPES } from './type-parsers.js';

/** What a lease holds in memory: the role, its password, and a small pool logged in as it. */
export interface PostgresCredential {
  role: string;
  password: string;
  templates: readonly string[];
  pool: Pool;
}

export interface PostgresIssuerDeps {
  log: Logger;
  /** Resolves the admin password (`vault:NAME` or `${VAR}`) when the admin connection opens. */
  resolveAdminPassword(): Promise<string>;
  baseDir: string;
}

function sanitizeForRole(sub: string): string {
  const cleaned = sub
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|(?<!_)_+$/g, '');
  return (cleaned || 'user').slice(0, 24);
}

function randomSuffix(): string {
  // 40 random bits, base32 lower-case: readable in pg_stat_activity, unguessable enough to never collide.
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = randomBytes(8);
  let out = '';
  for (let i = 0; i < 8; i++) out += alphabet[(bytes[i] as number) & 31];
  return out;
}

/**
 * Mints a just-in-time login role per user (`gh_<user>_<random>`, `VALID UNTIL` the lease's
 * end, `IN ROLE` the template roles mapped from the user's groups) with a small pool logged in
 * as it, and drops the role when the lease ends.
 */
export class PostgresCredentialIssuer implements CredentialIssuer<PostgresCredential> {
  readonly defaultTtlMs: number;
  readonly renewMarginMs: number;
  readonly roles: RoleManager;

  constructor(
    readonly name: string,
    readonly settings: PostgresSettings,
    readonly health: ConnectorHealth,
    private readonly deps: PostgresIssuerDeps,
  ) {
    this.defaultTtlMs = settings.lease.ttl;
    this.renewMarginMs = Math.min(settings.query.statementTimeout + 1000, Math.floor(settings.lease.ttl / 2));
    this.roles = new RoleManager(settings, deps.baseDir, deps.resolveAdminPassword, deps.log);
  }

  templatesFor(groups: readonly string[]): string[] {
    const templates = new Set<string>();
    for (const group of groups) {
      const role = this.settings.roles[group];
      if (role) templates.add(role);
    }
    if (templates.size === 0 && this.settings.defaultRole) templates.add(this.settings.defaultRole);
    return [...templates].sort();
  }

  leaseKey(request: LeaseRequest): string {
    const templates = this.templatesFor(request.actor.groups);
    if (templates.length === 0) {
      throw new PolicyDeniedError('postgres.no_role', `No database role is mapped to your groups for "${this.name}".`);
    }
    return `${request.actor.sub}\0${templates.join(',')}`;
  }

  resourceName(request: LeaseRequest, _leaseId: string): string {
    return `${LEASED_ROLE_PREFIX}${sanitizeForRole(request.actor.sub)}_${randomSuffix()}`;
  }

  async mint(request: LeaseRequest, plan: MintPlan): Promise<PostgresCredential> {
    const templates = this.templatesFor(request.actor.groups);
    const password = randomBytes(32).toString('base64url');
    await this.roles.createRole({
      name: plan.resource,
      verifier: scramSha256Verifier(password),
      expiresAt: plan.expiresAt,
      templates,
      connectionLimit: this.settings.lease.poolSize,
      leaseId: plan.leaseId,
      actor: request.actor.sub,
    });
    this.health.ready = true;
    const pool = new Pool({
      ...connectionBase(this.settings, this.deps.baseDir),
      user: plan.resource,
      password,
      max: this.settings.lease.poolSize,
      idleTimeoutMillis: 60_000,
      connectionTimeoutMillis: 10_000,
      application_name: truncateBytes(`gatehouse:${request.actor.sub}`, 63),
      // A transaction left open (a bug, a hung client) must not pin a connection for the lease's life.
      options: `-c idle_in_transaction_session_timeout=${Math.max(1000, this.settings.query.statementTimeout * 2)}`,
      types: PG_TYPES,
      // BEGIN, context and statement go out together and come back in one round trip.
      pipeline: true,
      allowExitOnIdle: true,
    });
    pool.on('error', (error) => this.deps.log.debug({ server: this.name, role: plan.resource, err: error.message }, 'leased connection error'));
    return { role: plan.resource, password, templates, pool };
  }

  async revoke(lease: Lease<PostgresCredential>, _reason: string): Promise<void> {
    // Our own connections close first (a clean Terminate); whatever is still busy after a
    // moment — or was opened elsewhere with the role — is terminated by the admin, then the
    // role is dropped.
    await Promise.race([lease.credential.pool.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 500).unref())]);
    await this.roles.dropRole(lease.resource);
  }

  async cleanup(record: LeaseRecord): Promise<void> {
    await this.roles.dropRole(record.resource);
  }

  /** Runs with the janitor (every minute): also keeps readiness current while no one calls. */
  async sweep(): Promise<string[]> {
    try {
      const removed = await this.roles.sweepExpired();
      try {
        await this.roles.verifyActorBinding();
        this.health.ok();
      } catch (error) {
        const err = this.health.failed(error);
        this.deps.log.error({ server: this.name, err }, 'PostgreSQL actor binding is not sound; leases cannot be minted');
      }
      return removed;
    } catch (error) {
      this.health.failed(error);
      throw error;
    }
  }

  secretsOf(credential: PostgresCredential): string[] {
    return [credential.password];
  }
}
