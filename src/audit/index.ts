export { AuditLog, signCheckpoint, type AuditLogSettings, type AuditObserver, type CheckpointPayload } from './audit-log.js';
export { AuditKind, type AuditKindName, type AuditBody, type AuditActor, type AuditTarget } from './events.js';
export {
  actorOf,
  anonymousActor,
  describeCallOf,
  namedActor,
  targetOf,
  type ActorFacts,
  type CallFacts,
  type OriginFacts,
  type TargetFacts,
} from './records.js';
export {
  canonicalJson,
  canonicalJsonExtended,
  canonicalJsonLenient,
  canonicalJsonProblem,
  CanonicalJsonError,
  MAX_CANONICAL_DEPTH,
  type CanonicalJsonProblem,
} from './canonical-json.js';
export { linkRecord, GENESIS_HASH } from './chain.js';
export { verifyAuditLog, type AuditVerification, type AuditAnchor } from './verify-log.js';
export { redactArguments, hashArguments, argumentsProblem, looksSecret, scrubStrings, MAX_STRING, MAX_KEY } from './redact-arguments.js';
