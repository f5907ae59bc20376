import { describe, expect, it } from 'vitest';
import { protectedResourceMetadata, resourceMetadataUrl } from './resource-metadata.js';

describe('protected-resource metadata (RFC 9728)', () => {
  it('is published under /.well-known with the resource path after it', () => {
    expect(resourceMetadataUrl('https://gw.example.com')).toBe('https://gw.example.com/.well-known/oauth-protected-resource/mcp');
    expect(resourceMetadataUrl('https://gw.example.com/')).toBe('https://gw.example.com/.well-known/oauth-protected-resource/mcp');
    expect(resourceMetadataUrl('https://example.com:8443/gatehouse')).toBe('https://example.com:8443/.well-known/oauth-protected-resource/gatehouse/mcp');
  });

  it('names the authorization server only when there is one, and asks for DPoP only when required', () => {
    const base = { resource: 'https://gw.example.com/mcp', scopes: ['mcp', 'server:db'], dpopAlgs: ['ES256'] };
    expect(protectedResourceMetadata({ ...base, authorizationServer: 'https://gw.example.com', dpopRequired: true })).toEqual({
      resource: 'https://gw.example.com/mcp',
      authorization_servers: ['https://gw.example.com'],
      bearer_methods_supported: ['header'],
      resource_name: 'Gatehouse',
      scopes_supported: ['mcp', 'server:db'],
      dpop_signing_alg_values_supported: ['ES256'],
      dpop_bound_access_tokens_required: true,
    });
    const plain = protectedResourceMetadata({ ...base, authorizationServer: undefined, dpopRequired: false });
    expect(plain).not.toHaveProperty('authorization_servers');
    expect(plain).not.toHaveProperty('dpop_bound_access_tokens_required');
    // Only the header: tokens never travel in the URI or the body.
    expect(plain.bearer_methods_supported).toEqual(['header']);
  });
});
