import type { ApprovalStore } from '../storage/index.js';

/**
 * What the metrics gauges read at each scrape: open sessions, and approvals still pending (a
 * pending request past its expiry no longer waits for anyone, so it is not counted).
 */
export function observedSources(sessions: { readonly size: number }, approvals: Pick<ApprovalStore, 'list'>) {
  return {
    sessions: () => sessions.size,
    pendingApprovals: async () => {
      const now = Date.now();
      return (await approvals.list({ status: ['pending'] })).filter((a) => a.expiresAt > now).length;
    },
  };
}
