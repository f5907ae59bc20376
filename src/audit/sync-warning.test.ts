import { describe, expect, it } from 'vitest';
import type { Logger } from '../log/index.js';
import { warnAuditSync } from './sync-warning.js';

function recordingLog() {
  const warnings: { fields: unknown; msg: string }[] = [];
  return { warnings, log: { warn: (fields: unknown, msg: string) => warnings.push({ fields, msg }) } as unknown as Logger };
}

describe('warnAuditSync', () => {
  it('says at start that "os" can lose the last seconds of the audit trail on a power loss', () => {
    const { warnings, log } = recordingLog();
    warnAuditSync('os', log);
    expect(warnings).toEqual([
      {
        fields: { setting: 'audit.sync', value: 'os' },
        msg: 'audit.sync is "os": audit records are written to the operating system, not fsynced; a power loss can lose the last seconds of the audit trail',
      },
    ]);
  });

  it('says nothing for the durable default, fsync', () => {
    const { warnings, log } = recordingLog();
    warnAuditSync('fsync', log);
    expect(warnings).toEqual([]);
  });
});
