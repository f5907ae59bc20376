import { html as honoHtml } from 'hono/html';
import { htmlPageHeaders } from '../http/page-headers.js';

/** HTML-escapes text for element content and double-quoted attributes (hono's escaper). */
export function escapeHtml(value: unknown): string {
  return String(honoHtml`${String(value)}`);
}

/**
 * Tagged template that escapes every interpolated value unless it is marked `raw` (hono/html
 * does the work). Hono drops `true` like `false`; these pages have always printed it as text,
 * so it goes in as the string.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  return new Raw(String(honoHtml(strings, ...values.map(printable))));
}

/** Already-escaped HTML; `isEscaped` tells hono/html to insert it as it is. */
export class Raw {
  readonly isEscaped = true;
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

function printable(value: unknown): unknown {
  if (value === true) return 'true';
  return Array.isArray(value) ? value.map(printable) : value;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --bg: #fff; --line: #d0d7de; --accent: #0b5cad; --danger: #b42318; --ok: #1a7f37; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9da7b3; --bg: #0d1117; --line: #30363d; --accent: #4493f8; --danger: #f85149; --ok: #3fb950; } }
body { font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; } dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
pre { background: color-mix(in srgb, var(--line) 30%, transparent); padding: .75rem; overflow: auto; border-radius: 6px; }
pre.args { max-height: 70vh; white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-all; }
label.check { display: flex; gap: .5rem; align-items: baseline; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
.status { font-weight: 600; text-transform: uppercase; font-size: .85rem; } .warn { color: var(--danger); } .ok { color: var(--ok); }
form { margin: 1rem 0; } label { display: block; margin: .5rem 0 .25rem; } textarea { width: 100%; min-height: 4rem; font: inherit; }
button { font: inherit; padding: .5rem 1.1rem; border-radius: 6px; border: 1px solid var(--line); cursor: pointer; margin-right: .5rem; }
button.approve { background: var(--ok); color: #fff; border-color: var(--ok); } button.deny { background: transparent; color: var(--danger); border-color: var(--danger); }
button.breakglass { background: var(--danger); color: #fff; border-color: var(--danger); }
.notice { border-left: 4px solid var(--accent); padding: .5rem 1rem; } .notice.bad { border-color: var(--danger); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
`;

/** A whole page: no scripts, no external assets, styles inline (allowed by the CSP below). */
export function page(title: string, body: Raw): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Gatehouse</title><style>${STYLE}</style></head>
<body><main>${body.value}</main></body></html>`;
}

/** Headers for every console response. */
export const CONSOLE_HEADERS: Record<string, string> = htmlPageHeaders(
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
);
