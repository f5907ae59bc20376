// Every regular expression the sanitizer runs on untrusted text is checked with recheck:
// ours, and every one the secretlint rules execute (recorded while the rules run on all
// fixtures). A rule with an expression recheck does not call `safe` must run only on bounded
// windows around its anchors (`mode: 'window'` in secret-rules.ts); the test enforces it and
// prints the verdicts. (recheck's fuzzing verdicts can vary from run to run; every rule but
// the GCP one runs on windows anyway, and the GCP rule's expression is proven by the
// automaton check, which does not vary.)
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rules as presetRules } from '@secretlint/secretlint-rule-preset-recommend';
import type { SecretLintRuleContext, SecretLintRuleCreator } from '@secretlint/types';
import { check } from 'recheck';
import { describe, expect, it } from 'vitest';
import { secretExamples } from '../../../test/fixtures/sanitize/secret-examples.js';
import { heldTargets } from './held-encodings.js';
import { RULE_INVOCATIONS } from './secret-rules.js';
import { phoneValidity } from './phone-plan.js';
import { notRunRuleIds } from './secret-runner.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Expressions the rules apply only to a part of an earlier match, whose length that match
 * bounds (≤ 256 characters for URL user names and passwords, ≤ 10,000 for a PEM body, ≤ 1,280
 * for a 1Password token): they never see unbounded input, whatever recheck says.
 */
const BOUNDED_HELPERS: Record<string, string> = {
  '\\$\\{[^}]{1,50}\\}/': 'basicauth / connection strings: user name and password captures (≤ 256)',
  '\\{\\{[^}]{1,50}\\}\\}/': 'basicauth / connection strings: user name and password captures (≤ 256)',
  '\\{[^}]{1,50}\\}/': 'basicauth / connection strings: user name and password captures (≤ 256)',
  '%[A-Z_]{1,30}%/': 'basicauth / connection strings: user name and password captures (≤ 256)',
  '\\$[A-Z_]{1,30}/': 'basicauth / connection strings: user name and password captures (≤ 256)',
  '\\$\\([^)]{1,50}\\)/': 'connection strings: password capture (≤ 200)',
  '^(.)\\1{3,}$/': 'basicauth / connection strings: password capture (≤ 256)',
  '\\s|\\\\n/g': 'privatekey: the body capture (≤ 10,000)',
  '^[A-Za-z0-9+/]+=*$/': 'privatekey: the cleaned body capture (≤ 10,000)',
  '^(MI|b3BlbnNzaC1rZXktdjE)/': 'privatekey: the cleaned body capture (≤ 10,000)',
  '-/g': '1password: the token capture (≤ 1,280)',
  '_/g': '1password: the token capture (≤ 1,280)',
};

function fixtureTexts(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name !== 'LICENSE') out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(path.join(here, '..', '..', '..', 'test', 'fixtures', 'sanitize', 'secretlint-snapshots'));
  return [...out, ...secretExamples().map((x) => x.text)];
}

/** Runs `fn`, recording every regular expression executed meanwhile (source/flags). */
function recordRegexes(fn: () => void): Map<string, RegExp> {
  const seen = new Map<string, RegExp>();
  const exec = RegExp.prototype.exec;
  // Every RegExp operation (matchAll, replace, test, match, split) goes through `exec` once
  // it is not the built-in one (ECMA-262 RegExpExec).
  RegExp.prototype.exec = function (this: RegExp, s: string) {
    const k = `${this.source}/${this.flags}`;
    if (!seen.has(k)) seen.set(k, new RegExp(this.source, this.flags));
    return exec.call(this, s);
  };
  try {
    fn();
  } finally {
    RegExp.prototype.exec = exec;
  }
  return seen;
}

const context: SecretLintRuleContext = {
  sharedOptions: {},
  createTranslator: (() => (messageId: string, data?: unknown) => ({ message: '', messageId, data })) as never,
  report: () => {},
  ignore: () => {},
};

async function verdict(re: RegExp): Promise<string> {
  const r = await check(re.source, re.flags, { randomSeed: 42, timeout: 60_000 });
  return r.status === 'vulnerable' ? `vulnerable (${r.complexity.type})` : r.status;
}

describe('regular expressions are linear (recheck)', () => {
  it('ours: none outside held-value encoding, and those are safe', async () => {
    // Static: no other module of the engine writes a regular expression.
    for (const file of readdirSync(here)) {
      // phone-plan.ts compiles libphonenumber-js's metadata patterns: checked below.
      if (!file.endsWith('.ts') || file.endsWith('.test.ts') || file === 'held-encodings.ts' || file === 'phone-plan.ts') continue;
      const src = readFileSync(path.join(here, file), 'utf8')
        .replace(/\/\/.*$/gm, '')
        .replace(/\/\*[\s\S]*?\*\//g, '');
      expect(src.includes('new RegExp'), file).toBe(false);
      expect(/[=(,:!&|?{};]\s*\/(?![/*])(?:\\.|[^/\n\\])+\/[dgimsuy]*[.;,)\s]/.test(src), `${file} has a regular expression literal`).toBe(false);
    }
    const ours = recordRegexes(() => {
      for (const v of ['p@ss w0rd/é"!~(x)*', 'abcdefghij', '\ud800lone']) heldTargets(v);
    });
    expect(ours.size).toBeGreaterThan(0);
    for (const re of ours.values()) expect(await verdict(re), `/${re.source}/${re.flags}`).toBe('safe');
  }, 600_000);

  it('phone numbering plans: libphonenumber-js metadata patterns, run only on short digit strings', () => {
    // The patterns are the ones libphonenumber-js runs itself; what bounds their cost is the
    // input: digit strings of at most MAX_DIGITS characters, never the surrounding text.
    const src = readFileSync(path.join(here, 'phone-plan.ts'), 'utf8').replace(/\/\/.*$/gm, '');
    expect(src.match(/new RegExp\(/g)?.length).toBe(2);
    const regions = ['US', 'DE', 'GB', 'BR', 'AR', 'IN'] as const;
    const candidates = [
      '+1 415 555 2671',
      '(415) 555-2671',
      '030 1234 5678',
      '0049 30 1234 5678',
      '011 44 20 7946 0018',
      '+54 9 11 1234 5678',
      '15 1234 5678',
      `+${'9'.repeat(40)}`,
      `${'7'.repeat(16)} x`,
    ];
    // First pass compiles the plans (libphonenumber-js's metadata accessors look at region codes).
    for (const region of regions) for (const c of candidates) phoneValidity(c, region);
    const inputs: string[] = [];
    const exec = RegExp.prototype.exec;
    RegExp.prototype.exec = function (this: RegExp, s: string) {
      inputs.push(s);
      return exec.call(this, s);
    };
    try {
      for (const region of regions) for (const c of candidates) phoneValidity(c, region);
    } finally {
      RegExp.prototype.exec = exec;
    }
    expect(inputs.length).toBeGreaterThan(20);
    for (const s of inputs) expect(/^\d{0,17}$/.test(s), JSON.stringify(s)).toBe(true);
  });

  it("the preset's rules: a rule with any expression not proven safe runs only on bounded windows", async () => {
    const texts = fixtureTexts();
    const windowed = new Set(RULE_INVOCATIONS.filter((i) => i.mode === 'window').map((i) => i.ruleId));
    const segmentMode = new Set(RULE_INVOCATIONS.filter((i) => i.mode === 'segment').map((i) => i.ruleId));
    const rows: string[] = [];
    const cache = new Map<string, string>();
    for (const rule of presetRules as unknown as SecretLintRuleCreator<Record<string, unknown>>[]) {
      if (notRunRuleIds().includes(rule.meta.id)) continue;
      const options = RULE_INVOCATIONS.find((i) => i.ruleId === rule.meta.id)?.options ?? {};
      const handler = rule.create(context, options as Record<string, unknown>);
      const regexes = recordRegexes(() => {
        for (const content of texts) {
          for (const source of [{ ext: '' }, { ext: '.json' }, { ext: '', filePath: '.npmrc' }]) {
            void handler.file?.({
              content,
              contentType: 'text',
              hasBOM: false,
              physicalFilePath: undefined,
              getFilePath: () => source.filePath,
              getPhysicalFilePath: () => undefined,
              filePath: source.filePath,
              ...source,
            } as never);
          }
        }
      });
      expect(regexes.size, rule.meta.id).toBeGreaterThan(0);
      for (const [k, re] of regexes) {
        if (!cache.has(k)) cache.set(k, await verdict(re));
        const v = cache.get(k)!;
        const helper = BOUNDED_HELPERS[k];
        const mode = windowed.has(rule.meta.id) ? 'window' : 'segment';
        rows.push(
          `${v.padEnd(24)} ${mode.padEnd(8)} ${rule.meta.id.replace('@secretlint/secretlint-rule-', '')}: /${k.slice(0, 90)}${helper ? `  [bounded: ${helper}]` : ''}`,
        );
        if (v !== 'safe' && helper === undefined) {
          // Not proven linear: the rule must never see more than a bounded window.
          expect(segmentMode.has(rule.meta.id), `${rule.meta.id} runs /${k}/ (${v}) on whole segments`).toBe(false);
        }
      }
    }
    console.log(`recheck verdicts (mode the rule runs in):\n${rows.join('\n')}`);
    expect(cache.size).toBeGreaterThan(30);
  }, 900_000);
});
