import type { NewUser, UserPatch, UserRecord, UserSource, UserStore } from '../ports/index.js';
import type { SqliteDatabase } from './database.js';

interface Row {
  name: string;
  source: string;
  groups: string;
  password_hash: string | null;
  totp_secret: string | null;
  totp_last_step: number | null;
  disabled_at: number | null;
  failed_attempts: number;
  locked_until: number | null;
  last_login_at: number | null;
  attributes: string;
  created_at: number;
  updated_at: number;
}

function fromRow(row: Row): UserRecord {
  return {
    name: row.name,
    source: row.source as UserSource,
    groups: JSON.parse(row.groups) as string[],
    passwordHash: row.password_hash,
    totpSecret: row.totp_secret,
    totpLastStep: row.totp_last_step,
    disabledAt: row.disabled_at,
    failedAttempts: row.failed_attempts,
    lockedUntil: row.locked_until,
    lastLoginAt: row.last_login_at,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const COLUMNS: Record<keyof UserPatch, string> = {
  groups: 'groups',
  passwordHash: 'password_hash',
  totpSecret: 'totp_secret',
  totpLastStep: 'totp_last_step',
  disabledAt: 'disabled_at',
  failedAttempts: 'failed_attempts',
  lockedUntil: 'locked_until',
  lastLoginAt: 'last_login_at',
  attributes: 'attributes',
};

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
}
