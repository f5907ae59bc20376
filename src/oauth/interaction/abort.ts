import { type Ctx, expired, type InteractionContext, node } from './context.js';

/** `POST /interaction/:uid/abort`: the way out of a refusal page; the application gets `access_denied`. */
export function postAbort(ix: InteractionContext) {
  return async (c: Ctx): Promise<Response> => {
    const uid = c.req.param('uid') as string;
    const d = await ix.details(c, uid);
    if (!d) return expired();
    const fields = await ix.form(c, uid);
    if (fields instanceof Response) return fields;
    ix.pending.delete(uid);
    const { req, res } = node(c);
    const returnTo = await ix.deps
      .provider()
      .interactionResult(req, res, { error: 'access_denied', error_description: 'Sign-in was refused.' }, { mergeWithLastSubmission: false });
    return c.redirect(returnTo, 303);
  };
}
