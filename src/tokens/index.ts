export type { Principal } from './principal.js';
export { TokenError, type TokenErrorCode } from './errors.js';
export { KeyRing, generateSigningKey, type ActiveKey } from './key-ring.js';
export { issueAccessToken, type AccessTokenRequest, type IssuerSettings } from './issue-access-token.js';
export { AccessTokenVerifier, type VerifierSettings, type PrincipalCheck } from './verify-access-token.js';
export { RevocationList } from './revocation-list.js';
