/**
 * Names and paths of the authorization server that other modules need without loading
 * oidc-provider (which is loaded on the first OAuth request, see server.ts).
 */
/** The first-party client behind the connected-clients page (signs the user in, gets no tokens). */
export const ACCOUNT_CLIENT_ID = 'gatehouse-account';
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

export const ROUTES = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  jwks: '/oauth/jwks',
  registration: '/oauth/register',
  introspection: '/oauth/introspect',
  revocation: '/oauth/revoke',
  pushed_authorization_request: '/oauth/par',
  end_session: '/oauth/logout',
  userinfo: '/oauth/userinfo',
  code_verification: '/oauth/device',
  device_authorization: '/oauth/device/auth',
  backchannel_authentication: '/oauth/backchannel',
  challenge: '/oauth/challenge',
  credential: '/oauth/credential',
} as const;

export const TOKEN_EXCHANGE_PARAMETERS = [
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'requested_token_type',
  'scope',
  'resource',
  'audience',
  'authorization_details',
  // Extension: the requested lifetime in seconds (never more than the subject token has left).
  'expires_in',
] as const;
