import type { ProtectedResourceMetadata } from './app.js';

/** Where the protected-resource metadata of `<publicUrl>/mcp` is published (RFC 9728 §3.1: inserted before the path). */
export function resourceMetadataUrl(publicUrl: string): string {
  const url = new URL(publicUrl);
  return `${url.origin}/.well-known/oauth-protected-resource${url.pathname === '/' ? '' : url.pathname}/mcp`;
}

export interface ResourceMetadataSettings {
  /** The audience of access tokens for `/mcp`. */
  resource: string;
  /** The authorization server issuing tokens for it, when this gateway runs one. */
  authorizationServer: string | undefined;
  scopes: readonly string[];
  dpopAlgs: readonly string[];
  dpopRequired: boolean;
}

/** RFC 9728 protected-resource metadata for `/mcp`. */
export function protectedResourceMetadata(settings: ResourceMetadataSettings): ProtectedResourceMetadata {
  return {
    resource: settings.resource,
    // RFC 9728 §2: the authorization server that issues tokens for this resource.
    ...(settings.authorizationServer !== undefined ? { authorization_servers: [settings.authorizationServer] } : {}),
    bearer_methods_supported: ['header'],
    resource_name: 'Gatehouse',
    scopes_supported: [...settings.scopes],
    dpop_signing_alg_values_supported: [...settings.dpopAlgs],
    ...(settings.dpopRequired ? { dpop_bound_access_tokens_required: true } : {}),
  };
}
