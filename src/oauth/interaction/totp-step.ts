import { AuditKind } from '../../audit/index.js';
import { completeLogin, loginFailed } from './complete-login.js';
import { type Ctx, expired, type InteractionContext } from './context.js';

/**
 * `POST /interaction/:uid/mfa` and `POST /interaction/:uid/enroll`: the code of the second
 * factor, checked against the user's secret, or (enrollment) against the new secret, which is
 * then saved. The two differ only in which check runs.
 */
export function postTotpStep(ix: InteractionContext, stage: 'mfa' | 'enroll') {
  const { deps } = ix;
  return async (c: Ctx): Promise<Response> => {
    const uid = c.req.param('uid') as string;
    const d = await ix.details(c, uid);
    const state = ix.pending.get(uid);
    if (d?.prompt.name !== 'login' || !state || state.stage !== stage || state.expiresAt <= Date.now()) return expired();
    const fields = await ix.form(c, uid);
    if (fields instanceof Response) return fields;
    const user = await deps.users.get(state.sub);
    if (!user) return expired();
    const code = fields.code ?? '';
    const result = stage === 'mfa' ? await deps.users.checkTotp(user, code) : await deps.users.enrollTotp(user, state.secret as string, code);
    if (!result.ok) return loginFailed(ix, c, d, user.name, result, 'totp');
    if (stage === 'enroll') void deps.audit.append(AuditKind.MfaEnrolled, { actor: { sub: user.name, ip: deps.clientIp(c) } }, { durable: false });
    return completeLogin(ix, c, d, result.user, [...state.amr, 'otp', 'mfa'], 'password');
  };
}
