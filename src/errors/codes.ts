import { GatehouseError, type GatehouseErrorOptions } from './gatehouse-error.js';

/** JSON-RPC 2.0 / MCP error codes used by the front door. */
export const RpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** MCP: resource not found. */
  ResourceNotFound: -32002,
  /** Implementation-defined server errors (-32000..-32099). */
  Denied: -32003,
  UpstreamUnavailable: -32010,
  UpstreamError: -32011,
  AuditUnavailable: -32012,
  RequestTimeout: -32001,
} as const;

type Options = GatehouseErrorOptions;

/** Authentication failed: the bearer token is missing or unusable (RFC 6750 §3.1). */
export class AuthenticationError extends GatehouseError {
  /** `invalid_token`, or undefined when no credentials were presented at all (RFC 6750 §3.1). */
  readonly oauthError: 'invalid_token' | 'invalid_request' | undefined;
  constructor(code: string, message: string, oauthError: 'invalid_token' | 'invalid_request' | undefined, options?: Options) {
    super(code, message, oauthError === 'invalid_request' ? 400 : 401, RpcCode.InvalidRequest, options);
    this.oauthError = oauthError;
  }
}

/** A policy refused the operation. `reason` is a stable reason id safe to show the agent. */
export class PolicyDeniedError extends GatehouseError {
  readonly reason: string;
  constructor(reason: string, message: string, options: Options & { policy?: string } = {}) {
    super('policy.denied', message, 403, RpcCode.Denied, {
      ...options,
      data: { reason, ...(options.policy ? { policy: options.policy } : {}), ...options.data },
    });
    this.reason = reason;
  }
}

export class InvalidParamsError extends GatehouseError {
  constructor(code: string, message: string, options?: Options) {
    super(code, message, 400, RpcCode.InvalidParams, options);
  }
}

export class MethodNotFoundError extends GatehouseError {
  constructor(method: string) {
    super('mcp.method_not_found', `Method not found: ${method}`, 404, RpcCode.MethodNotFound);
  }
}

export class UpstreamError extends GatehouseError {
  constructor(code: string, message: string, options?: Options & { rpcCode?: number }) {
    super(code, message, 502, options?.rpcCode ?? RpcCode.UpstreamError, options);
  }
}

/** The audit log could not durably record an intent: the call is refused (fail closed). */
export class AuditUnavailableError extends GatehouseError {
  constructor(options?: Options) {
    super('audit.unavailable', 'The audit log is unavailable, so the call was refused.', 503, RpcCode.AuditUnavailable, options);
  }
}

export class ConfigError extends GatehouseError {
  readonly issues: readonly { path: string; message: string }[];
  constructor(message: string, issues: readonly { path: string; message: string }[], options?: Options) {
    super('config.invalid', message, 500, RpcCode.InternalError, options);
    this.issues = issues;
  }
}

export class UsageError extends GatehouseError {
  constructor(message: string) {
    super('cli.usage', message, 400, RpcCode.InvalidParams);
  }
}
