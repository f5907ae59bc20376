import { AuditKind } from '../../audit/index.js';
import { completeLogin, loginFailed } from './complete-login.js';
import { type Ctx, expired, type InteractionContext, type Pending } from './context.js';

/**
 * `POST /interaction/:uid/mfa` and `POST /interaction/:uid/enroll`: the code of the second
 * factor, checked against the user's secret, or (enrollment) against the new secret, which is
 * then saved. The two differ only in which check runs.
 */
export function postTotpStep(ix: InteractionContext, stage: 'mfa' | 'enroll') {
  const { deps } = ix;
  return async (c: Ctx): Promise<Response> => {
    // The waiting sign-in is read once the interaction is known to be current.
    let state: Pending | undefined;
    const posted = await ix.posted(c, (d) => {
      state = ix.pending.get(d.uid);
      return d.prompt.name === 'login' && state !== undefined && state.stage === stage && state.expiresAt > Date.now();
    });
    if (posted instanceof Response) return posted;
    const { d, fields } = posted;
    if (!state) return expired();
    const user = await deps.users.get(state.sub);
    if (!user) return expired();
    const code = fields.code ?? '';
    const result = stage === 'mfa' ? await deps.users.checkTotp(user, code) : await deps.users.enrollTotp(user, state.secret as string, code);
    if (!result.ok) return loginFailed(ix, c, d, user.name, result, 'totp');
    if (stage === 'enroll') void deps.audit.append(AuditKind.MfaEnrolled, { actor: { sub: user.name, ip: deps.clientIp(c) } }, { durable: false });
    return completeLogin(ix, c, d, result.user, [...state.amr, 'otp', 'mfa'], 'password');
  };
}
