import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/**
 * PostgreSQL's SCRAM-SHA-256 password verifier (RFC 5802 / RFC 7677, the format libpq's
 * PQencryptPasswordConn produces): `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
 * Leased roles are created with this verifier instead of the plaintext password, so the
 * password never reaches the server — not in a statement, not in a server log line
 * (log_statement = 'ddl' logs CREATE ROLE verbatim).
 *
 * Only ASCII passwords are accepted (ours are random base64url), for which SASLprep is the
 * identity; anything else would need SASLprep and is refused rather than guessed.
 */
export const SCRAM_ITERATIONS = 4096;

export function scramSha256Verifier(password: string, options: { iterations?: number; salt?: Buffer } = {}): string {
  if (!/^[\x21-\x7e]+$/.test(password)) throw new Error('SCRAM verifier: only printable ASCII passwords are supported');
  const iterations = options.iterations ?? SCRAM_ITERATIONS;
  const salt = options.salt ?? randomBytes(16);
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
