import { AuditKind } from '../../audit/index.js';
import { newTotpSecret } from '../../identity/totp.js';
import { messagePage } from '../pages/message.js';
import { completeLogin, loginFailed } from './complete-login.js';
import { type Ctx, type InteractionContext, PENDING_TTL_MS } from './context.js';
import { renderLogin } from './pages.js';

/** `POST /interaction/:uid/login`: the password; then the second factor, its enrollment, or the end of the sign-in. */
export function postLogin(ix: InteractionContext) {
  const { deps } = ix;
  return async (c: Ctx): Promise<Response> => {
    const posted = await ix.posted(c, (d) => d.prompt.name === 'login');
    if (posted instanceof Response) return posted;
    const { uid, d, fields } = posted;
    if (!deps.config.identity.localAccounts)
      return messagePage('Not available', 'Password sign-in is turned off; use single sign-on.', { status: 400, code: 'identity.local_accounts_disabled' });
    const name = (fields.username ?? '').trim();
    // A step-up confirms the person already signed in; signing in as someone else is a sign-out first.
    const confirming = ix.stepUpSubject(d);
    if (confirming !== undefined && name !== confirming) {
      // Whatever was typed is not recorded (it may be a password typed into the wrong field).
      void deps.audit.append(
        AuditKind.LoginFailed,
        {
          actor: { sub: confirming, ip: deps.clientIp(c), client: d.params.client_id as string },
          step: 'password',
          outcome: { status: 'denied', code: 'identity.step_up_other_user' },
        },
        { durable: false },
      );
      return renderLogin(ix, c, d, { error: `You are signed in as ${confirming}: confirm with that account.`, status: 401 });
    }
    const result = await deps.users.checkPassword(name, fields.password ?? '');
    if (!result.ok) return loginFailed(ix, c, d, name, result, 'password');
    const user = result.user;
    if (user.totpSecret) {
      ix.pending.set(uid, { stage: 'mfa', sub: user.name, amr: ['pwd'], expiresAt: Date.now() + PENDING_TTL_MS });
      return c.redirect(`/interaction/${uid}`, 303);
    }
    if (deps.access.requirements(user.groups).mfa || ix.stepUp(d)) {
      ix.pending.set(uid, { stage: 'enroll', sub: user.name, amr: ['pwd'], secret: newTotpSecret(), expiresAt: Date.now() + PENDING_TTL_MS });
      return c.redirect(`/interaction/${uid}`, 303);
    }
    return completeLogin(ix, c, d, user, ['pwd'], 'password');
  };
}
