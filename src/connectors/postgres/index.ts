export { PostgresConnector, type PostgresConnectorDeps } from './postgres-connector.js';
export { PostgresCredentialIssuer, type PostgresCredential } from './credential-issuer.js';
export { RoleManager, LEASED_ROLE_PREFIX, ROLE_COMMENT_PREFIX, connectionBase, isLoopbackHost } from './role-manager.js';
export { guardQuery, analyzeStatement, compileDenyList, loadSqlParser, refuseNul, QueryRefusedError, type DenyList, type GuardedQuery } from './sql-guard.js';
export { catalogCheckSql, catalogRefusal, BUILTIN_DENIED, VOLATILE_ALLOWED, type CatalogRef } from './catalog-check.js';
export { ACTOR_SCHEMA_SQL, ACTOR_BINDING_CHECK_SQL, ActorBindingError, actorGrantSql } from './actor-binding.js';
export { sessionResetSql } from './session-reset.js';
export { scramSha256Verifier, SCRAM_ITERATIONS } from './scram.js';
