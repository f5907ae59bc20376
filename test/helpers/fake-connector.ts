import type { Result, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Catalog, Connector, ConnectorOwner, ConnectorStatus } from '../../src/connectors/index.js';
import { emptyCatalog } from '../../src/connectors/index.js';
import type { CallContext } from '../../src/pipeline/index.js';

/** An in-process connector that records what reaches it, so tests can assert what did not. */
export class FakeConnector implements Connector {
  readonly kind = 'fake';
  readonly calls: { method: string; params: Record<string, unknown>; sub: string }[] = [];
  catalogValue: Catalog;
  handler: (ctx: CallContext) => Promise<Result>;

  constructor(
    readonly name: string,
    tools: Partial<Tool>[] = [],
    handler?: (ctx: CallContext) => Promise<Result>,
  ) {
    this.catalogValue = { ...emptyCatalog(), tools: tools.map((t) => ({ inputSchema: { type: 'object' }, ...t }) as Tool) };
    this.handler = handler ?? (async (ctx) => ({ content: [{ type: 'text', text: `${ctx.op.name}:${JSON.stringify(ctx.op.args ?? {})}` }] }));
  }

  async catalog(_owner: ConnectorOwner): Promise<Catalog> {
    return this.catalogValue;
  }
  instructions(): string | undefined {
    return undefined;
  }
  async execute(ctx: CallContext): Promise<Result> {
    this.calls.push({ method: ctx.op.method, params: ctx.params, sub: ctx.principal.sub });
    return this.handler(ctx);
  }
  async start(): Promise<void> {}
  async release(): Promise<void> {}
  async stop(): Promise<void> {}
  status(): ConnectorStatus {
    return { name: this.name, kind: this.kind, ready: true, detail: {} };
  }
}
