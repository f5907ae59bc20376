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
import { JsonRpcError, MethodNotFoundError, requestStateRefused, UpstreamError } from '../../errors/index.js';
import type { CallContext } from '../../pipeline/index.js';
import { sandboxStatus } from '../../sandbox/index.js';
import type { Connector, ConnectorOwner, ConnectorStatus } from '../types.js';
import type { Catalog } from './catalog.js';
import { answerThroughSession, inputRequiredOf, MAX_INPUT_ROUNDS, relayableCapabilities } from './input-rounds.js';
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
  readonly #forwardRoots: boolean;

  constructor(
    readonly name: string,
    config: McpServerConfig,
    env: UpstreamEnvironment,
    hooks: UpstreamHooks,
  ) {
    this.pool = new UpstreamPool(name, config, env, hooks);
    this.#env = env;
    this.#forwardRoots = config.forwardRoots;
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
      if (ctx.control.resume?.upstream && instance.era !== '2026') {
        // The upstream that issued the state no longer speaks the revision (it restarted): a
        // retry must never run the call afresh, past the approval it already had.
        throw requestStateRefused('not_pending');
      }
      if (instance.era !== '2026') {
        return await instance.request({ method: ctx.op.method, params: ctx.params }, schema, {
          signal: ctx.signal,
          ...(ctx.progress ? { onprogress: ctx.progress } : {}),
        });
      }
      return await this.#executeStateless(ctx, instance, schema);
    } finally {
      const at = ids.indexOf(ctx.rpcId);
      if (at >= 0) ids.splice(at, 1);
      if (ids.length === 0 && instance.inflight.get(owner.sessionId) === ids) instance.inflight.delete(owner.sessionId);
    }
  }

  /**
   * A call to an upstream of the stateless revision, which may answer with an
   * InputRequiredResult instead of a result. A stateless client gets it as it is (the keys the
   * upstream chose), with the upstream's `requestState` sealed inside one of Gatehouse's; its
   * retry arrives here again, authorized again, with the upstream's state unsealed. A
   * session-era client is asked each input request as an ordinary server→client request, and
   * the upstream is retried with the answers, round after round (bounded).
   */
  async #executeStateless(ctx: CallContext, instance: UpstreamInstance, schema: z.ZodType<Result>): Promise<Result> {
    const name = (ctx.params as { name?: unknown }).name;
    const options = {
      signal: ctx.signal,
      ...(ctx.progress ? { onprogress: ctx.progress } : {}),
      clientCapabilities: relayableCapabilities(ctx.client?.capabilities, this.#forwardRoots),
      inputSchema: ctx.op.method === 'tools/call' ? instance.catalog.tools.find((t) => t.name === name)?.inputSchema : undefined,
    };
    // The revision has no per-session log level (each request may carry one) and no resource
    // subscriptions: the level stays Gatehouse's filter on the session; subscribing is refused.
    if (ctx.op.method === 'logging/setLevel') return {};
    if (ctx.op.method === 'resources/subscribe' || ctx.op.method === 'resources/unsubscribe') {
      throw new JsonRpcError(-32601, `Method not found: the upstream server "${this.name}" speaks the stateless revision, which has no ${ctx.op.method}.`, {
        code: 'mcp.method_not_found',
      });
    }
    let params: Record<string, unknown> = { ...ctx.params };
    const resume = ctx.control.resume;
    if (resume?.upstream) {
      // The state is bound to the exposed target, which names one server; checked anyway.
      if (resume.upstream.server !== this.name) {
        throw requestStateRefused('wrong_request');
      }
      params = { ...params, inputResponses: resume.inputResponses, ...(resume.upstream.state !== undefined ? { requestState: resume.upstream.state } : {}) };
    }
    let result = await instance.request({ method: ctx.op.method, params }, schema, options);
    for (let round = 1; ; round++) {
      const asked = inputRequiredOf(this.name, result, this.#forwardRoots);
      if (!asked) return result;
      const seal = ctx.client?.sealUpstreamState;
      if (seal) {
        const requests = Object.fromEntries(Object.entries(asked.inputRequests).map(([key, r]) => [key, r.method]));
        return {
          resultType: 'input_required',
          ...(Object.keys(asked.inputRequests).length > 0 ? { inputRequests: asked.inputRequests } : {}),
          requestState: seal({ server: this.name, state: asked.requestState, requests }),
        } as Result;
      }
      if (round > MAX_INPUT_ROUNDS) {
        throw new UpstreamError(
          'upstream.too_many_input_rounds',
          `The upstream server "${this.name}" asked for client input more than ${MAX_INPUT_ROUNDS} times in one call.`,
        );
      }
      if (!ctx.client)
        throw new UpstreamError('upstream.input_unavailable', `The upstream server "${this.name}" asked for client input, and there is no client to ask.`);
      const answers = await answerThroughSession(this.name, ctx.client, asked, ctx.signal);
      result = await instance.request(
        {
          method: ctx.op.method,
          params: { ...ctx.params, inputResponses: answers, ...(asked.requestState !== undefined ? { requestState: asked.requestState } : {}) },
        },
        schema,
        options,
      );
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
          ...(i.era ? { protocol: i.era === '2026' ? '2026-07-28 (stateless)' : 'session era' } : {}),
        })),
      },
    };
  }
}
