/**
 * Path templates (`/invoices/{id}/lines/{line}`, OpenAPI's `/files/{name}.json`): literal
 * text and `{param}` placeholders inside `/`-separated segments. Parsed once at start-up.
 */
export type PathPiece = { literal: string } | { param: string };
export type PathSegment = PathPiece[];

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
/** RFC 3986 pchar without '%' (a literal segment is written decoded, and never a dot segment). */
const LITERAL = /^[A-Za-z0-9._~!$&'()*+,;=:@-]*$/;

export function parsePathTemplate(template: string): PathSegment[] {
  const problem = pathTemplateProblem(template);
  if (problem) throw new SyntaxError(problem);
  return splitTemplate(template);
}

export function pathTemplateProblem(template: string): string | undefined {
  if (!template.startsWith('/')) return `path "${template.slice(0, 64)}" must start with /`;
  if (template.length > 2048) return 'path is longer than 2048 characters';
  for (const segment of splitTemplate(template)) {
    const literalText = segment.map((p) => ('literal' in p ? p.literal : '')).join('');
    for (const piece of segment) {
      if ('literal' in piece && !LITERAL.test(piece.literal))
        return `path "${template.slice(0, 64)}": "${piece.literal.slice(0, 32)}" has characters a path segment cannot hold literally (braces must enclose a parameter name)`;
      if ('param' in piece && !PARAM_NAME.test(piece.param)) return `path "${template.slice(0, 64)}": "{${piece.param.slice(0, 32)}}" is not a parameter name`;
    }
    if (segment.every((p) => 'literal' in p) && (literalText === '.' || literalText === '..')) return `path "${template.slice(0, 64)}" has a dot segment`;
  }
  return undefined;
}

/** The parameter names a template uses, in order. */
export function templateParams(segments: readonly PathSegment[]): string[] {
  return segments.flatMap((s) => s.flatMap((p) => ('param' in p ? [p.param] : [])));
}

function splitTemplate(template: string): PathSegment[] {
  return template
    .slice(1)
    .split('/')
    .map((segment) => {
      const pieces: PathPiece[] = [];
      let i = 0;
      while (i < segment.length) {
        const open = segment.indexOf('{', i);
        if (open < 0) {
          pieces.push({ literal: segment.slice(i) });
          break;
        }
        if (open > i) pieces.push({ literal: segment.slice(i, open) });
        const close = segment.indexOf('}', open);
        if (close < 0) {
          pieces.push({ literal: segment.slice(open) });
          break;
        }
        pieces.push({ param: segment.slice(open + 1, close) });
        i = close + 1;
      }
      return pieces;
    });
}
