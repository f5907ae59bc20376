export { PostgresConnector, type PostgresConnectorDeps, type PostgresCredential } from './postgres-connector.js';
export { RoleManager, LEASED_ROLE_PREFIX, ROLE_COMMENT_PREFIX, connectionBase, isLoopbackHost } from './role-manager.js';
export { guardQuery, analyzeStatement, compileDenyList, loadSqlParser, QueryRefusedError, type DenyList, type GuardedQuery } from './sql-guard.js';
export { scramSha256Verifier, SCRAM_ITERATIONS } from './scram.js';
