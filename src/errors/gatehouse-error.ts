/**
 * Every error Gatehouse raises on purpose carries a stable `code` (part of the public
 * interface: clients, scripts and tests match on it) and a message that is safe to show
 * to the agent. Anything sensitive goes in `detail`, which is only ever logged.
 */
export interface GatehouseErrorOptions {
  /** Operator-only context. Logged, never sent to a client. */
  detail?: Record<string, unknown>;
  cause?: unknown;
  /** Structured, client-safe data (e.g. a policy reason id). */
  data?: Record<string, unknown>;
}

export class GatehouseError extends Error {
  /** Stable, dotted identifier, e.g. `auth.token_expired`. */
  readonly code: string;
  /** HTTP status used when the error ends an HTTP exchange. */
  readonly status: number;
  /** JSON-RPC error code used when the error answers a JSON-RPC request. */
  readonly rpcCode: number;
  readonly detail: Record<string, unknown> | undefined;
  readonly data: Record<string, unknown> | undefined;

  constructor(code: string, message: string, status: number, rpcCode: number, options: GatehouseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.rpcCode = rpcCode;
    this.detail = options.detail;
    this.data = options.data;
  }
}

export function isGatehouseError(value: unknown): value is GatehouseError {
  return value instanceof GatehouseError;
}
