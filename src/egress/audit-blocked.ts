import { AuditKind, type AuditLog } from '../audit/index.js';
import type { EgressBlockedEvent } from './egress-guard.js';

/** Records a refused outbound connection as `egress.blocked` (best effort: never blocks the caller). */
export function auditBlockedEgress(audit: AuditLog): (event: EgressBlockedEvent) => void {
  return (event) => {
    void audit
      .append(
        AuditKind.EgressBlocked,
        {
          egress: { purpose: event.purpose, host: event.host, address: event.address, class: event.class, via: event.via },
          outcome: { status: 'denied', code: event.code },
        },
        { durable: false },
      )
      .catch(() => undefined);
  };
}
