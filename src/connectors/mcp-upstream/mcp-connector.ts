import {
  CallToolResultSchema,
  CompleteResultSchema,
  EmptyResultSchema,
  GetPromptResultSchema,
  ReadResourceResultSchema,
  type Notification,
  type Result,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { McpServerConfig } from '../../config/index.js';
import { MethodNotFoundError } from '../../errors/index.js';
import type { CallContext } from '../../pipeline/index.js';
import { sandboxStatus } from '../../sandbox/index.js';
import type { Connector, ConnectorOwner, ConnectorStatus } from '../types.js';
import type { Catalog } from './catalog.js';
import type { UpstreamEnvironment, UpstreamHooks, UpstreamInstance } from './upstream-instance.js';
import { UpstreamPool } from './upstream-pool.js';

/** Result schemas for the methods the gateway forwards; anything else is refused. */
const FORWARDED: Record<string, z.ZodType<Result>> = {
  'tools/call': CallToolResultSchema,
  'resources/read': ReadResourceResultSchema,
  'resources/subscribe': EmptyResultSchema,
  'resources/unsubscribe': EmptyResultSchema,
  'prompts/get': GetPromptResultSchema,
  'completion/complete': CompleteResultSchema,
  'logging/setLevel': EmptyResultSchema,
};

/** A proxied MCP server (stdio child or remote Streamable HTTP). */
export class McpUpstreamConnector implements Connector {
  readonly kind = 'mcp-upstream';
  readonly pool: UpstreamPool;
  readonly #env: UpstreamEnvironment;

  constructor(
    readonly name: string,
    config: McpServerConfig,
    env: UpstreamEnvironment,
    hooks: UpstreamHooks,
  ) {
    this.pool = new UpstreamPool(name, config, env, hooks);
    this.#env = env;
  }

  start(): Promise<void> {
    return this.pool.startShared();
  }

  /** The running instance for `owner`, started if needed. */
  async instance(owner: ConnectorOwner): Promise<UpstreamInstance> {
    const instance = this.pool.instanceFor(owner);
    await instance.ready(10_000);
    instance.sessions.add(owner.sessionId);
    return instance;
  }

  async catalog(owner: ConnectorOwner): Promise<Catalog> {
    return (await this.instance(owner)).catalog;
  }

  instructions(): string | undefined {
    return this.pool.isolation === 'shared' ? this.pool.instances.get('*')?.instructions : undefined;
  }

  async execute(ctx: CallContext): Promise<Result> {
    const schema = FORWARDED[ctx.op.method];
    if (!schema) throw new MethodNotFoundError(ctx.op.method);
    if (ctx.control.keepUpstreamSubscription === true) return {};
    const owner = { sub: ctx.principal.sub, sessionId: ctx.origin.sessionId };
    const instance = await this.instance(owner);
    // Tracked so upstream-initiated requests (sampling, elicitation) can be attributed to the
    // one session that has calls running on this instance, and related to one of its calls.
    let ids = instance.inflight.get(owner.sessionId);
    if (!ids) instance.inflight.set(owner.sessionId, (ids = []));
    ids.push(ctx.rpcId);
    try {
      return await instance.request({ method: ctx.op.method, params: ctx.params }, schema, {
        signal: ctx.signal,
        ...(ctx.progress ? { onprogress: ctx.progress } : {}),
      });
    } finally {
      const at = ids.indexOf(ctx.rpcId);
      if (at >= 0) ids.splice(at, 1);
      if (ids.length === 0 && instance.inflight.get(owner.sessionId) === ids) instance.inflight.delete(owner.sessionId);
    }
  }

  notifySession(sessionId: string, notification: Notification): void {
    for (const instance of this.pool.instances.values()) {
      if (instance.sessions.has(sessionId)) void instance.notify(notification).catch(() => undefined);
    }
  }

  release(owner: ConnectorOwner, userHasOtherSessions: boolean): Promise<void> {
    return this.pool.release(owner, userHasOtherSessions);
  }

  stop(): Promise<void> {
    return this.pool.stop();
  }

  status(): ConnectorStatus {
    return {
      name: this.name,
      kind: this.kind,
      ready: this.pool.ready,
      detail: {
        isolation: this.pool.isolation,
        ...(this.#env.sandbox ? { sandbox: sandboxStatus(this.#env.sandbox.decision) } : {}),
        instances: [...this.pool.instances.values()].map((i) => ({
          key: i.key.startsWith('user:') ? 'user' : i.key.startsWith('session:') ? 'session' : 'shared',
          state: i.state,
          pid: i.pid,
          restarts: i.restarts,
          tools: i.catalog.tools.length,
        })),
      },
    };
  }
}
