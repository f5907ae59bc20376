import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  ErrorCode,
  McpError,
  SetLevelRequestSchema,
  type Notification,
  type Request,
  type Result,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../version.js';
import type { McpSession } from './session.js';
import { discoverResult, modernResult } from './stateless/index.js';

export type RequestExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const SERVER_CAPABILITIES = {
  tools: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  prompts: { listChanged: true },
  completions: {},
  logging: {},
};

export interface SdkServerHandlers {
  /** Server instructions for the initialize result (empty: none). */
  instructions: string;
  /** Every request the SDK does not answer itself. */
  request(session: McpSession, request: Request, extra: RequestExtra): Promise<Result>;
  /** Every notification from the client. */
  notification(session: McpSession, notification: Notification): void;
}

/**
 * The SDK Server for one session: `initialize` and `ping` are the SDK's; every other request
 * goes to `handlers.request` through the fallback handler, so nothing reaches an upstream
 * without passing the router.
 */
export function createSdkServer(getSession: () => McpSession | undefined, handlers: SdkServerHandlers): Server {
  const { instructions } = handlers;
  const server = new Server({ name: 'gatehouse', version: VERSION }, { capabilities: SERVER_CAPABILITIES, ...(instructions ? { instructions } : {}) });
  server.fallbackRequestHandler = async (request, extra) => {
    const session = getSession();
    if (!session) throw new McpError(ErrorCode.InvalidRequest, 'Session not found');
    // The stateless revision: discovery is answered here, and results carry the revision's fields.
    if (session.stateless && request.method === 'server/discover') return modernResult(request.method, discoverResult(SERVER_CAPABILITIES, instructions));
    const result = await handlers.request(session, request, extra as RequestExtra);
    return session.stateless ? modernResult(request.method, result) : result;
  };
  // The session's minimum log level lives on the session (not inside the SDK Server), so
  // upstream log messages can be filtered here and sent on the stream of the call they
  // belong to — clients without a GET stream get them too.
  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    const session = getSession();
    if (session) {
      session.logLevel = request.params.level;
      await session.onLogLevel?.(request.params.level);
    }
    return {};
  });
  server.fallbackNotificationHandler = async (notification) => {
    const session = getSession();
    if (session) handlers.notification(session, notification);
  };
  return server;
}
