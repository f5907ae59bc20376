import type { AttemptPolicy, AttemptReservation, FederatedLink, NewUser, UserPatch, UserRecord, UserStore } from '../ports/index.js';
import type { PostgresDatabase } from './database.js';
import { type UserRow as Row, fromRow, COLUMNS, capExponent, type LinkRow, fromLinkRow } from '../rows/user-row.js';

/**
 * One statement: count the attempt unless locked, and lock at the threshold (doubling per
 * further failure, up to the maximum). Concurrent updates of the row queue on its lock and
 * re-check the WHERE clause against the committed row (READ COMMITTED), so each sees the
 * previous one's count, on any node.
 * $1 name, $2 now, $3 threshold, $4 base, $5 max, $6 cap.
 */
const RESERVE = `
UPDATE users SET
  failed_attempts = failed_attempts + 1,
  locked_until = CASE
    WHEN failed_attempts + 1 >= $3::integer
      THEN $2::bigint + LEAST($5::bigint, $4::bigint << LEAST(failed_attempts + 1 - $3::integer, $6::integer))
    ELSE locked_until END,
  updated_at = $2::bigint
WHERE name = $1 AND (locked_until IS NULL OR locked_until <= $2::bigint)
RETURNING failed_attempts, locked_until`;

/** $1 name, $2 lock, $3 now. */
const RELEASE = `
UPDATE users SET
  failed_attempts = GREATEST(failed_attempts - 1, 0),
  locked_until = CASE WHEN $2::bigint IS NOT NULL AND locked_until = $2::bigint THEN NULL ELSE locked_until END,
  updated_at = $3::bigint
WHERE name = $1`;

const INSERT_USER = `INSERT INTO users (name, source, groups, password_hash, attributes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)
  ON CONFLICT (name) DO NOTHING`;

const userParams = (user: NewUser, now: number) => [
  user.name,
  user.source,
  JSON.stringify(user.groups),
  user.passwordHash,
  JSON.stringify(user.attributes ?? {}),
  now,
];

export class PostgresUserStore implements UserStore {
  constructor(private readonly db: PostgresDatabase) {}

  async get(name: string): Promise<UserRecord | undefined> {
    const row = await this.db.row<Row>('SELECT * FROM users WHERE name = $1', [name]);
    return row ? fromRow(row) : undefined;
  }

  async list(): Promise<UserRecord[]> {
    return (await this.db.rows<Row>('SELECT * FROM users ORDER BY name COLLATE "C"')).map(fromRow);
  }

  async create(user: NewUser, now: number): Promise<boolean> {
    return (await this.db.query(INSERT_USER, userParams(user, now))).rowCount === 1;
  }

  async update(name: string, patch: UserPatch, now: number): Promise<boolean> {
    const sets: string[] = [];
    const values: (string | number | null)[] = [];
    for (const [key, value] of Object.entries(patch) as [keyof UserPatch, unknown][]) {
      if (value === undefined) continue;
      values.push(key === 'groups' || key === 'attributes' ? JSON.stringify(value) : (value as string | number | null));
      sets.push(`${COLUMNS[key]} = $${values.length}`);
    }
    values.push(now);
    sets.push(`updated_at = $${values.length}`);
    values.push(name);
    return (await this.db.query(`UPDATE users SET ${sets.join(', ')} WHERE name = $${values.length}`, values)).rowCount === 1;
  }

  async disabledNames(): Promise<string[]> {
    return (await this.db.rows<{ name: string }>('SELECT name FROM users WHERE disabled_at IS NOT NULL')).map((r) => r.name);
  }

  async reserveAttempt(name: string, policy: AttemptPolicy, now: number): Promise<AttemptReservation | undefined> {
    const row = await this.db.row<{ failed_attempts: number; locked_until: number | null }>(RESERVE, [
      name,
      now,
      policy.threshold,
      Math.max(0, Math.floor(policy.baseDelayMs)),
      Math.max(0, Math.floor(policy.maxDelayMs)),
      capExponent(policy.baseDelayMs, policy.maxDelayMs),
    ]);
    if (row) return { reserved: true, failedAttempts: row.failed_attempts, lockedUntil: row.locked_until };
    const user = await this.db.row<{ locked_until: number | null }>('SELECT locked_until FROM users WHERE name = $1', [name]);
    if (!user) return undefined;
    return { reserved: false, lockedUntil: user.locked_until ?? now };
  }

  async releaseAttempt(name: string, lockedUntil: number | null, now: number): Promise<void> {
    await this.db.query(RELEASE, [name, lockedUntil, now]);
  }

  async claimTotpStep(name: string, step: number, now: number): Promise<boolean> {
    const result = await this.db.query(
      'UPDATE users SET totp_last_step = $1, updated_at = $2 WHERE name = $3 AND totp_secret IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $1)',
      [step, now, name],
    );
    return result.rowCount === 1;
  }

  async enrollTotp(name: string, secret: string, step: number, now: number): Promise<boolean> {
    const result = await this.db.query('UPDATE users SET totp_secret = $1, totp_last_step = $2, updated_at = $3 WHERE name = $4 AND totp_secret IS NULL', [
      secret,
      step,
      now,
      name,
    ]);
    return result.rowCount === 1;
  }

  async findFederated(issuer: string, subject: string): Promise<FederatedLink | undefined> {
    const row = await this.db.row<LinkRow>('SELECT * FROM federated_identities WHERE issuer = $1 AND subject = $2', [issuer, subject]);
    return row ? fromLinkRow(row) : undefined;
  }

  async federatedLinks(name: string): Promise<FederatedLink[]> {
    return (await this.db.rows<LinkRow>('SELECT * FROM federated_identities WHERE name = $1 ORDER BY issuer COLLATE "C", subject COLLATE "C"', [name])).map(
      fromLinkRow,
    );
  }

  async createFederated(user: NewUser, issuer: string, subject: string, now: number): Promise<boolean> {
    try {
      return await this.db.transaction(async (client) => {
        if ((await client.query(INSERT_USER, userParams(user, now))).rowCount !== 1) return false;
        const linked = await client.query(
          'INSERT INTO federated_identities (issuer, subject, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (issuer, subject) DO NOTHING',
          [issuer, subject, user.name, now],
        );
        // Linked to someone else meanwhile: undo the user as well (thrown, so the transaction rolls back).
        if (linked.rowCount !== 1) throw new SubjectTaken();
        return true;
      });
    } catch (error) {
      if (error instanceof SubjectTaken) return false;
      throw error;
    }
  }

  async link(name: string, issuer: string, subject: string, now: number): Promise<'linked' | 'unchanged' | 'taken' | 'no_user'> {
    return this.db.transaction(async (client) => {
      // FOR SHARE: the user cannot be deleted between this check and the insert.
      if ((await client.query('SELECT 1 FROM users WHERE name = $1 FOR SHARE', [name])).rowCount === 0) return 'no_user';
      const inserted = await client.query(
        'INSERT INTO federated_identities (issuer, subject, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (issuer, subject) DO NOTHING',
        [issuer, subject, name, now],
      );
      if (inserted.rowCount === 1) return 'linked';
      const existing = (await client.query<{ name: string }>('SELECT name FROM federated_identities WHERE issuer = $1 AND subject = $2', [issuer, subject]))
        .rows[0];
      return existing?.name === name ? 'unchanged' : 'taken';
    });
  }

  async unlink(name: string, issuer: string, subject: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM federated_identities WHERE name = $1 AND issuer = $2 AND subject = $3', [name, issuer, subject])).rowCount === 1;
  }
}

class SubjectTaken extends Error {}
