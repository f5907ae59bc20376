// The user row as both stores keep it (same columns in SQLite and PostgreSQL) and its mapping to
// the port's record: one definition, so the two stores cannot drift apart.

import type { FederatedLink, UserPatch, UserRecord, UserSource } from '../ports/index.js';

export interface UserRow {
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

export function fromRow(row: UserRow): UserRecord {
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

export const COLUMNS: Record<keyof UserPatch, string> = {
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

/** The smallest doubling exponent at which `base << exponent` reaches `max` (bounds the shift in SQL). */
export function capExponent(baseMs: number, maxMs: number): number {
  let exponent = 0;
  while (exponent < 62 && baseMs > 0 && baseMs * 2 ** exponent < maxMs) exponent++;
  return exponent;
}

export interface LinkRow {
  issuer: string;
  subject: string;
  name: string;
  created_at: number;
}

export const fromLinkRow = (row: LinkRow): FederatedLink => ({ issuer: row.issuer, subject: row.subject, name: row.name, createdAt: row.created_at });
