import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { check } from 'recheck';
import { describe, expect, it } from 'vitest';

/*
 * Every regular expression in the gateway's source is checked for super-linear backtracking
 * (ReDoS) with recheck. A pattern that can take quadratic or exponential time on some input
 * fails this test, naming its file and line, unless it is on the allow-list below with a
 * proof that it never sees untrusted input.
 *
 * TypeScript 7 ships only the native compiler (no JavaScript API), so the sources are read by
 * the small tokenizer below. It understands what decides where a regular expression literal
 * can start: comments, strings, template literals (with nested `${}`), and whether a `/`
 * follows an operand (division) or an operator or keyword (a literal).
 */

const SRC = path.resolve(import.meta.dirname, '..');

/**
 * Patterns recheck reports as vulnerable that never see untrusted input. Each entry says where
 * its input comes from. Empty: every pattern in src/ is linear today. Before adding one,
 * prefer rewriting the pattern (bounded or disjoint repetitions, a lookbehind so an
 * unanchored pattern only starts where its run starts) — it costs little and removes the doubt.
 */
const ALLOWED_VULNERABLE: readonly { file: string; source: string; why: string }[] = [];

/**
 * `new RegExp(expr)` / `RegExp(expr)` whose source is not a literal cannot be checked here.
 * Each one must be listed with where its source and its input come from.
 */
const ALLOWED_DYNAMIC: readonly { file: string; text: string; why: string }[] = [
  ...['RegExp(`^(?:${source})$`)', 'RegExp(`^(?:${source})`)'].map((text) => ({
    file: 'sanitize/detect/phone-plan.ts',
    text,
    why:
      "libphonenumber-js's own metadata patterns (the ones it compiles and runs itself on every validation), " +
      'anchored; their input is a digit string of at most MAX_DIGITS (17) characters, checked by ' +
      'sanitize/detect/regex-linearity.test.ts, and never text from a client or an upstream as such.',
  })),
];

export interface FoundRegex {
  line: number;
  source: string;
  flags: string;
  kind: 'literal' | 'constructor' | 'string-method';
}

interface Token {
  kind: 'name' | 'number' | 'string' | 'template' | 'punct' | 'regex';
  value: string;
  flags?: string;
  line: number;
  start: number;
  end: number;
}

/** Keywords after which an expression (so a regular expression literal) may start. */
const BEFORE_EXPRESSION = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
  'extends',
]);
/** A template literal with substitutions: not a constant source. */
const DYNAMIC = '\u0000dynamic';

function isIdentifierPart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_' || c === '$' || c > '\u007f';
}

function unescapeChar(c: string): string {
  switch (c) {
    case 'n':
      return '\n';
    case 't':
      return '\t';
    case 'r':
      return '\r';
    case '0':
      return '\0';
    case '\n':
      return '';
    default:
      // \\, \', \", \/ and the rest: the character itself. (\uXXXX stays as written; recheck
      // reads the same escape in a pattern.)
      return c === 'u' || c === 'x' ? `\\${c}` : c;
  }
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const braces: ('brace' | 'template')[] = [];
  let i = text.startsWith('#!') ? text.indexOf('\n') : 0;
  let line = 1;
  const n = text.length;

  const regexAllowed = (): boolean => {
    const previous = tokens[tokens.length - 1];
    if (!previous) return true;
    if (previous.kind === 'name') return BEFORE_EXPRESSION.has(previous.value);
    if (previous.kind === 'punct') return previous.value !== ')' && previous.value !== ']' && previous.value !== '}';
    return false;
  };
  const readQuoted = (quote: string): string => {
    let out = '';
    i++;
    while (i < n && text[i] !== quote) {
      if (text[i] === '\\') {
        out += unescapeChar(text[i + 1] ?? '');
        if (text[i + 1] === '\n') line++;
        i += 2;
        continue;
      }
      if (text[i] === '\n') throw new Error(`unterminated string at line ${line}`);
      out += text[i];
      i++;
    }
    i++;
    return out;
  };
  /** From after "`" or a substitution's "}" to the closing "`" or the next "${". */
  const readTemplateChunk = (): { value: string; substitution: boolean } => {
    let out = '';
    while (i < n) {
      const c = text[i] as string;
      if (c === '`') {
        i++;
        return { value: out, substitution: false };
      }
      if (c === '$' && text[i + 1] === '{') {
        i += 2;
        return { value: out, substitution: true };
      }
      if (c === '\\') {
        out += unescapeChar(text[i + 1] ?? '');
        if (text[i + 1] === '\n') line++;
        i += 2;
        continue;
      }
      if (c === '\n') line++;
      out += c;
      i++;
    }
    throw new Error('unterminated template literal');
  };

  /** After `${` an expression starts: a `/` there begins a regular expression literal. */
  const openSubstitution = () => {
    braces.push('template');
    tokens.push({ kind: 'punct', value: '${', line, start: i - 2, end: i });
  };

  while (i < n) {
    const c = text[i] as string;
    const start = i;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) throw new Error(`unterminated comment at line ${line}`);
      for (let k = i; k < close; k++) if (text[k] === '\n') line++;
      i = close + 2;
      continue;
    }
    const startLine = line;
    if (c === '"' || c === "'") {
      const value = readQuoted(c);
      tokens.push({ kind: 'string', value, line: startLine, start, end: i });
      continue;
    }
    if (c === '`') {
      i++;
      const chunk = readTemplateChunk();
      tokens.push({ kind: 'template', value: chunk.substitution ? DYNAMIC : chunk.value, line: startLine, start, end: i });
      if (chunk.substitution) openSubstitution();
      continue;
    }
    if (c === '{') {
      braces.push('brace');
      tokens.push({ kind: 'punct', value: c, line, start, end: ++i });
      continue;
    }
    if (c === '}') {
      i++;
      if (braces.pop() === 'template') {
        const chunk = readTemplateChunk();
        tokens.push({ kind: 'template', value: DYNAMIC, line: startLine, start, end: i });
        if (chunk.substitution) openSubstitution();
      } else tokens.push({ kind: 'punct', value: c, line, start, end: i });
      continue;
    }
    if (c === '/' && regexAllowed()) {
      i++;
      let inClass = false;
      let source = '';
      for (;;) {
        const d = text[i];
        if (d === undefined || d === '\n') throw new Error(`unterminated regular expression at line ${startLine}`);
        if (d === '\\') {
          source += d + (text[i + 1] ?? '');
          i += 2;
          continue;
        }
        if (inClass) {
          if (d === ']') inClass = false;
        } else if (d === '[') inClass = true;
        else if (d === '/') break;
        source += d;
        i++;
      }
      i++;
      let flags = '';
      while (i < n && isIdentifierPart(text[i] as string)) flags += text[i++];
      tokens.push({ kind: 'regex', value: source, flags, line: startLine, start, end: i });
      continue;
    }
    if (isIdentifierPart(c)) {
      let value = '';
      while (i < n && isIdentifierPart(text[i] as string)) value += text[i++];
      tokens.push({ kind: c >= '0' && c <= '9' ? 'number' : 'name', value, line: startLine, start, end: i });
      continue;
    }
    tokens.push({ kind: 'punct', value: c, line, start, end: ++i });
  }
  return tokens;
}

const isConstant = (t: Token | undefined): t is Token => t !== undefined && (t.kind === 'string' || (t.kind === 'template' && t.value !== DYNAMIC));

/**
 * Regular expressions in a TypeScript source: literals, `RegExp(...)` with constant arguments,
 * and string methods that turn a constant string into a RegExp (`.match('…')`, `.search('…')`,
 * `.matchAll('…')`). Anything else building a RegExp is returned as `dynamic`.
 */
export function findRegexes(text: string): { found: FoundRegex[]; dynamic: { line: number; text: string }[] } {
  const tokens = tokenize(text);
  const found: FoundRegex[] = [];
  const dynamic: { line: number; text: string }[] = [];
  const closingParen = (from: number): number => {
    let depth = 0;
    for (let k = from; k < tokens.length; k++) {
      const v = (tokens[k] as Token).value;
      if (v === '(') depth++;
      if (v === ')' && --depth === 0) return k;
    }
    return tokens.length - 1;
  };
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    if (t.kind === 'regex') {
      found.push({ line: t.line, source: t.value, flags: t.flags ?? '', kind: 'literal' });
      continue;
    }
    if (t.kind !== 'name' || tokens[k + 1]?.value !== '(') continue;
    const dotted = tokens[k - 1]?.value === '.';
    if (t.value === 'RegExp' && !dotted) {
      const [source, comma, flags, close] = [tokens[k + 2], tokens[k + 3], tokens[k + 4], tokens[k + 5]];
      if (isConstant(source) && comma?.value === ')') found.push({ line: t.line, source: source.value, flags: '', kind: 'constructor' });
      else if (isConstant(source) && comma?.value === ',' && isConstant(flags) && close?.value === ')')
        found.push({ line: t.line, source: source.value, flags: flags.value, kind: 'constructor' });
      else dynamic.push({ line: t.line, text: text.slice(t.start, (tokens[closingParen(k + 1)] as Token).end) });
      continue;
    }
    if (dotted && (t.value === 'match' || t.value === 'search' || t.value === 'matchAll')) {
      const [argument, close] = [tokens[k + 2], tokens[k + 3]];
      if (isConstant(argument) && close?.value === ')')
        found.push({ line: t.line, source: argument.value, flags: t.value === 'matchAll' ? 'g' : '', kind: 'string-method' });
    }
  }
  return { found, dynamic };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

describe('the regular-expression finder', () => {
  it('finds literals wherever an expression can start, and not in strings, comments or divisions', () => {
    const sample = [
      '#!/usr/bin/env node',
      'const a = /x+y/gi; // not /here/',
      'const b = total / count / 2;',
      "const c = 'not /a regex/ either' + `nor /this/ ${'but'} /that/`;",
      'const d = `${/in(side)?/.test(s) ? `nested ${x / 2}` : ""}`;',
      'function f() { return /ret[/]urn/.test(s); }',
      'if (ok) s.replace(/[\\/]+$/, "");',
      '/* a /comment/ */ const e = [/one/, /two/u];',
      'z.string().regex(/^[a-z]{1,8}$/);',
      "const g = new RegExp('^ab+c$', 'i'); const h = RegExp(\"\\\\d+\");",
      'const i = new RegExp(`^${name}$`); const j = new RegExp(source, flags);',
      "const k = text.match('a.*b'); const l = view.match(uri);",
    ].join('\n');
    const { found, dynamic } = findRegexes(sample);
    expect(found.map((r) => [r.line, r.source, r.flags])).toEqual([
      [2, 'x+y', 'gi'],
      [5, 'in(side)?', ''],
      [6, 'ret[/]urn', ''],
      [7, '[\\/]+$', ''],
      [8, 'one', ''],
      [8, 'two', 'u'],
      [9, '^[a-z]{1,8}$', ''],
      [10, '^ab+c$', 'i'],
      [10, '\\d+', ''],
      [12, 'a.*b', ''],
    ]);
    expect(dynamic.map((d) => [d.line, d.text])).toEqual([
      [11, 'RegExp(`^${name}$`)'],
      [11, 'RegExp(source, flags)'],
    ]);
  });

  it('finds every regular expression of the redaction code (so a rename cannot hide one)', () => {
    const { found } = findRegexes(readFileSync(path.join(SRC, 'audit/redact-arguments.ts'), 'utf8'));
    expect(found.length).toBeGreaterThanOrEqual(10);
    // The sticky userinfo pattern the URL check runs after each `://`.
    expect(found.some((r) => r.source.startsWith('[^/\\s:@]+:'))).toBe(true);
  });
});

describe('every regular expression in src/', () => {
  const files = sourceFiles(SRC);
  const inventory = files.flatMap((file) => {
    const { found, dynamic } = findRegexes(readFileSync(file, 'utf8'));
    const rel = path.relative(SRC, file);
    return [{ rel, found, dynamic }];
  });

  it('is found (the inventory is not empty and covers the known modules)', () => {
    const total = inventory.reduce((sum, f) => sum + f.found.length, 0);
    expect(total).toBeGreaterThan(80);
    for (const module of ['log/redactor.ts', 'audit/redact-arguments.ts', 'http/middleware/bearer-auth.ts', 'vault/references.ts']) {
      expect(inventory.find((f) => f.rel === module)?.found.length ?? 0, module).toBeGreaterThan(0);
    }
  });

  it('is built from a constant source, or its dynamic source is accounted for', () => {
    const unaccounted = inventory.flatMap((f) =>
      f.dynamic.filter((d) => !ALLOWED_DYNAMIC.some((a) => a.file === f.rel && a.text === d.text)).map((d) => `${f.rel}:${d.line} ${d.text}`),
    );
    expect(
      unaccounted,
      'RegExp built from a non-constant source: make it a literal, or list it in ALLOWED_DYNAMIC with where its source and input come from',
    ).toEqual([]);
  });

  it('runs in linear time: recheck finds no super-linear backtracking', async () => {
    const unique = new Map<string, { source: string; flags: string; where: string[] }>();
    for (const f of inventory) {
      for (const r of f.found) {
        const key = `${r.flags}/${r.source}`;
        const entry = unique.get(key) ?? { source: r.source, flags: r.flags, where: [] };
        entry.where.push(`${f.rel}:${r.line}`);
        unique.set(key, entry);
      }
    }
    const failures: string[] = [];
    for (const { source, flags, where } of unique.values()) {
      const diagnostics = await check(source, flags, { timeout: 60_000 });
      if (diagnostics.status === 'safe') continue;
      const allowed = where.every((w) => ALLOWED_VULNERABLE.some((a) => w.startsWith(`${a.file}:`) && a.source === source));
      if (allowed) continue;
      const detail =
        diagnostics.status === 'vulnerable'
          ? `${diagnostics.complexity.summary}; attack ${diagnostics.attack.pattern}`
          : `recheck could not decide (${diagnostics.error.kind}); simplify the pattern`;
      failures.push(`${where.join(', ')} /${source}/${flags}: ${detail}`);
    }
    expect(failures, 'regular expressions that can backtrack super-linearly').toEqual([]);
  }, 600_000);
});
