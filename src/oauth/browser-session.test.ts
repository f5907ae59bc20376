import { describe, expect, it } from 'vitest';
import { safeReturnPath, signInUrl } from './browser-session.js';

describe('sign-in return paths', () => {
  it('accepts the account page and console paths', () => {
    for (const ok of ['/account', '/console', '/console/approvals', '/console/approvals/apr_Xq-9_z', '/console/approvals/'])
      expect(safeReturnPath(ok)).toBe(ok);
  });

  it('refuses anything that could leave the gateway or climb out of the console (no open redirect)', () => {
    for (const bad of [
      'https://evil.example/console',
      '//evil.example/console',
      '/\\evil.example',
      '/console/../oauth/authorize',
      '/console//evil',
      '/console/approvals?x=1',
      '/console#x',
      '/oauth/authorize',
      '/accounts',
      'console',
      '',
      undefined,
      42,
      `/console/${'a'.repeat(600)}`,
    ]) {
      expect(safeReturnPath(bad)).toBeUndefined();
    }
  });

  it('builds the sign-in and step-up links', () => {
    expect(signInUrl('/console/approvals/apr_1', { mfa: false })).toBe('/account/sign-in?return_to=%2Fconsole%2Fapprovals%2Fapr_1');
    expect(signInUrl('/console/approvals/apr_1', { mfa: true })).toBe('/account/sign-in?return_to=%2Fconsole%2Fapprovals%2Fapr_1&mfa=1');
    expect(signInUrl('https://evil.example/', { mfa: false })).toBe('/account/sign-in?return_to=%2Faccount');
  });
});
