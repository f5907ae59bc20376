import { type Ctx, type InteractionContext, node } from './context.js';

/** `POST /interaction/:uid/abort`: the way out of a refusal page; the application gets `access_denied`. */
export function postAbort(ix: InteractionContext) {
  return async (c: Ctx): Promise<Response> => {
    const posted = await ix.posted(c, () => true);
    if (posted instanceof Response) return posted;
    ix.pending.delete(posted.uid);
    const { req, res } = node(c);
    const returnTo = await ix.deps
      .provider()
      .interactionResult(req, res, { error: 'access_denied', error_description: 'Sign-in was refused.' }, { mergeWithLastSubmission: false });
    return c.redirect(returnTo, 303);
  };
}
