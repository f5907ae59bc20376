import { describe, expect, it } from 'vitest';
import { UpstreamIdpSchema } from '../config/schema.js';
import { silentLogger } from '../log/index.js';
import { FederationError, UpstreamIdp } from './federation.js';

const idp = (over: Record<string, unknown> = {}) =>
  new UpstreamIdp(
    UpstreamIdpSchema.parse({ issuer: 'https://idp.example', clientId: 'gatehouse', groupMap: { 'acme-eng': 'eng' }, ...over }),
    'https://gw.example/oauth/sso/callback',
    undefined,
    silentLogger(),
  );

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof FederationError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe("mapping the IdP's verified claims", () => {
  it("identifies the person by the ID token's issuer and subject, and maps groups through the allow-list", () => {
    expect(idp().mapClaims({ iss: 'https://idp.example', sub: 'u-123', preferred_username: 'carol', groups: ['acme-eng', 'admins'] })).toMatchObject({
      issuer: 'https://idp.example',
      subject: 'u-123',
      username: 'carol',
      groups: ['eng'],
    });
  });

  it('refuses a missing or unusable subject', () => {
    expect(refusal(() => idp().mapClaims({ iss: 'https://idp.example', preferred_username: 'carol' }))).toBe('identity.sso_failed');
    expect(refusal(() => idp().mapClaims({ iss: 'https://idp.example', sub: 'x'.repeat(256), preferred_username: 'carol' }))).toBe('identity.sso_failed');
    expect(refusal(() => idp().mapClaims({ iss: 'https://idp.example', sub: 'a\nb', preferred_username: 'carol' }))).toBe('identity.sso_failed');
  });

  it('names an account by email only when the IdP verified the address', () => {
    const byEmail = idp({ usernameClaim: 'email' });
    expect(refusal(() => byEmail.mapClaims({ iss: 'https://idp.example', sub: 's', email: 'ceo@acme.example' }))).toBe('identity.sso_unverified_email');
    expect(refusal(() => byEmail.mapClaims({ iss: 'https://idp.example', sub: 's', email: 'ceo@acme.example', email_verified: 'true' }))).toBe(
      'identity.sso_unverified_email',
    );
    expect(byEmail.mapClaims({ iss: 'https://idp.example', sub: 's', email: 'ceo@acme.example', email_verified: true })).toMatchObject({
      username: 'ceo@acme.example',
      subject: 's',
    });
  });
});
