import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { isJSONRPCErrorResponse, isJSONRPCRequest, isJSONRPCResultResponse, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { UsageError } from '../../errors/index.js';
import { RuntimeKeys } from '../../runtime.js';
import { outboundChannel, sanitizer } from '../../sanitize/index.js';
import { defineCommand, ExitCode } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';
import { withStorage } from '../admin.js';

/**
 * A stdio ↔ Streamable HTTP bridge for clients that can only launch a command. It holds the
 * user's short-lived token and nothing else: every credential, policy and audit record stays
 * in the gateway, not in the agent host's process tree.
 */
export const stdioCommand = defineCommand(COMMAND_SPECS.stdio, async (ctx) => {
  const variable = ctx.values['token-env'];
  if (!variable) throw new UsageError('--token-env is required (the name of the variable holding the access token)');
  const token = ctx.io.env[variable];
  if (!token) {
    ctx.err(`gatehouse stdio: environment variable ${variable} is empty or not set`);
    return ExitCode.Failed;
  }
  let url = ctx.values.url?.replace(/(?<!\/)\/+$/, '').replace(/\/mcp$/, '');
  if (url === undefined) {
    // Only the gateway's address is needed: the bridge must not require upstream secrets.
    const config = ctx.config({ checkVariables: false });
    url = config.publicUrl;
    if (!ctx.values.config) {
      const fallback = url;
      url = await withStorage(config, async (storage) => (await storage.settings.get(RuntimeKeys.publicUrl)) ?? fallback);
    }
  } else if (!/^https?:\/\//.test(url)) {
    throw new UsageError(`--url must be an http(s) URL, got "${ctx.values.url}"`);
  }
  const upstream = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const stdio = new StdioServerTransport(ctx.io.stdin as NodeJS.ReadStream, ctx.io.stdout as NodeJS.WriteStream);
  const initializeIds = new Set<string | number>();
  const methods = new Map<string | number, string>();
  // The bridge writes text of its own (errors quoting whatever answered at --url) next to the
  // gateway's messages: all of it passes the outbound sanitizer with the bridge's token, so
  // nothing between here and the gateway can hand the agent the token it never had.
  // The gateway applied its sanitize rules (some data may be allowed through on purpose);
  // here only credentials are looked for, the bridge's token first.
  sanitizer.configure({ detectors: { secrets: false, pii: false } });
  const toClient = (message: JSONRPCMessage): Promise<void> => {
    let checked: JSONRPCMessage;
    try {
      checked = sanitizer.sanitize(
        message,
        outboundChannel(message, (id) => methods.get(id)),
        { credentials: [token] },
      );
    } catch {
      const id = (message as { id?: unknown }).id;
      if (typeof id !== 'string' && typeof id !== 'number') return Promise.resolve();
      checked = { jsonrpc: '2.0', id, error: { code: -32603, message: 'gatehouse stdio withheld a message it could not check for credentials' } };
    }
    if (isJSONRPCResultResponse(checked) || isJSONRPCErrorResponse(checked)) methods.delete(checked.id as string | number);
    return stdio.send(checked);
  };
  const local = { start: () => stdio.start(), close: () => stdio.close(), send: toClient };

  const fail = (id: string | number, error: Error) => {
    // The SDK's StreamableHTTPError carries the HTTP status as `code`; other errors (an abort,
    // a DOMException) have codes of their own that are not HTTP statuses.
    const code = (error as { code?: unknown }).code;
    const status = typeof code === 'number' && code >= 100 && code <= 599 ? code : undefined;
    const what =
      status === 401 || status === 403
        ? `gateway refused the access token (HTTP ${status})`
        : status !== undefined
          ? `gateway answered HTTP ${status}`
          : (error as Error).name === 'AbortError'
            ? 'request aborted'
            : 'gateway unreachable';
    void local.send({ jsonrpc: '2.0', id, error: { code: -32000, message: `${what}: ${error.message}` } });
  };
  stdio.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCRequest(message)) methods.set(message.id, message.method);
    if (isJSONRPCRequest(message) && message.method === 'initialize') initializeIds.add(message.id);
    upstream.send(message).catch((error: unknown) => {
      if (isJSONRPCRequest(message)) fail(message.id, error as Error);
      else ctx.err(`gatehouse stdio: ${(error as Error).message}`);
    });
  };
  upstream.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCResultResponse(message) && initializeIds.delete(message.id)) {
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') upstream.setProtocolVersion(version);
    }
    void local.send(message);
  };
  upstream.onerror = (error) => ctx.err(`gatehouse stdio: ${error.message}`);
  await upstream.start();
  await local.start();
  return new Promise<number>((resolve) => {
    stdio.onclose = () => {
      // End the gateway session, then close the transport: that aborts the GET stream and
      // cancels its reconnection timer, which would otherwise keep the process alive
      // (retrying a session that no longer exists) after the client has gone.
      void upstream
        .terminateSession()
        .catch(() => undefined)
        .then(() => upstream.close())
        .catch(() => undefined)
        .finally(() => resolve(ExitCode.Ok));
    };
    ctx.io.stdin.on('end', () => void local.close());
  });
});
