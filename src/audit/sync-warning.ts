import type { Logger } from '../log/index.js';

/**
 * `audit.sync: os` trades the audit trail's last seconds for speed: records reach the operating
 * system but are not fsynced, so a power loss (not a process kill) can lose them. An operator
 * who chose it sees it said at every start.
 */
export function warnAuditSync(sync: 'fsync' | 'os', log: Logger): void {
  if (sync !== 'os') return;
  log.warn(
    { setting: 'audit.sync', value: 'os' },
    'audit.sync is "os": audit records are written to the operating system, not fsynced; a power loss can lose the last seconds of the audit trail',
  );
}
