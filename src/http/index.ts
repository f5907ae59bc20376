export { createHttpApp, type HttpAppDeps, type ProtectedResourceMetadata } from './app.js';
export { jsonRpcErrorResponse } from './json-rpc-error.js';
export { bearerAuth, bearerChallenge, type AuthVariables, type BearerAuthOptions } from './middleware/bearer-auth.js';
export { hostOriginCheck, type HostOriginOptions } from './middleware/host-origin.js';
export { mcpCors, publicCors } from './middleware/cors.js';
export { jsonBody, type JsonBodyVariables } from './middleware/json-body.js';
