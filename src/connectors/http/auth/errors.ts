import { GatehouseError, type GatehouseErrorOptions } from '../../../errors/index.js';

/** MCP's "URL elicitation required" error code (the client should open `data.elicitations[].url`). */
export const URL_ELICITATION_REQUIRED = -32042;

/**
 * The call needs the user's own account at a downstream provider and they have not connected
 * it (or the provider revoked it). The message names the page where they connect; `data`
 * carries the same URL as an MCP URL-mode elicitation. Never a token, never the provider's
 * error text.
 */
export class ConnectionRequiredError extends GatehouseError {
  readonly url: string;
  readonly server: string;
  /** The same request as an MCP URL-mode elicitation. */
  readonly elicitation: { mode: 'url'; elicitationId: string; url: string; message: string };
  constructor(options: { server: string; url: string; reason: 'not_connected' | 'reconnect'; elicitationId: string; provider: string }) {
    const what =
      options.reason === 'reconnect'
        ? `Your connection to ${options.provider} for "${options.server}" is no longer valid.`
        : `"${options.server}" acts with your own ${options.provider} account, which you have not connected yet.`;
    const message = `${what} Connect it at ${options.url}, then try again.`;
    const elicitation = { mode: 'url' as const, elicitationId: options.elicitationId, url: options.url, message };
    super('connection.required', message, 403, URL_ELICITATION_REQUIRED, {
      data: {
        reason: options.reason === 'reconnect' ? 'connection_invalid' : 'connection_required',
        server: options.server,
        url: options.url,
        elicitations: [elicitation],
      },
    });
    this.elicitation = elicitation;
    this.url = options.url;
    this.server = options.server;
  }
}

/** A credential could not be obtained (vault entry missing, token endpoint refused or unreachable). */
export class CredentialUnavailableError extends GatehouseError {
  constructor(code: 'credentials.unavailable' | 'credentials.token_endpoint', message: string, options?: GatehouseErrorOptions) {
    super(code, message, 502, -32011, options);
  }
}
