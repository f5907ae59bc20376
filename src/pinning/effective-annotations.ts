import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';

/** The hints Gatehouse decides on; `title` is display text and passes through. */
type Hints = Pick<ToolAnnotations, 'readOnlyHint' | 'destructiveHint' | 'idempotentHint' | 'openWorldHint'>;

/**
 * A tool's effective annotations. An upstream's annotations are claims about itself: they may
 * make a tool *more* restricted (destructive, open-world), never less (read-only, idempotent).
 * The configured value (`servers.<name>.tools.<tool>.annotations`) decides wherever it is set,
 * in both directions: the operator, not the upstream, is trusted.
 *
 * Unset hints stay unset: `destructiveHint` absent means "not destructive" to Gatehouse's
 * policies, the same as before a server said anything.
 */
export function effectiveAnnotations(declared: ToolAnnotations | undefined, configured: Hints | undefined): ToolAnnotations | undefined {
  const out: ToolAnnotations = {};
  if (declared?.title !== undefined) out.title = declared.title;
  const pick = (key: keyof Hints, restrictive: boolean): void => {
    const own = configured?.[key];
    if (own !== undefined) out[key] = own;
    else if (declared?.[key] === restrictive) out[key] = restrictive;
  };
  pick('destructiveHint', true);
  pick('openWorldHint', true);
  pick('readOnlyHint', false);
  pick('idempotentHint', false);
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Annotations from a connector Gatehouse itself defines (config, SQL analysis): the configured values override. */
export function trustedAnnotations(own: ToolAnnotations | undefined, configured: Hints | undefined): ToolAnnotations | undefined {
  if (!configured) return own;
  return { ...own, ...configured };
}

/** One word for people: what the annotations say a call does. */
export function describeEffect(annotations: ToolAnnotations | undefined): string {
  const words: string[] = [];
  if (annotations?.destructiveHint === true) words.push('destructive');
  else if (annotations?.readOnlyHint === true) words.push('read-only');
  else words.push('unspecified');
  if (annotations?.openWorldHint === true) words.push('open-world');
  return words.join(', ');
}
