import { randomBytes } from 'node:crypto';
import type { Result, Tool } from '@modelcontextprotocol/sdk/types.js';
import { DatabaseError, Pool, type PoolClient, type QueryResult } from 'pg';
import { redactArguments } from '../../audit/index.js';
import type { PostgresServerConfig, PostgresSettings, PostgresStatementConfig } from '../../config/index.js';
import { ConfigError, InvalidParamsError, MethodNotFoundError, PolicyDeniedError, UpstreamError, RpcCode } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import type { CallContext } from '../../pipeline/index.js';
import type { LeaseRecord } from '../../storage/index.js';
import type { Broker, CredentialIssuer, Lease, LeaseRequest, MintPlan } from '../../vault/index.js';
import type { Catalog } from '../mcp-upstream/catalog.js';
import type { Connector, ConnectorOwner, ConnectorStatus } from '../types.js';
import { catalogCheckSql, catalogRefusal } from './catalog-check.js';
import { connectionBase, LEASED_ROLE_PREFIX, RoleManager } from './role-manager.js';
import { scramSha256Verifier } from './scram.js';
import { leftoverOf, sessionResetSql } from './session-reset.js';
import {
  analyzeStatement,
  compileDenyList,
  guardQuery,
  loadSqlParser,
  QueryRefusedError,
  type AnalyzedStatement,
  type DenyList,
  type GuardedQuery,
} from './sql-guard.js';
import { bindStatementArgs, DESCRIBE_INPUT_SCHEMA, parseDescribeArgs, parseQueryArgs, QUERY_INPUT_SCHEMA, statementInputSchema } from './tool-args.js';

/** What a lease holds in memory: the role, its password, and a small pool logged in as it. */
export interface PostgresCredential {
  role: string;
  password: string;
  templates: readonly string[];
  pool: Pool;
}

export interface PostgresConnectorDeps {
  log: Logger;
  broker: Broker;
  /** Resolves a config value that may be `vault:NAME` or `${VAR}` (the admin password), at use. */
  resolveSecret(value: string, where: string): Promise<string>;
  baseDir: string;
}

/**
 * Values come back as PostgreSQL prints them, except for types JSON can carry exactly:
 * booleans, 16/32-bit integers, finite floats and JSON documents. int8 and numeric stay text
 * (no precision loss); timestamps stay text (no time-zone reinterpretation).
 */
const PARSERS: Record<number, (value: string) => unknown> = {
  16: (v) => v === 't',
  21: Number,
  23: Number,
  26: Number,
  700: (v) => (Number.isFinite(Number(v)) ? Number(v) : v),
  701: (v) => (Number.isFinite(Number(v)) ? Number(v) : v),
  114: (v) => JSON.parse(v) as unknown,
  3802: (v) => JSON.parse(v) as unknown,
};
const TYPES = { getTypeParser: (oid: number) => PARSERS[oid] ?? ((v: string) => v) } as never;

/**
 * Context propagation: every transaction tells the database who and why. application_name is
 * session-level so `pg_stat_activity` keeps showing the last tool between calls; the
 * gatehouse.* settings are transaction-local (is_local = true), so they can never leak into
 * another transaction on the same connection. They are informational (logs, defaults for
 * audit columns): any session can set any setting, so access decisions use gatehouse.actor(),
 * which is bound to the login role (actor-binding.ts).
 */
const CONTEXT_SQL =
  "SELECT set_config('application_name', $1, false), set_config('gatehouse.actor', $2, true), set_config('gatehouse.purpose', $3, true), set_config('gatehouse.request_id', $4, true), set_config('statement_timeout', $5, true)";

const MAX_AUDIT_SQL = 16_384;
const GUARD_CACHE_SIZE = 1000;

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

function truncateBytes(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= max
    ? text
    : bytes
        .subarray(0, max)
        .toString('utf8')
        .replace(/\uFFFD$/, '');
}

/** A guard verdict with its catalog references serialized once (they go with every run of the text). */
interface CachedQuery extends GuardedQuery {
  refsJson: string;
}

/** What the catalog check needs to run ahead of a statement (query tool only). */
interface CatalogCheck {
  refs: GuardedQuery['refs'];
  refsJson: string;
}

interface DeclaredStatement {
  config: PostgresStatementConfig;
  analyzed: AnalyzedStatement;
  tool: Tool;
}

interface ContextValues {
  applicationName: string;
  actor: string;
  purpose: string;
  requestId: string;
}

/**
 * The built-in PostgreSQL tool runtime. Every call runs as a just-in-time login role minted
 * for the calling user (`gh_<user>_<random>`, `VALID UNTIL` the lease's end, `IN ROLE` the
 * template roles mapped from the user's groups), inside a transaction that carries the
 * actor, purpose and request id. Tools: `query` (one guarded, read-only SELECT), `describe`,
 * and the parameterized statements declared in config.
 */
export class PostgresConnector implements Connector, CredentialIssuer<PostgresCredential> {
  readonly kind = 'postgres';
  readonly settings: PostgresSettings;
  readonly defaultTtlMs: number;
  readonly renewMarginMs: number;
  readonly roles: RoleManager;
  readonly #deps: PostgresConnectorDeps;
  readonly #denyList: DenyList;
  readonly #statements = new Map<string, DeclaredStatement>();
  #tools: Tool[] = [];
  /**
   * Guard verdicts by exact SQL text. The parser costs ~0.1 ms per statement and agents
   * re-run the same parameterized text with new params; the guard is a pure function of the
   * text (and this connector's fixed deny-list), so a cached verdict is the same verdict.
   */
  readonly #guarded = new Map<string, CachedQuery | QueryRefusedError>();
  /** The catalog check's SQL for this connector (its allow-list is part of the text). */
  readonly #catalogCheckSql: string;
  #ready = false;
  #lastError: string | undefined;

  private constructor(
    readonly name: string,
    config: PostgresServerConfig,
    deps: PostgresConnectorDeps,
  ) {
    this.settings = config.postgres;
    this.#deps = deps;
    this.defaultTtlMs = this.settings.lease.ttl;
    this.renewMarginMs = Math.min(this.settings.query.statementTimeout + 1000, Math.floor(this.settings.lease.ttl / 2));
    this.#denyList = compileDenyList(this.settings.query.denyColumns);
    this.#catalogCheckSql = catalogCheckSql(this.settings.query.allowFunctions);
    this.roles = new RoleManager(
      this.settings,
      deps.baseDir,
      () => deps.resolveSecret(this.settings.admin.password, `servers.${name}.postgres.admin.password`),
      deps.log,
    );
  }

  /** Builds the connector and checks its declared statements with the SQL parser (ConfigError on a bad one). */
  static async create(name: string, config: PostgresServerConfig, deps: PostgresConnectorDeps): Promise<PostgresConnector> {
    await loadSqlParser();
    const connector = new PostgresConnector(name, config, deps);
    connector.#declare(config);
    deps.broker.register(name, connector as CredentialIssuer);
    return connector;
  }

  #declare(config: PostgresServerConfig): void {
    const issues: { path: string; message: string }[] = [];
    for (const [tool, statement] of Object.entries(config.postgres.statements)) {
      const where = `servers.${this.name}.postgres.statements.${tool}`;
      let analyzed: AnalyzedStatement;
      try {
        analyzed = analyzeStatement(statement.sql);
      } catch (error) {
        issues.push({ path: `${where}.sql`, message: (error as Error).message });
        continue;
      }
      if (analyzed.params !== statement.params.length) {
        issues.push({
          path: `${where}.params`,
          message: `the SQL uses ${analyzed.params} placeholder(s) but ${statement.params.length} param(s) are declared`,
        });
        continue;
      }
      const names = statement.params.map((p) => p.name);
      const dup = names.find((n, i) => names.indexOf(n) !== i);
      if (dup) {
        issues.push({ path: `${where}.params`, message: `parameter "${dup}" is declared twice` });
        continue;
      }
      const destructive = statement.destructive ?? analyzed.overwrites;
      const readOnly = analyzed.kind === 'select';
      this.#statements.set(tool, {
        config: statement,
        analyzed,
        tool: {
          name: tool,
          description: statement.description,
          inputSchema: statementInputSchema(statement) as Tool['inputSchema'],
          annotations: { readOnlyHint: readOnly, destructiveHint: destructive, idempotentHint: readOnly, openWorldHint: false },
        },
      });
    }
    if (issues.length > 0) {
      throw new ConfigError(`invalid configuration:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`, issues);
    }
    const q = this.settings.query;
    this.#tools = [
      {
        name: 'query',
        description:
          `Runs one read-only SELECT on the "${this.settings.database}" database as you (a short-lived database role mapped from your groups). ` +
          `At most ${q.maxRows} rows and ${Math.round(q.maxBytes / 1024)} KiB are returned (truncation is reported); statements time out after ${q.statementTimeout / 1000}s. ` +
          'Filter and aggregate in SQL rather than fetching whole tables. Pass values as $1, $2… with "params".',
        inputSchema: QUERY_INPUT_SCHEMA as Tool['inputSchema'],
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      },
      {
        name: 'describe',
        description: `Lists the tables and columns of "${this.settings.database}" that your database role can see.`,
        inputSchema: DESCRIBE_INPUT_SCHEMA as Tool['inputSchema'],
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      },
      ...[...this.#statements.values()].map((s) => s.tool),
    ];
  }

  // --- Connector ---------------------------------------------------------------------------

  async catalog(_owner: ConnectorOwner): Promise<Catalog> {
    return { tools: this.#tools, resources: [], resourceTemplates: [], prompts: [] };
  }

  instructions(): string | undefined {
    return undefined;
  }

  async start(): Promise<void> {
    try {
      await this.roles.probe();
      this.#ready = true;
      this.#lastError = undefined;
    } catch (error) {
      this.#ready = false;
      this.#lastError = (error as Error).message;
      this.#deps.log.error({ server: this.name, err: this.#lastError }, 'PostgreSQL connector not ready (admin connection or actor binding); calls will retry');
    }
  }

  async release(owner: ConnectorOwner, userHasOtherSessions: boolean): Promise<void> {
    if (!userHasOtherSessions) await this.#deps.broker.revokeActorOn(this.name, owner.sub, 'session ended');
  }

  async stop(): Promise<void> {
    await this.roles.close();
  }

  status(): ConnectorStatus {
    const leases = this.#deps.broker.active().filter((l) => l.connector === this.name).length;
    return {
      name: this.name,
      kind: this.kind,
      ready: this.#ready,
      detail: {
        kind: this.kind,
        database: this.settings.database,
        host: this.settings.host,
        activeLeases: leases,
        ...(this.#lastError ? { error: this.#lastError } : {}),
      },
    };
  }

  async execute(ctx: CallContext): Promise<Result> {
    if (ctx.op.method !== 'tools/call') throw new MethodNotFoundError(ctx.op.method);
    const args = ctx.op.args ?? {};
    switch (ctx.op.name) {
      case 'query':
        return this.#query(ctx, args);
      case 'describe':
        return this.#describe(ctx, args);
      default: {
        const statement = this.#statements.get(ctx.op.name);
        if (!statement) throw new InvalidParamsError('mcp.unknown_tool', `Unknown tool: ${ctx.op.id}`);
        return this.#statement(ctx, statement, args);
      }
    }
  }

  // --- CredentialIssuer --------------------------------------------------------------------

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
    this.#ready = true;
    const pool = new Pool({
      ...connectionBase(this.settings, this.#deps.baseDir),
      user: plan.resource,
      password,
      max: this.settings.lease.poolSize,
      idleTimeoutMillis: 60_000,
      connectionTimeoutMillis: 10_000,
      application_name: truncateBytes(`gatehouse:${request.actor.sub}`, 63),
      // A transaction left open (a bug, a hung client) must not pin a connection for the lease's life.
      options: `-c idle_in_transaction_session_timeout=${Math.max(1000, this.settings.query.statementTimeout * 2)}`,
      types: TYPES,
      // BEGIN, context and statement go out together and come back in one round trip.
      pipeline: true,
      allowExitOnIdle: true,
    });
    pool.on('error', (error) => this.#deps.log.debug({ server: this.name, role: plan.resource, err: error.message }, 'leased connection error'));
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
        this.#ready = true;
        this.#lastError = undefined;
      } catch (error) {
        this.#ready = false;
        this.#lastError = (error as Error).message;
        this.#deps.log.error({ server: this.name, err: this.#lastError }, 'PostgreSQL actor binding is not sound; leases cannot be minted');
      }
      return removed;
    } catch (error) {
      this.#ready = false;
      this.#lastError = (error as Error).message;
      throw error;
    }
  }

  secretsOf(credential: PostgresCredential): string[] {
    return [credential.password];
  }

  // --- tools ---------------------------------------------------------------------------------

  #context(ctx: CallContext, purpose: string): ContextValues {
    return {
      applicationName: truncateBytes(`gatehouse:${ctx.principal.sub}:${ctx.op.id}`, 63),
      actor: ctx.principal.sub,
      purpose,
      requestId: ctx.requestId,
    };
  }

  async #lease(ctx: CallContext): Promise<Lease<PostgresCredential>> {
    try {
      return await this.#deps.broker.leaseFor<PostgresCredential>(ctx);
    } catch (error) {
      if (error instanceof PolicyDeniedError || error instanceof InvalidParamsError) throw error;
      this.#ready = false;
      this.#lastError = (error as Error).message;
      throw error;
    }
  }

  /**
   * One transaction on the lease's pool: BEGIN, the context, the catalog check (for `query`)
   * and the statement are written together (node-postgres pipeline mode) and answered in one
   * round trip; the server runs them in order, so the statement always sees the context — and
   * if BEGIN, the context or the check failed, the statement fails too (the transaction is
   * aborted) and never runs. `finish` inspects the result (and may throw to roll back); then
   * COMMIT. After COMMIT or ROLLBACK the session is reset (session-reset.ts) before the
   * connection goes back to the pool. SQL errors roll back and come back to the agent as a
   * tool error with the database's own message.
   */
  async #transaction<T>(
    ctx: CallContext,
    readOnly: boolean,
    statement: (lease: Lease<PostgresCredential>, context: ContextValues) => { text: string; values: unknown[]; name?: string },
    finish: (result: QueryResult<unknown[]>, lease: Lease<PostgresCredential>) => T,
    check?: CatalogCheck,
  ): Promise<T> {
    const lease = await this.#lease(ctx);
    const purpose = (ctx.notes.lease as { purpose?: string } | undefined)?.purpose ?? ctx.op.id;
    const context = this.#context(ctx, purpose);
    let client: PoolClient;
    try {
      client = await lease.credential.pool.connect();
    } catch (error) {
      throw new UpstreamError('postgres.unavailable', `The database "${this.settings.database}" is unavailable.`, {
        rpcCode: RpcCode.UpstreamUnavailable,
        detail: { error: (error as Error).message, role: lease.resource },
      });
    }
    let broken: Error | undefined;
    // A revocation can terminate the session between two statements, when no query is there to
    // receive the error; the client then emits it, and it must not go unhandled.
    const onError = (error: Error) => {
      broken = error;
    };
    client.on('error', onError);
    const release = (error?: Error) => {
      client.off('error', onError);
      client.release(error ?? broken);
    };
    let ended: Promise<void> | undefined;
    try {
      const main = statement(lease, context);
      const queries: Promise<unknown>[] = [
        client.query(readOnly ? 'BEGIN READ ONLY' : 'BEGIN READ WRITE'),
        client.query({
          name: 'gatehouse_context',
          text: CONTEXT_SQL,
          values: [context.applicationName, context.actor, context.purpose, context.requestId, String(this.settings.query.statementTimeout)],
        }),
      ];
      if (check) queries.push(client.query({ name: 'gatehouse_catalog_check', text: this.#catalogCheckSql, values: [check.refsJson] }));
      queries.push(client.query<unknown[]>({ ...main, rowMode: 'array' }));
      const settled = await Promise.allSettled(queries);
      const failed = settled.findIndex((s) => s.status === 'rejected');
      if (failed >= 0) {
        const reason = (settled[failed] as PromiseRejectedResult).reason as unknown;
        if (check && failed === 2) throw this.#checkFailure(reason, check, lease);
        // BEGIN or the context failing means the connection is not in the state we left it in
        // (e.g. its prepared context statement is gone): close it rather than pool it.
        if (failed < 2) broken = reason as Error;
        throw reason;
      }
      const result = finish((settled[settled.length - 1] as PromiseFulfilledResult<QueryResult<unknown[]>>).value, lease);
      ended = this.#end(client, 'COMMIT', context, lease, release);
      // A read-only result is final: the COMMIT (and the reset) need not delay the answer. If the
      // COMMIT fails, #end has already closed the connection instead of pooling it.
      if (readOnly) ended.catch(() => undefined);
      else await ended;
      return result;
    } catch (error) {
      if (!ended) await this.#end(client, 'ROLLBACK', context, lease, release).catch(() => undefined);
      throw error;
    }
  }

  /**
   * COMMIT or ROLLBACK, then the session reset, pipelined; the connection is released when both
   * have answered — closed instead of pooled if either failed or the session kept any state.
   * Resolves when the COMMIT/ROLLBACK has.
   */
  #end(
    client: PoolClient,
    end: 'COMMIT' | 'ROLLBACK',
    context: ContextValues,
    lease: Lease<PostgresCredential>,
    release: (error?: Error) => void,
  ): Promise<void> {
    const ended = client.query(end);
    const reset = client.query(sessionResetSql(context.applicationName));
    void Promise.allSettled([ended, reset]).then(([e, r]) => {
      if (e.status === 'rejected') return release(e.reason as Error);
      if (r.status === 'rejected') return release(r.reason as Error);
      const leftover = leftoverOf(r.value);
      if (leftover) {
        this.#deps.log.warn({ server: this.name, role: lease.resource, leftover }, 'a leased connection kept session state after a call; closing it');
        return release(new Error(`session state left behind: ${leftover}`));
      }
      release();
    });
    return ended.then(() => undefined);
  }

  /** The catalog check failed: its verdict as a refusal, or (any other failure) an upstream error — the statement did not run either way. */
  #checkFailure(reason: unknown, check: CatalogCheck, lease: Lease<PostgresCredential>): Error {
    const refused = reason instanceof DatabaseError ? catalogRefusal(reason.message, check.refs) : undefined;
    if (refused) return refused;
    return new UpstreamError('postgres.check_failed', 'The query could not be checked against the database catalog, so it was not run.', {
      detail: { error: (reason as Error).message, role: lease.resource },
    });
  }

  #downstream(lease: Lease<PostgresCredential>, context: ContextValues, sql: string, params: unknown): Record<string, unknown> {
    return {
      system: 'postgresql',
      database: this.settings.database,
      host: this.settings.host,
      role: lease.resource,
      templates: lease.credential.templates,
      context: {
        application_name: context.applicationName,
        'gatehouse.actor': context.actor,
        'gatehouse.purpose': context.purpose,
        'gatehouse.request_id': context.requestId,
      },
      sql: truncateBytes(sql, MAX_AUDIT_SQL),
      params: redactArguments(params),
    };
  }

  #sqlError(ctx: CallContext, error: unknown): Result {
    if (!(error instanceof DatabaseError)) throw error;
    const downstream = ctx.notes.downstream as Record<string, unknown> | undefined;
    if (downstream) downstream.error = { sqlstate: error.code, message: error.message };
    const text = `PostgreSQL error ${error.code ?? ''}: ${error.message}${error.hint ? ` (hint: ${error.hint})` : ''}`;
    return { content: [{ type: 'text', text }], isError: true };
  }

  async #query(ctx: CallContext, args: Record<string, unknown>): Promise<Result> {
    const { sql, params } = parseQueryArgs(args);
    const guarded = this.#guard(sql);
    if (guarded.maxParam !== params.length) {
      throw new QueryRefusedError('postgres.params_mismatch', `The SQL uses ${guarded.maxParam} placeholder(s) but ${params.length} param(s) were given.`);
    }
    const { maxRows, maxBytes } = this.settings.query;
    // The row limit is enforced by the server (no more than maxRows + 1 rows ever leave it); the
    // statement itself is the guarded text, unchanged, as a subquery.
    const text = `SELECT * FROM (\n${guarded.text}\n) AS gatehouse_query LIMIT $${params.length + 1}`;
    try {
      return await this.#transaction(
        ctx,
        true,
        (lease, context) => {
          ctx.notes.downstream = this.#downstream(lease, context, text, [...params, maxRows + 1]);
          return { text, values: [...params, maxRows + 1] };
        },
        (result) => {
          const columns = result.fields.map((f) => f.name);
          const rows: unknown[][] = [];
          let bytes = 0;
          let truncated: string | undefined;
          for (const row of result.rows) {
            if (rows.length >= maxRows) {
              truncated = `row limit: only the first ${maxRows} rows are returned`;
              break;
            }
            const size = Buffer.byteLength(JSON.stringify(row));
            if (bytes + size > maxBytes) {
              truncated = `size limit: only the first ${rows.length} rows (${bytes} bytes) fit in ${maxBytes} bytes`;
              break;
            }
            bytes += size;
            rows.push(row);
          }
          Object.assign(ctx.notes.downstream as object, { rowCount: rows.length, truncated: truncated !== undefined });
          const payload = { columns, rows, rowCount: rows.length, truncated: truncated !== undefined, ...(truncated ? { truncation: truncated } : {}) };
          return { content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload };
        },
        { refs: guarded.refs, refsJson: guarded.refsJson },
      );
    } catch (error) {
      return this.#sqlError(ctx, error);
    }
  }

  #guard(sql: string): CachedQuery {
    let verdict = this.#guarded.get(sql);
    if (verdict === undefined) {
      try {
        const guarded = guardQuery(sql, this.#denyList);
        verdict = { ...guarded, refsJson: JSON.stringify(guarded.refs) };
      } catch (error) {
        if (!(error instanceof QueryRefusedError)) throw error;
        verdict = error;
      }
      if (this.#guarded.size >= GUARD_CACHE_SIZE) this.#guarded.delete(this.#guarded.keys().next().value as string);
      this.#guarded.set(sql, verdict);
    } else {
      // Least recently used goes first: re-insert on every hit.
      this.#guarded.delete(sql);
      this.#guarded.set(sql, verdict);
    }
    if (verdict instanceof QueryRefusedError) throw new QueryRefusedError(verdict.reason, verdict.message);
    return verdict;
  }

  async #describe(ctx: CallContext, args: Record<string, unknown>): Promise<Result> {
    const { schema, table } = parseDescribeArgs(args);
    const text = `SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.is_nullable
  FROM information_schema.columns c
 WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')
   AND ($1::text IS NULL OR c.table_schema = $1)
   AND ($2::text IS NULL OR c.table_name = $2)
 ORDER BY c.table_schema, c.table_name, c.ordinal_position
 LIMIT 5000`;
    try {
      return await this.#transaction(
        ctx,
        true,
        (lease, context) => {
          ctx.notes.downstream = this.#downstream(lease, context, text, [schema, table]);
          return { text, values: [schema, table], name: 'gatehouse_describe' };
        },
        (result) => {
          const tables = new Map<string, { schema: string; table: string; columns: { name: string; type: string; nullable: boolean }[] }>();
          let hidden = 0;
          for (const [tableSchema, tableName, columnName, dataType, isNullable] of result.rows as string[][]) {
            const denied = this.#denyList.entries.some(
              (e) =>
                e.table === (tableName as string).toLowerCase() &&
                (e.schema === undefined || e.schema === (tableSchema as string).toLowerCase()) &&
                e.columns.has((columnName as string).toLowerCase()),
            );
            if (denied) {
              hidden++;
              continue;
            }
            const key = `${tableSchema}.${tableName}`;
            let entry = tables.get(key);
            if (!entry) tables.set(key, (entry = { schema: tableSchema as string, table: tableName as string, columns: [] }));
            entry.columns.push({ name: columnName as string, type: dataType as string, nullable: isNullable === 'YES' });
          }
          Object.assign(ctx.notes.downstream as object, { rowCount: result.rowCount ?? 0 });
          const payload = {
            database: this.settings.database,
            tables: [...tables.values()],
            ...(hidden > 0 ? { note: `${hidden} column(s) are not readable through this tool` } : {}),
          };
          return { content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload };
        },
      );
    } catch (error) {
      return this.#sqlError(ctx, error);
    }
  }

  async #statement(ctx: CallContext, statement: DeclaredStatement, args: Record<string, unknown>): Promise<Result> {
    const values = bindStatementArgs(statement.config, args);
    const named = Object.fromEntries(statement.config.params.map((p, i) => [p.name, values[i]]));
    const readOnly = statement.analyzed.kind === 'select';
    const maxRows = this.settings.query.maxRows;
    try {
      return await this.#transaction(
        ctx,
        readOnly,
        (lease, context) => {
          ctx.notes.downstream = this.#downstream(lease, context, statement.analyzed.text, named);
          return { name: `gatehouse_stmt_${ctx.op.name}`, text: statement.analyzed.text, values };
        },
        (result) => {
          const affected = result.rowCount ?? 0;
          Object.assign(ctx.notes.downstream as object, { rowsAffected: affected });
          if (statement.config.maxRows !== undefined && affected > statement.config.maxRows) {
            // Thrown before COMMIT: the transaction is rolled back, nothing changed.
            (ctx.notes.downstream as Record<string, unknown>).rolledBack = true;
            throw new PolicyDeniedError(
              'postgres.too_many_rows',
              `The statement would affect ${affected} rows; at most ${statement.config.maxRows} are allowed. Nothing was changed.`,
            );
          }
          const columns = result.fields.map((f) => f.name);
          const rows = result.rows.slice(0, maxRows);
          const payload = {
            rowsAffected: affected,
            ...(columns.length > 0 ? { columns, rows, truncated: result.rows.length > rows.length } : {}),
          };
          return { content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload };
        },
      );
    } catch (error) {
      return this.#sqlError(ctx, error);
    }
  }
}
