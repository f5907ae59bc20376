export { AuditLog, signCheckpoint, type AuditLogSettings, type CheckpointPayload } from './audit-log.js';
export { AuditKind, type AuditBody, type AuditActor, type AuditTarget } from './events.js';
export { canonicalJson } from './canonical-json.js';
export { linkRecord, GENESIS_HASH } from './chain.js';
export { verifyAuditLog, type AuditVerification, type AuditAnchor } from './verify-log.js';
export { redactArguments, hashArguments, looksSecret, scrubStrings } from './redact-arguments.js';
