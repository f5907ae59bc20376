import type { Context } from 'hono';
import { describe, expect, it } from 'vitest';
import { ConsoleAccessError } from '../console/console-auth.js';
import { ConditionalAccess } from '../identity/conditional-access.js';
import type { UserRecord } from '../storage/index.js';
import type { SignedInSession } from './browser-session.js';
import { sessionConsoleAuth } from './console-auth.js';

const user = (name: string, groups: string[], disabledAt: number | null = null) => ({ name, groups, disabledAt }) as UserRecord;
const session = (sub: string, amr: string[], authTime: number | undefined = 1_700_000_000_000): SignedInSession => ({
  id: `sid-${sub}`,
  sub,
  amr,
  authTime,
  destroy: async () => undefined,
});
const c = {} as Context;

function auth(s: SignedInSession | undefined, users: UserRecord[], extra: Partial<Parameters<typeof sessionConsoleAuth>[0]> = {}) {
  return sessionConsoleAuth({ session: async () => s, users: { get: async (n) => users.find((u) => u.name === n) }, mfaAmrValues: ['otp', 'mfa'], ...extra });
}

describe('sessionConsoleAuth', () => {
  it('is the session’s account with the users store’s groups; mfaAt is the sign-in time only when it had a second factor', async () => {
    expect(await auth(session('bob', ['pwd', 'otp', 'mfa']), [user('bob', ['sre'])]).currentUser(c)).toEqual({
      sub: 'bob',
      groups: ['sre'],
      mfaAt: 1_700_000_000_000,
      sessionId: 'sid-bob',
    });
    expect(await auth(session('bob', ['pwd']), [user('bob', ['sre'])]).currentUser(c)).toEqual({
      sub: 'bob',
      groups: ['sre'],
      mfaAt: undefined,
      sessionId: 'sid-bob',
    });
    // Federated: groups as of the last single sign-on, MFA as the IdP reported it.
    expect(await auth(session('fred', ['fed', 'mfa']), [user('fred', ['ops'])]).currentUser(c)).toMatchObject({ groups: ['ops'], mfaAt: 1_700_000_000_000 });
  });

  it('is nobody without a session, for a disabled account, or for an account that no longer exists', async () => {
    expect(await auth(undefined, [user('bob', ['sre'])]).currentUser(c)).toBeUndefined();
    expect(await auth(session('bob', ['otp']), [user('bob', ['sre'], 5)]).currentUser(c)).toBeUndefined();
    expect(await auth(session('ghost', ['otp']), []).currentUser(c)).toBeUndefined();
  });

  it('catches up with other processes first (a CLI revocation deletes the session before it is read)', async () => {
    const order: string[] = [];
    const a = sessionConsoleAuth({
      session: async () => (order.push('session'), undefined),
      users: { get: async () => undefined },
      mfaAmrValues: ['otp'],
      catchUp: () => new Promise<void>((resolve) => setTimeout(() => (order.push('catch-up'), resolve()), 5)),
    });
    await a.currentUser(c);
    expect(order).toEqual(['catch-up', 'session']);
  });

  it('applies conditional-access networks to the browser’s address', async () => {
    const access = new ConditionalAccess({ sre: { mfa: false, networks: ['10.0.0.0/8'] } } as never);
    const at = (ip: string) => auth(session('bob', ['otp']), [user('bob', ['sre'])], { access, clientIp: () => ip }).currentUser(c);
    expect(await at('10.1.2.3')).toMatchObject({ sub: 'bob' });
    const error = await Promise.resolve()
      .then(() => at('127.0.0.1'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConsoleAccessError);
    expect(error).toMatchObject({ code: 'identity.network_not_allowed' });
  });

  it('sends sign-ins and step-ups through the authorization server’s sign-in', () => {
    const a = auth(undefined, []);
    expect(a.loginUrl?.('/console/approvals', { mfa: false })).toBe('/account/sign-in?return_to=%2Fconsole%2Fapprovals');
    expect(a.loginUrl?.('/console/approvals/apr_1', { mfa: true })).toBe('/account/sign-in?return_to=%2Fconsole%2Fapprovals%2Fapr_1&mfa=1');
  });
});
