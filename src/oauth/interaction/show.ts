import { describePermissions } from '../describe-permissions.js';
import { consentPage } from '../pages/consent.js';
import { messagePage } from '../pages/message.js';
import { type Ctx, expired, type InteractionContext } from './context.js';
import { renderLogin, renderTotp } from './pages.js';

/** `GET /interaction/:uid`: the page for the step the sign-in is at (password, second factor, consent). */
export function showInteraction(ix: InteractionContext) {
  return async (c: Ctx): Promise<Response> => {
    ix.sweep();
    const uid = c.req.param('uid') as string;
    const d = await ix.details(c, uid);
    if (!d) return expired();
    if (d.prompt.name === 'login') {
      const state = ix.pending.get(uid);
      if (state) return renderTotp(ix, uid, state);
      return renderLogin(ix, c, d);
    }
    if (d.prompt.name === 'consent') {
      const clientId = d.params.client_id as string;
      const { name, native } = await ix.clientName(clientId);
      const scopes = ((d.params.scope as string | undefined) ?? '').split(' ').filter(Boolean);
      const rar = d.params.authorization_details ? (JSON.parse(d.params.authorization_details as string) as unknown[]) : undefined;
      return consentPage({
        action: `/interaction/${uid}/consent`,
        csrf: ix.csrfToken(uid),
        user: d.session?.accountId as string,
        clientName: name,
        clientId,
        redirectHost: URL.parse(d.params.redirect_uri as string)?.host ?? '(none)',
        permissions: describePermissions(scopes, rar),
        native,
      });
    }
    return messagePage('Cannot continue', 'This sign-in needs a step Gatehouse does not support.', { status: 400, code: `interaction.${d.prompt.name}` });
  };
}
