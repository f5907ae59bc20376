import type { JsonPathStep } from '../../config/http/json-path.js';
import type { PathSegment } from '../../config/http/path-template.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Where a request part's value comes from: one argument (typed), or text with `{arg}` placeholders. */
export type ValueBinding = { arg: string } | { text: ({ literal: string } | { arg: string })[] };

/** What the agent may receive from a tool (resolved: defaults filled in). */
export interface ResponseRule {
  fields: JsonPathStep[][] | undefined;
  maxBytes: number;
  /** Media types (lowercase, `type/*` allowed) returned as text; JSON types are parsed and filtered. */
  contentTypes: string[];
}

/** One tool of the HTTP connector, from an OpenAPI operation or declared by hand. */
export interface HttpToolSpec {
  name: string;
  description: string;
  method: HttpMethod;
  path: PathSegment[];
  inputSchema: Record<string, unknown>;
  query: [name: string, value: ValueBinding][];
  headers: [name: string, value: ValueBinding][];
  /** JSON body template: strings `{arg}` are replaced by the argument's value. Absent: no body. */
  body: { template: unknown } | undefined;
  /** GET and HEAD read; everything else writes (server `tools.<name>.annotations` override). */
  readOnly: boolean;
  response: ResponseRule;
  source: 'openapi' | 'config';
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_.-]{0,63})\}/g;

/** `{id}` → the argument; `INV-{id}` → text with the argument inside. */
export function parseBinding(template: string): ValueBinding {
  const whole = /^\{([A-Za-z_][A-Za-z0-9_.-]{0,63})\}$/.exec(template);
  if (whole) return { arg: whole[1] as string };
  const text: ({ literal: string } | { arg: string })[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (match.index > last) text.push({ literal: template.slice(last, match.index) });
    text.push({ arg: match[1] as string });
    last = match.index + match[0].length;
  }
  if (last < template.length) text.push({ literal: template.slice(last) });
  return { text };
}

/** The argument names a binding reads. */
export function bindingArgs(binding: ValueBinding): string[] {
  return 'arg' in binding ? [binding.arg] : binding.text.flatMap((p) => ('arg' in p ? [p.arg] : []));
}
