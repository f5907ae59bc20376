import { createHash } from 'node:crypto';
import { htmlPageHeaders } from '../../http/page-headers.js';

/**
 * Escapes text for HTML element content and attributes. Stricter than hono/html (the console's
 * escaper): it also escapes backtick and `=`, so a value stays inert even in an unquoted
 * attribute, and writes numeric references; these pages show attacker-chosen client names
 * (dynamic registration), see docs/decisions.md.
 */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`=]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A trusted HTML fragment (already escaped). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Tagged template: interpolations are escaped unless they are Html fragments (or arrays of them). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    const render = (v: unknown): string =>
      v instanceof Html ? v.value : Array.isArray(v) ? v.map(render).join('') : v === undefined || v === null || v === false ? '' : esc(v);
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

const CSS = `:root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5}
body{margin:0;background:Canvas;color:CanvasText}
main{max-width:34rem;margin:3rem auto;padding:0 1.25rem}
h1{font-size:1.5rem;margin:0 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid GrayText;border-radius:.3rem;background:Field;color:FieldText}
button{font-size:1rem;padding:.6rem 1.2rem;border-radius:.3rem;border:1px solid ButtonBorder;cursor:pointer;margin:1rem .5rem 0 0}
button.primary{background:#1f5fbf;color:#fff;border-color:#1f5fbf}
.alert{border-left:.3rem solid #b3261e;padding:.5rem .75rem;margin:1rem 0;background:color-mix(in srgb,#b3261e 10%,Canvas)}
.note{color:GrayText;font-size:.9rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dt{font-weight:600}
dd{margin:0;overflow-wrap:anywhere}
code{font-family:ui-monospace,monospace;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4rem;border-bottom:1px solid GrayText;vertical-align:top}
ul{padding-left:1.2rem}`;

const CSS_HASH = createHash('sha256').update(CSS).digest('base64');

/**
 * Security headers for every page: no framing (clickjacking on consent), no external loads,
 * only our own stylesheet (by hash), no caching of pages that carry CSRF tokens.
 */
export const PAGE_HEADERS: Record<string, string> = htmlPageHeaders(
  `default-src 'none'; style-src 'sha256-${CSS_HASH}'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'`,
);

export function page(title: string, body: Html): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${esc(title)} · Gatehouse</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${esc(title)}</h1>
${body.value}
</main>
</body>
</html>
`;
}

export function pageResponse(title: string, body: Html, status = 200, extraHeaders: Record<string, string> = {}): Response {
  return new Response(page(title, body), { status, headers: { ...PAGE_HEADERS, ...extraHeaders } });
}

export function alert(message: string | undefined): Html {
  return message ? html`<p class="alert" role="alert">${message}</p>` : html``;
}
