import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { check, type DemoContext } from './context.ts';
import type { DemoAuthProvider, RecordingFetch } from './oauth-client.ts';
import { oneLine } from './ui.ts';

/** alice's MCP client after the OAuth sign-in: the agent, its OAuth state, and its request log. */
export interface SignedInClient {
  agent: Agent;
  provider: DemoAuthProvider;
  recorder: RecordingFetch;
}

/** What Gatehouse puts in `_meta["gatehouse/approval"]` of a pending result. */
export interface PendingApproval {
  id: string;
  status: string;
  level: string;
  expiresAt: string;
  url?: string;
}

/** A scripted agent: the official MCP SDK client over Streamable HTTP, holding one bearer token. */
export class Agent {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
  readonly #ctx: DemoContext;

  private constructor(ctx: DemoContext, client: Client, transport: StreamableHTTPClientTransport) {
    this.#ctx = ctx;
    this.client = client;
    this.transport = transport;
  }

  /** Connects with a fixed bearer token (an operator-minted one, `gatehouse token issue`). */
  static async connect(ctx: DemoContext, token: string): Promise<Agent> {
    const transport = new StreamableHTTPClientTransport(new URL(ctx.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    return Agent.over(ctx, transport);
  }

  /** Connects as an OAuth client: the SDK attaches, refreshes and re-acquires tokens through `provider`. */
  static async connectWithOAuth(ctx: DemoContext, provider: OAuthClientProvider, fetch: RecordingFetch['fetch']): Promise<Agent> {
    return Agent.over(ctx, new StreamableHTTPClientTransport(new URL(ctx.mcpUrl), { authProvider: provider, fetch }));
  }

  static async over(ctx: DemoContext, transport: StreamableHTTPClientTransport): Promise<Agent> {
    const client = new Client({ name: 'gatehouse-demo-agent', version: '1.0.0' });
    await client.connect(transport);
    return new Agent(ctx, client, transport);
  }

  get sessionId(): string | undefined {
    return this.transport.sessionId;
  }

  /** Calls a tool and prints the request and the text it got back. Throws on a JSON-RPC error. */
  async call(name: string, args: Record<string, unknown>): Promise<string> {
    this.#ctx.ui.request(`${name} ${oneLine(JSON.stringify(args), 90)}`);
    const result = await this.client.callTool({ name, arguments: args });
    const text = textOf(result);
    if (result.isError) throw new Error(`${name} returned a tool error: ${oneLine(text)}`);
    this.#ctx.ui.ok(oneLine(text));
    return text;
  }

  /**
   * Calls a tool that must be refused. Returns the JSON-RPC error; throws if the call went
   * through, so the demo fails loudly rather than showing a "denied" call that was allowed.
   */
  async callExpectingError(name: string, args: Record<string, unknown>): Promise<McpError> {
    this.#ctx.ui.request(`${name} ${oneLine(JSON.stringify(args), 90)}`);
    try {
      const result = await this.client.callTool({ name, arguments: args });
      throw new Error(`${name} was expected to be refused, but it returned: ${oneLine(textOf(result))}`);
    } catch (error) {
      if (error instanceof McpError) return error;
      throw error;
    }
  }

  /**
   * Calls a tool that needs a human's approval: Gatehouse holds the call for `approvals.wait`,
   * then answers with a pending result naming the approval request. Throws on anything else.
   */
  async callExpectingPending(name: string, args: Record<string, unknown>): Promise<PendingApproval> {
    this.#ctx.ui.request(`${name} ${oneLine(JSON.stringify(args), 90)}`);
    const result = await this.client.callTool({ name, arguments: args });
    const pending = (result._meta as Record<string, unknown> | undefined)?.['gatehouse/approval'] as PendingApproval | undefined;
    check(
      result.isError && pending?.status === 'pending' && typeof pending.id === 'string',
      `${name} was expected to wait for approval, but it returned: ${oneLine(JSON.stringify(result), 300)}`,
    );
    this.#ctx.ui.refused(
      `pending (isError, _meta["gatehouse/approval"]: id ${pending.id}, level ${pending.level}, expires ${new Date(pending.expiresAt).toLocaleTimeString()})`,
    );
    this.#ctx.ui.output(textOf(result));
    return pending;
  }

  /** Ends the MCP session (DELETE /mcp) and closes the client. */
  async close(): Promise<void> {
    try {
      await this.transport.terminateSession();
    } finally {
      await this.client.close();
    }
  }
}

export function textOf(result: unknown): string {
  const raw = (result as { content?: unknown }).content;
  const content = Array.isArray(raw) ? (raw as { type: string; text?: string }[]) : [];
  return content
    .filter((c) => c.type === 'text')
    .map((c) => c.text ?? '')
    .join('\n');
}

/** The readable parts of a JSON-RPC error: code, message (without the SDK's prefix) and data. */
export function describeRpcError(error: McpError): string {
  const message = error.message.replace(/^MCP error -?\d+: /, '');
  return `JSON-RPC error ${error.code}: ${message}${error.data !== undefined ? `  data: ${JSON.stringify(error.data)}` : ''}`;
}
