import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { DatabaseError, type PoolClient, type QueryResult } from 'pg';
import { redactArguments } from '../../audit/index.js';
import type { PostgresSettings } from '../../config/index.js';
import { InvalidParamsError, PolicyDeniedError, RpcCode, UpstreamError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import type { CallContext } from '../../pipeline/index.js';
import type { Broker, Lease } from '../../vault/index.js';
import { catalogCheckSql, catalogRefusal } from './catalog-check.js';
import type { PostgresCredential } from './credential-issuer.js';
import type { ConnectorHealth } from './health.js';
import { leftoverOf, sessionResetSql } from './session-reset.js';
import type { GuardedQuery } from './sql-guard.js';
import { truncateBytes } from './truncate-bytes.js';

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

/** What the catalog check needs to run ahead of a statement (query tool only). */
export interface CatalogCheck {
  refs: GuardedQuery['refs'];
  refsJson: string;
}

export interface ContextValues {
  applicationName: string;
  actor: string;
  purpose: string;
  requestId: string;
}

/** The statement of one tool call, built once the lease (and so the role) is known. */
export type StatementBuilder = (lease: Lease<PostgresCredential>, context: ContextValues) => { text: string; values: unknown[]; name?: string };

export interface TransactionDeps {
  broker: Broker;
  health: ConnectorHealth;
  log: Logger;
}

/**
 * Runs each tool call in one transaction on the caller's leased role, and describes it for the
 * audit record. Shared by every tool of one connector.
 */
export class LeasedTransactions {
  /** The catalog check's SQL for this connector (its allow-list is part of the text). */
  readonly #catalogCheckSql: string;

  constructor(
    readonly name: string,
    readonly settings: PostgresSettings,
    private readonly deps: TransactionDeps,
  ) {
    this.#catalogCheckSql = catalogCheckSql(settings.query.allowFunctions);
  }

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
      return await this.deps.broker.leaseFor<PostgresCredential>(ctx);
    } catch (error) {
      if (error instanceof PolicyDeniedError || error instanceof InvalidParamsError) throw error;
      this.deps.health.failed(error);
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
  async run<T>(
    ctx: CallContext,
    readOnly: boolean,
    statement: StatementBuilder,
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
        this.deps.log.warn({ server: this.name, role: lease.resource, leftover }, 'a leased connection kept session state after a call; closing it');
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

  /** The `downstream` part of the call's audit record: where it ran, as whom, and what. */
  downstream(lease: Lease<PostgresCredential>, context: ContextValues, sql: string, params: unknown): Record<string, unknown> {
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

  /** A database error becomes a tool error with the database's own message (and is recorded); anything else propagates. */
  sqlError(ctx: CallContext, error: unknown): Result {
    if (!(error instanceof DatabaseError)) throw error;
    const downstream = ctx.notes.downstream as Record<string, unknown> | undefined;
    if (downstream) downstream.error = { sqlstate: error.code, message: error.message };
    const text = `PostgreSQL error ${error.code ?? ''}: ${error.message}${error.hint ? ` (hint: ${error.hint})` : ''}`;
    return { content: [{ type: 'text', text }], isError: true };
  }
}
