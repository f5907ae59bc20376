import type { AttemptPolicy, AttemptReservation, FederatedLink, NewUser, UserPatch, UserRecord, UserStore } from '../ports/index.js';
import type { SqliteDatabase } from './database.js';
import { type UserRow as Row, fromRow, COLUMNS, capExponent, type LinkRow, fromLinkRow } from '../rows/user-row.js';

/**
 * One statement: count the attempt unless locked, and lock at the threshold (doubling per
 * further failure, up to the maximum). SQLite runs it under its write lock, so concurrent
 * requests — in this process or another sharing the file — each see the previous one's count.
 */
const RESERVE = `
UPDATE users SET
  failed_attempts = failed_attempts + 1,
  locked_until = CASE
    WHEN failed_attempts + 1 >= :threshold
      THEN :now + MIN(:max, :base << MIN(failed_attempts + 1 - :threshold, :cap))
    ELSE locked_until END,
  updated_at = :now
WHERE name = :name AND (locked_until IS NULL OR locked_until <= :now)
RETURNING failed_attempts, locked_until`;

const RELEASE = `
UPDATE users SET
  failed_attempts = MAX(failed_attempts - 1, 0),
  locked_until = CASE WHEN :lock IS NOT NULL AND locked_until = :lock THEN NULL ELSE locked_until END,
  updated_at = :now
WHERE name = :name`;

export class SqliteUserStore implements UserStore {
  constructor(private readonly sql: SqliteDatabase) {}

  async get(name: string): Promise<UserRecord | undefined> {
    const row = this.sql.statement('SELECT * FROM users WHERE name = ?').get(name) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async list(): Promise<UserRecord[]> {
    return (this.sql.statement('SELECT * FROM users ORDER BY name').all() as unknown as Row[]).map(fromRow);
  }

  async create(user: NewUser, now: number): Promise<boolean> {
    const result = this.sql
      .statement('INSERT OR IGNORE INTO users (name, source, groups, password_hash, attributes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(user.name, user.source, JSON.stringify(user.groups), user.passwordHash, JSON.stringify(user.attributes ?? {}), now, now);
    return Number(result.changes) === 1;
  }

  async update(name: string, patch: UserPatch, now: number): Promise<boolean> {
    const sets: string[] = [];
    const values: (string | number | null)[] = [];
    for (const [key, value] of Object.entries(patch) as [keyof UserPatch, unknown][]) {
      if (value === undefined) continue;
      sets.push(`${COLUMNS[key]} = ?`);
      values.push(key === 'groups' || key === 'attributes' ? JSON.stringify(value) : (value as string | number | null));
    }
    sets.push('updated_at = ?');
    values.push(now, name);
    const result = this.sql.statement(`UPDATE users SET ${sets.join(', ')} WHERE name = ?`).run(...values);
    return Number(result.changes) === 1;
  }

  async disabledNames(): Promise<string[]> {
    return (this.sql.statement('SELECT name FROM users WHERE disabled_at IS NOT NULL').all() as { name: string }[]).map((r) => r.name);
  }

  async reserveAttempt(name: string, policy: AttemptPolicy, now: number): Promise<AttemptReservation | undefined> {
    const row = this.sql.statement(RESERVE).get({
      name,
      now,
      threshold: policy.threshold,
      base: Math.max(0, Math.floor(policy.baseDelayMs)),
      max: Math.max(0, Math.floor(policy.maxDelayMs)),
      cap: capExponent(policy.baseDelayMs, policy.maxDelayMs),
    }) as { failed_attempts: number; locked_until: number | null } | undefined;
    if (row) return { reserved: true, failedAttempts: row.failed_attempts, lockedUntil: row.locked_until };
    const user = this.sql.statement('SELECT locked_until FROM users WHERE name = ?').get(name) as { locked_until: number | null } | undefined;
    if (!user) return undefined;
    return { reserved: false, lockedUntil: user.locked_until ?? now };
  }

  async releaseAttempt(name: string, lockedUntil: number | null, now: number): Promise<void> {
    this.sql.statement(RELEASE).run({ name, lock: lockedUntil, now });
  }

  async claimTotpStep(name: string, step: number, now: number): Promise<boolean> {
    const result = this.sql
      .statement(
        'UPDATE users SET totp_last_step = ?, updated_at = ? WHERE name = ? AND totp_secret IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < ?)',
      )
      .run(step, now, name, step);
    return Number(result.changes) === 1;
  }

  async enrollTotp(name: string, secret: string, step: number, now: number): Promise<boolean> {
    const result = this.sql
      .statement('UPDATE users SET totp_secret = ?, totp_last_step = ?, updated_at = ? WHERE name = ? AND totp_secret IS NULL')
      .run(secret, step, now, name);
    return Number(result.changes) === 1;
  }

  async findFederated(issuer: string, subject: string): Promise<FederatedLink | undefined> {
    const row = this.sql.statement('SELECT * FROM federated_identities WHERE issuer = ? AND subject = ?').get(issuer, subject) as LinkRow | undefined;
    return row ? fromLinkRow(row) : undefined;
  }

  async federatedLinks(name: string): Promise<FederatedLink[]> {
    return (this.sql.statement('SELECT * FROM federated_identities WHERE name = ? ORDER BY issuer, subject').all(name) as unknown as LinkRow[]).map(
      fromLinkRow,
    );
  }

  async createFederated(user: NewUser, issuer: string, subject: string, now: number): Promise<boolean> {
    try {
      return this.#createFederated(user, issuer, subject, now);
    } catch (error) {
      if (error instanceof SubjectTaken) return false;
      throw error;
    }
  }

  #createFederated(user: NewUser, issuer: string, subject: string, now: number): boolean {
    return this.sql.transaction(() => {
      const created = this.sql
        .statement('INSERT OR IGNORE INTO users (name, source, groups, password_hash, attributes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(user.name, user.source, JSON.stringify(user.groups), user.passwordHash, JSON.stringify(user.attributes ?? {}), now, now);
      if (Number(created.changes) !== 1) return false;
      const linked = this.sql
        .statement('INSERT OR IGNORE INTO federated_identities (issuer, subject, name, created_at) VALUES (?, ?, ?, ?)')
        .run(issuer, subject, user.name, now);
      // Linked to someone else meanwhile: undo the user as well (thrown, so the transaction rolls back).
      if (Number(linked.changes) !== 1) throw new SubjectTaken();
      return true;
    });
  }

  async link(name: string, issuer: string, subject: string, now: number): Promise<'linked' | 'unchanged' | 'taken' | 'no_user'> {
    return this.sql.transaction(() => {
      if (!this.sql.statement('SELECT 1 FROM users WHERE name = ?').get(name)) return 'no_user';
      const existing = this.sql.statement('SELECT name FROM federated_identities WHERE issuer = ? AND subject = ?').get(issuer, subject) as
        | { name: string }
        | undefined;
      if (existing) return existing.name === name ? 'unchanged' : 'taken';
      this.sql.statement('INSERT INTO federated_identities (issuer, subject, name, created_at) VALUES (?, ?, ?, ?)').run(issuer, subject, name, now);
      return 'linked';
    });
  }

  async unlink(name: string, issuer: string, subject: string): Promise<boolean> {
    const result = this.sql.statement('DELETE FROM federated_identities WHERE name = ? AND issuer = ? AND subject = ?').run(name, issuer, subject);
    return Number(result.changes) === 1;
  }
}

class SubjectTaken extends Error {}
