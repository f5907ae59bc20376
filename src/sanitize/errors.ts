import { GatehouseError, RefusedError, RpcCode } from '../errors/index.js';

/**
 * A message could not be checked (a detector threw, nesting too deep, a value the walker does
 * not understand). The message is withheld: failing open would relay unchecked bytes.
 */
export class SanitizeError extends GatehouseError {
  constructor(message: string, options: { cause?: unknown; detail?: Record<string, unknown> } = {}) {
    super('sanitize.failed', message, 502, RpcCode.InternalError, { ...options, data: { code: 'sanitize.failed' } });
  }
}

/**
 * The output was refused on purpose: a detector whose action is `deny` fired, or the result is
 * classified above the caller's clearance. The message names types and levels, never values.
 */
export class OutputRefusedError extends RefusedError {
  constructor(reason: 'output.denied' | 'output.above_clearance', message: string, data: Record<string, unknown> = {}) {
    super('sanitize.denied', reason, message, 403, RpcCode.Denied, { data });
  }
}
