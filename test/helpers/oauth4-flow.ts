import * as oauth from 'oauth4webapi';
import type { OAuthGateway, SignInOptions } from './oauth-gateway.js';
import { signIn } from './oauth-gateway.js';
import type { Browser } from './browser.js';

export const insecure = { [oauth.allowInsecureRequests]: true } as const;

export async function discover(gw: OAuthGateway): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(gw.url);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
}

export async function register(as: oauth.AuthorizationServer, metadata: Record<string, unknown>): Promise<oauth.Client & { client_secret?: string }> {
  const res = await fetch(as.registration_endpoint as string, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token_endpoint_auth_method: 'none', ...metadata }),
  });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as oauth.Client;
}

export interface FlowOptions extends SignInOptions {
  scope?: string;
  authorizationDetails?: unknown[];
  DPoP?: oauth.DPoPHandle;
  browser?: Browser;
  redirectUri?: string;
}

/** The authorization code flow with oauth4webapi validating every response strictly. */
export async function codeFlow(
  gw: OAuthGateway,
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  options: FlowOptions = {},
): Promise<oauth.TokenEndpointResponse> {
  const redirectUri = options.redirectUri ?? ((client.redirect_uris as string[])[0] as string);
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint as string);
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', options.scope ?? 'mcp');
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('resource', gw.mcpUrl);
  if (options.authorizationDetails) url.searchParams.set('authorization_details', JSON.stringify(options.authorizationDetails));
  const callback = await signIn(options.browser ?? gw.browser(), url, options);
  const params = oauth.validateAuthResponse(as, client, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, {
    ...insecure,
    additionalParameters: { resource: gw.mcpUrl },
    ...(options.DPoP ? { DPoP: options.DPoP } : {}),
  });
  return oauth.processAuthorizationCodeResponse(as, client, response);
}

export function mcpInit(): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'oauth4webapi-test', version: '1' } },
  });
}

export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
