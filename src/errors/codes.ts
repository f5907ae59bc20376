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
  /** A rate limit or quota was exceeded; `data.retryAfterMs` says when to try again. */
  RateLimited: -32013,
  /** A store every request needs (PostgreSQL, Redis counters) is unreachable; retry after `Retry-After`. */
  StoreUnavailable: -32014,
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

/**
 * The gateway refused a call on purpose (policy, approval, rate limit, invalid arguments).
 * `reason` is a stable reason id safe to show the agent; the audit log records the refusal
 * as a denial with that reason.
 */
export class RefusedError extends GatehouseError {
  readonly reason: string;
  constructor(code: string, reason: string, message: string, status: number, rpcCode: number, options: Options = {}) {
    super(code, message, status, rpcCode, { ...options, data: { reason, ...options.data } });
    this.reason = reason;
  }
}

/** A policy refused the operation. `reason` is a stable reason id safe to show the agent. */
export class PolicyDeniedError extends RefusedError {
  constructor(reason: string, message: string, options: Options & { policy?: string | undefined } = {}) {
    super('policy.denied', reason, message, 403, RpcCode.Denied, {
      ...options,
      data: { ...(options.policy ? { policy: options.policy } : {}), ...options.data },
    });
  }
}

/** A rate limit or quota was exceeded. */
export class RateLimitedError extends RefusedError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    limit: string,
  ) {
    super('rate.limited', 'rate_limited', message, 429, RpcCode.RateLimited, { data: { limit, retryAfterMs } });
  }
}

/** The arguments do not match the tool's input schema (or the policy schema's argument types). */
export class InvalidArgumentsError extends RefusedError {
  constructor(message: string, options?: Options) {
    super('mcp.invalid_arguments', 'invalid_arguments', message, 400, RpcCode.InvalidParams, options);
  }
}

/**
 * A path argument (or `file:` URI) Gatehouse will not pass on: it climbs above its root,
 * holds a NUL, or is encoded ambiguously. Refused before any policy sees it.
 */
export class InvalidPathError extends RefusedError {
  constructor(message: string, argument: string) {
    super('mcp.invalid_path', 'invalid_path', message, 400, RpcCode.InvalidParams, { data: { argument } });
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

/**
 * An outbound connection was refused before it was made: the destination's address is not
 * public (and not allowed), the URL is unusable, the server redirected, or the response was
 * larger than allowed. The message names host and class; it is for operators' logs.
 */
export class EgressRefusedError extends GatehouseError {
  constructor(
    code: 'egress.address_refused' | 'egress.host_refused' | 'egress.invalid_url' | 'egress.redirect_refused' | 'egress.response_too_large',
    message: string,
    options?: Options,
  ) {
    super(code, message, 502, RpcCode.UpstreamError, options);
  }
}
