import { describe, expect, it } from 'vitest';
import type { ApprovalFilter } from '../storage/index.js';
import { observedSources } from './observed-sources.js';

describe('observedSources', () => {
  it('counts open sessions at each read, and pending approvals that have not expired', async () => {
    const sessions = { size: 3 };
    const filters: ApprovalFilter[] = [];
    const now = Date.now();
    const approvals = {
      list: async (filter: ApprovalFilter) => {
        filters.push(filter);
        return [{ expiresAt: now + 60_000 }, { expiresAt: now - 1 }, { expiresAt: now + 1_000 }] as never;
      },
    };
    const sources = observedSources(sessions, approvals);
    expect(sources.sessions()).toBe(3);
    sessions.size = 5;
    expect(sources.sessions()).toBe(5);
    expect(await sources.pendingApprovals()).toBe(2);
    expect(filters).toEqual([{ status: ['pending'] }]);
  });
});
