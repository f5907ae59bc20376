import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { DemoContext } from './context.ts';
import { oneLine } from './ui.ts';

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

  static async connect(ctx: DemoContext, token: string): Promise<Agent> {
    const transport = new StreamableHTTPClientTransport(new URL(ctx.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
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
