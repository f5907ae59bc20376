import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '..');

/**
 * Ways to open an outbound connection without the egress guard. Inbound servers
 * (`createServer`) and type-only imports are fine; everything that dials out is listed.
 */
const OUTBOUND: [what: string, pattern: RegExp][] = [
  ['global fetch', /(?<![.\w$#])fetch\s*\(/],
  ['globalThis.fetch call', /globalThis\.fetch\s*\(/],
  ['undici', /(?<!type\s[^;]{0,200})from\s+['"]undici['"]|import\(\s*['"]undici['"]\s*\)|require\(\s*['"]undici['"]\s*\)/],
  ['node:http(s) request/get/Agent', /import\s*\{[^}]*\b(request|get|Agent)\b[^}]*\}\s*from\s*['"](node:)?https?['"]/],
  ['http(s).request/get', /\bhttps?\.(request|get)\s*\(/],
  [
    'node:net/tls connect',
    /import\s*\{[^}]*\b(connect|createConnection|Socket)\b[^}]*\}\s*from\s*['"](node:)?(net|tls)['"]|\b(net|tls)\.(connect|createConnection)\s*\(/,
  ],
  ['WebSocket client', /new\s+WebSocket\s*\(/],
];

/**
 * Files that may dial out directly, and why. Everything else goes through src/egress
 * (createGuardedFetch / EgressGuard).
 */
const EXEMPT: Record<string, string> = {
  'cli/commands/status.ts': "the operator's own gateway on its configured listen address (the CLI on the same host), not an outbound destination",
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** Source text without comments (a comment mentioning fetch( is not a call). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe('every outbound connection goes through the egress guard', () => {
  const files = sourceFiles(SRC);

  it('no file outside src/egress opens a connection by itself', () => {
    const offenders: string[] = [];
    for (const file of files) {
      const relative = path.relative(SRC, file).split(path.sep).join('/');
      if (relative.startsWith('egress/') || relative in EXEMPT) continue;
      const text = code(readFileSync(file, 'utf8'));
      for (const [what, pattern] of OUTBOUND) if (pattern.test(text)) offenders.push(`src/${relative}: ${what}`);
    }
    expect(offenders).toEqual([]);
  });

  it('every exemption is still needed (a stale one would hide a new use)', () => {
    for (const relative of Object.keys(EXEMPT)) {
      const text = code(readFileSync(path.join(SRC, relative), 'utf8'));
      expect(
        OUTBOUND.some(([, pattern]) => pattern.test(text)),
        relative,
      ).toBe(true);
    }
  });

  it('the patterns catch what they are meant to catch', () => {
    const caught = (snippet: string) => OUTBOUND.some(([, pattern]) => pattern.test(code(snippet)));
    for (const bad of [
      "await fetch('https://x')",
      'const r = await fetch(url, {})',
      'globalThis.fetch(url)',
      "import { request } from 'node:http'",
      "import { get, createServer } from 'node:https'",
      "import { fetch, Agent } from 'undici'",
      "const u = await import('undici')",
      'http.request(options)',
      "import { connect } from 'node:tls'",
      'net.createConnection(5432)',
      'new WebSocket(url)',
    ])
      expect(caught(bad), bad).toBe(true);
    for (const fine of [
      "import { createServer } from 'node:http'",
      "import type { IncomingMessage } from 'node:http'",
      "import type { Agent } from 'undici'",
      'this.#fetch(url)',
      'client.fetch(url)',
      'deps.fetch(url)',
      '// we never call fetch(url) here',
      'prefetch(x)',
    ])
      expect(caught(fine), fine).toBe(false);
  });
});
