import { AuditKind } from '../../audit/index.js';
import { type Ctx, type InteractionContext, node } from './context.js';

/** `POST /interaction/:uid/consent`: the user's decision; an approval becomes an oidc-provider grant and a stored consent. */
export function postConsent(ix: InteractionContext) {
  const { deps } = ix;
  return async (c: Ctx): Promise<Response> => {
    const posted = await ix.posted(c, (d) => d.prompt.name === 'consent');
    if (posted instanceof Response) return posted;
    const { d, fields } = posted;
    const provider = deps.provider();
    const { req, res } = node(c);
    const clientId = d.params.client_id as string;
    const sub = d.session?.accountId as string;
    if (fields.decision !== 'allow') {
      void deps.audit.append(AuditKind.Consent, { actor: { sub, client: clientId, ip: deps.clientIp(c) }, decision: { effect: 'deny' } }, { durable: false });
      const returnTo = await provider.interactionResult(
        req,
        res,
        { error: 'access_denied', error_description: 'The user denied the request.' },
        { mergeWithLastSubmission: false },
      );
      return c.redirect(returnTo, 303);
    }
    const rar = d.params.authorization_details ? (JSON.parse(d.params.authorization_details as string) as Record<string, unknown>[]) : undefined;
    // A purpose-bound request gets its own grant, so its approval never widens another.
    const grant = d.grantId && !rar ? await provider.Grant.find(d.grantId) : undefined;
    const target = grant ?? new provider.Grant({ accountId: sub, clientId });
    const promptDetails = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (promptDetails.missingOIDCScope) target.addOIDCScope(promptDetails.missingOIDCScope.join(' '));
    if (promptDetails.missingOIDCClaims) target.addOIDCClaims(promptDetails.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(promptDetails.missingResourceScopes ?? {})) target.addResourceScope(indicator, scopes.join(' '));
    if (rar && !promptDetails.missingResourceScopes && d.params.resource) {
      const requested = ((d.params.scope as string | undefined) ?? '').split(' ').filter(Boolean).join(' ');
      if (requested) target.addResourceScope(d.params.resource as string, requested);
    }
    for (const detail of rar ?? []) (target as unknown as { addRar(d: unknown): void }).addRar(detail);
    const grantId = await target.save();
    const scopes = ((d.params.scope as string | undefined) ?? '').split(' ').filter(Boolean);
    const { name } = await ix.clientName(clientId);
    const now = Date.now();
    const previous = await deps.consents.get(sub, clientId);
    await deps.consents.upsert({
      sub,
      clientId,
      clientName: name,
      redirectHost: URL.parse(d.params.redirect_uri as string)?.host ?? '',
      scopes: [...new Set([...(previous?.scopes ?? []), ...scopes])],
      createdAt: previous?.createdAt ?? now,
      lastUsedAt: now,
    });
    await deps.audit.append(
      AuditKind.Consent,
      { actor: { sub, client: clientId, ip: deps.clientIp(c) }, decision: { effect: 'allow' }, scopes, ...(rar ? { authorizationDetails: rar } : {}) },
      { durable: true },
    );
    const returnTo = await provider.interactionResult(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return c.redirect(returnTo, 303);
  };
}
