import type { Result } from '@modelcontextprotocol/sdk/types.js';
import type { PostgresServerConfig, PostgresSettings } from '../../config/index.js';
import { InvalidParamsError, MethodNotFoundError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import type { CallContext } from '../../pipeline/index.js';
import type { Broker, CredentialIssuer } from '../../vault/index.js';
import type { Catalog } from '../mcp-upstream/catalog.js';
import type { Connector, ConnectorOwner, ConnectorStatus } from '../types.js';
import { PostgresCredentialIssuer } from './credential-issuer.js';
import { declareStatements } from './declared-statements.js';
import { DescribeTool } from './describe-tool.js';
import { ColumnClearance } from './classified-columns.js';
import { ConnectorHealth } from './health.js';
import type { PostgresTool } from './postgres-tool.js';
import { QueryTool } from './query-tool.js';
import type { RoleManager } from './role-manager.js';
import { compileDenyList, loadSqlParser } from './sql-guard.js';
import { LeasedTransactions } from './transaction.js';

export type { PostgresCredential } from './credential-issuer.js';

export interface PostgresConnectorDeps {
  log: Logger;
  broker: Broker;
  /** Resolves a config value that may be `vault:NAME` or `${VAR}` (the admin password), at use. */
  resolveSecret(value: string, where: string): Promise<string>;
  baseDir: string;
}

/**
 * The built-in PostgreSQL tool runtime. Every call runs as a just-in-time login role minted
 * for the calling user by its credential issuer (credential-issuer.ts), inside a transaction
 * that carries the actor, purpose and request id (transaction.ts). Tools: `query` (one
 * guarded, read-only SELECT), `describe`, and the parameterized statements declared in config,
 * one file each.
 */
export class PostgresConnector implements Connector {
  readonly kind = 'postgres';
  readonly settings: PostgresSettings;
  readonly issuer: PostgresCredentialIssuer;
  readonly #deps: PostgresConnectorDeps;
  readonly #health = new ConnectorHealth();
  readonly #tools: Map<string, PostgresTool>;

  private constructor(
    readonly name: string,
    config: PostgresServerConfig,
    deps: PostgresConnectorDeps,
  ) {
    this.settings = config.postgres;
    this.#deps = deps;
    this.issuer = new PostgresCredentialIssuer(name, this.settings, this.#health, {
      log: deps.log,
      baseDir: deps.baseDir,
      resolveAdminPassword: () => deps.resolveSecret(this.settings.admin.password, `servers.${name}.postgres.admin.password`),
    });
    // Columns classified above a caller's clearance join the configured deny-list for that caller.
    const columns = new ColumnClearance(
      compileDenyList(this.settings.query.denyColumns),
      config.fields,
      config.tools.query?.fields,
      config.tools.describe?.fields,
    );
    const transactions = new LeasedTransactions(name, this.settings, { broker: deps.broker, health: this.#health, log: deps.log });
    const statements = declareStatements(name, config, transactions);
    const tools: PostgresTool[] = [new QueryTool(this.settings, columns, transactions), new DescribeTool(this.settings, columns, transactions), ...statements];
    this.#tools = new Map(tools.map((t) => [t.tool.name, t]));
  }

  /** Builds the connector and checks its declared statements with the SQL parser (ConfigError on a bad one). */
  static async create(name: string, config: PostgresServerConfig, deps: PostgresConnectorDeps): Promise<PostgresConnector> {
    await loadSqlParser();
    const connector = new PostgresConnector(name, config, deps);
    deps.broker.register(name, connector.issuer as CredentialIssuer);
    return connector;
  }

  /** The admin side: creates, drops and sweeps the leased roles. */
  get roles(): RoleManager {
    return this.issuer.roles;
  }

  async catalog(_owner: ConnectorOwner): Promise<Catalog> {
    return { tools: [...this.#tools.values()].map((t) => t.tool), resources: [], resourceTemplates: [], prompts: [] };
  }

  instructions(): string | undefined {
    return undefined;
  }

  async start(): Promise<void> {
    try {
      await this.roles.probe();
      this.#health.ok();
    } catch (error) {
      const err = this.#health.failed(error);
      this.#deps.log.error({ server: this.name, err }, 'PostgreSQL connector not ready (admin connection or actor binding); calls will retry');
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
    const lastError = this.#health.lastError;
    return {
      name: this.name,
      kind: this.kind,
      ready: this.#health.ready,
      detail: {
        kind: this.kind,
        database: this.settings.database,
        host: this.settings.host,
        activeLeases: leases,
        ...(lastError ? { error: lastError } : {}),
      },
    };
  }

  async execute(ctx: CallContext): Promise<Result> {
    if (ctx.op.method !== 'tools/call') throw new MethodNotFoundError(ctx.op.method);
    const tool = this.#tools.get(ctx.op.name);
    if (!tool) throw new InvalidParamsError('mcp.unknown_tool', `Unknown tool: ${ctx.op.id}`);
    return tool.call(ctx, ctx.op.args ?? {});
  }
}
