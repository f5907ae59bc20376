import { describe, expect, it } from 'vitest';
import type { UserRecord } from '../storage/index.js';
import { approverGroups } from './approver-groups.js';
import { ApprovalActionError } from './types.js';

const record = (name: string, groups: string[], disabledAt: number | null = null): UserRecord => ({
  name,
  source: 'local',
  groups,
  passwordHash: 'x',
  totpSecret: null,
  totpLastStep: null,
  disabledAt,
  failedAttempts: 0,
  lockedUntil: null,
  lastLoginAt: null,
  createdAt: 0,
  updatedAt: 0,
  attributes: {},
});
const store = (...users: UserRecord[]) => ({ get: async (name: string) => users.find((u) => u.name === name) });

describe('approverGroups', () => {
  const directory = { bob: ['admins', 'sre'], dora: ['sre'] };

  it('takes the users store’s groups over approvals.directory', async () => {
    expect(await approverGroups('bob', store(record('bob', ['eng'])), directory)).toEqual({ groups: ['eng'], source: 'users' });
  });

  it('falls back to approvals.directory for names the store does not know, and to no groups', async () => {
    expect(await approverGroups('dora', store(record('bob', ['eng'])), directory)).toEqual({ groups: ['sre'], source: 'directory' });
    expect(await approverGroups('zed', store(), directory)).toEqual({ groups: [], source: 'none' });
  });

  it('refuses a disabled account, even one the directory lists', async () => {
    const error = await approverGroups('dora', store(record('dora', ['sre'], 1)), directory).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApprovalActionError);
    expect(error).toMatchObject({ reason: 'user_disabled', message: 'The account "dora" is disabled: it cannot decide approval requests.' });
  });
});
