import { AuthenticationError } from '../errors/index.js';

/** Stable codes for why a bearer token was refused. */
export type TokenErrorCode =
  | 'auth.missing_token'
  | 'auth.malformed_token'
  | 'auth.unsupported_alg'
  | 'auth.invalid_signature'
  | 'auth.unknown_key'
  | 'auth.token_expired'
  | 'auth.token_not_yet_valid'
  | 'auth.wrong_audience'
  | 'auth.wrong_issuer'
  | 'auth.wrong_type'
  | 'auth.lifetime_too_long'
  | 'auth.missing_claim'
  | 'auth.token_revoked';

const MESSAGES: Record<TokenErrorCode, string> = {
  'auth.missing_token': 'Authentication required.',
  'auth.malformed_token': 'The access token is malformed.',
  'auth.unsupported_alg': 'The access token uses an unsupported signing algorithm.',
  'auth.invalid_signature': 'The access token signature is invalid.',
  'auth.unknown_key': 'The access token was signed by an unknown key.',
  'auth.token_expired': 'The access token has expired.',
  'auth.token_not_yet_valid': 'The access token is not valid yet.',
  'auth.wrong_audience': 'The access token was issued for another resource.',
  'auth.wrong_issuer': 'The access token was issued by an untrusted issuer.',
  'auth.wrong_type': 'The presented token is not an access token.',
  'auth.lifetime_too_long': 'The access token lifetime exceeds the allowed maximum.',
  'auth.missing_claim': 'The access token lacks a required claim.',
  'auth.token_revoked': 'The access token has been revoked.',
};

export class TokenError extends AuthenticationError {
  constructor(code: TokenErrorCode, detail?: Record<string, unknown>) {
    // RFC 6750 §3.1: no error code when the request lacked any authentication information.
    super(code, MESSAGES[code], code === 'auth.missing_token' ? undefined : 'invalid_token', detail ? { detail } : {});
  }
}
