import { createHash } from 'node:crypto';

/**
 * A transaction advisory-lock key for a named critical section (64-bit, from SHA-256 of the
 * name), passed as text so no precision is lost on the way to BIGINT.
 */
export function lockKey(name: string): string {
  return createHash('sha256').update(`gatehouse:${name}`).digest().readBigInt64BE(0).toString();
}
