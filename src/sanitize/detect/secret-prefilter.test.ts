// The prefilter loses nothing: on secretlint's own test fixtures (copied from the secretlint
// repository into test/fixtures/sanitize/secretlint-snapshots) and on our table of realistic fake keys, the
// rules behind the prefilter report exactly what they report when run on every whole
// string, and that includes everything `@secretlint/core`'s `lintSource` reports.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lintSource } from '@secretlint/core';
import { rules as presetRules } from '@secretlint/secretlint-rule-preset-recommend';
import type { SecretLintCoreConfigRule, SecretLintRuleCreator } from '@secretlint/types';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { secretExamples } from '../../../test/fixtures/sanitize/secret-examples.js';
import { RULE_INVOCATIONS, SECRET_TYPES } from './secret-rules.js';
import { SecretRuleRunner, notRunRuleIds, presetRuleIds, type RawReport } from './secret-runner.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const snapshotsDir = path.join(here, '..', '..', '..', 'test', 'fixtures', 'sanitize', 'secretlint-snapshots');

interface Fixture {
  name: string;
  file: string;
  text: string;
}

function snapshotFixtures(): Fixture[] {
  const out: Fixture[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name !== 'LICENSE') out.push({ name: path.relative(snapshotsDir, p), file: e.name, text: readFileSync(p, 'utf8') });
    }
  };
  walk(snapshotsDir);
  return out;
}

const fixtures: Fixture[] = [...snapshotFixtures(), ...secretExamples().map((x, i) => ({ name: `example ${i} (${x.type})`, file: 'input.txt', text: x.text }))];

const key = (r: RawReport) => `${r.ruleId}|${r.messageId}|${r.reportedStart}|${r.reportedEnd}`;

describe('secret rules: coverage of the preset', () => {
  it('runs every rule of the preset except the comment filter, and maps every message id to a type', () => {
    const run = new Set(RULE_INVOCATIONS.map((r) => r.ruleId));
    for (const id of presetRuleIds()) expect(run.has(id) || notRunRuleIds().includes(id), id).toBe(true);
    expect(notRunRuleIds()).toEqual(['@secretlint/secretlint-rule-filter-comments']);
    for (const rule of presetRules as unknown as SecretLintRuleCreator[]) {
      if (!run.has(rule.meta.id)) continue;
      for (const messageId of Object.keys(rule.messages)) {
        expect(SECRET_TYPES[rule.meta.id]?.[messageId], `${rule.meta.id} ${messageId}`).toMatch(/^[a-z][a-z0-9_]*$/);
      }
    }
  });
});

describe('secret rules: the prefilter loses nothing', () => {
  const filtered = new SecretRuleRunner();
  const unfiltered = new SecretRuleRunner({ prefilter: false });

  it('reports the same ranges with and without the prefilter, on every fixture', () => {
    let reports = 0;
    for (const f of fixtures) {
      // Sets: overlapping windows, or the npm rule run for .npmrc too, may report a range twice.
      const a = [...new Set(filtered.run([f.text])[0]!.map(key))].sort();
      const b = [...new Set(unfiltered.run([f.text])[0]!.map(key))].sort();
      expect(a, f.name).toEqual(b);
      reports += a.length;
    }
    expect(reports).toBeGreaterThan(150);
  });

  it('every rule it runs reports at least one fixture (so every rule is exercised)', () => {
    const seen = new Set<string>();
    for (const f of fixtures) for (const r of filtered.run([f.text])[0]!) seen.add(r.ruleId);
    for (const inv of RULE_INVOCATIONS) expect(seen.has(inv.ruleId), inv.ruleId).toBe(true);
  });

  it('includes everything @secretlint/core reports on the same fixtures', async () => {
    const config: SecretLintCoreConfigRule[] = (presetRules as unknown as SecretLintCoreConfigRule['rule'][])
      .filter((rule) => !notRunRuleIds().includes(rule.meta.id))
      .map((rule) => ({
        id: rule.meta.id,
        rule,
        options: rule.meta.id === '@secretlint/secretlint-rule-aws' ? { enableIDScanRule: true } : {},
      }));
    let compared = 0;
    for (const f of fixtures) {
      const ours = new Set(filtered.run([f.text])[0]!.map(key));
      const result = await lintSource({
        source: { content: f.text, filePath: f.file, ext: path.extname(f.file), contentType: 'text' },
        options: { config: { rules: config }, noPhysicFilePath: true },
      });
      for (const m of result.messages) {
        expect(ours.has(`${m.ruleId}|${m.messageId}|${m.range[0]}|${m.range[1]}`), `${f.name}: ${m.ruleId} ${m.messageId}`).toBe(true);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('finds every anchor among thousands of them (window merging), as the unfiltered run does', () => {
    const token = (i: number) => `ghp_${String(i).padStart(36, 'x')}`;
    const text = Array.from({ length: 3000 }, (_, i) => token(i)).join(' ');
    const a = new Set(filtered.run([text])[0]!.map(key));
    expect(a.size).toBe(3000);
    expect([...a].sort()).toEqual([...new Set(unfiltered.run([text])[0]!.map(key))].sort());
    // Glued together: the windows are capped and overlap; matches are still whole.
    const glued = Array.from({ length: 3000 }, (_, i) => `figd_${String(i).padStart(40, 'y')}`).join('.');
    const b = new Set(filtered.run([glued])[0]!.map(key));
    expect(b.size).toBe(3000);
    expect([...b].sort()).toEqual([...new Set(unfiltered.run([glued])[0]!.map(key))].sort());
  });
});

describe('secret rules through the engine', () => {
  const engine = new Engine();

  it('finds every example of the table, of the expected type, covering the whole secret', () => {
    for (const x of secretExamples()) {
      const { findings } = engine.scan([x.text]);
      const start = x.text.indexOf(x.secret);
      const end = start + x.secret.length;
      const hit = findings.find((f) => f.detector === 'secret' && f.type === x.type && f.start <= start && f.end >= end);
      expect(hit, `${x.type}: ${x.text.slice(0, 60)}`).toBeDefined();
    }
  });

  it('cannot be switched off by the scanned text (secretlint-disable comments are not honoured)', () => {
    const example = secretExamples().find((x) => x.type === 'github_token')!;
    for (const comment of ['// secretlint-disable', '<!-- secretlint-disable-next-line -->', '# secretlint-disable-line']) {
      const text = `${comment}\n${example.text} ${comment}`;
      expect(
        engine.scan([text]).findings.some((f) => f.type === 'github_token'),
        comment,
      ).toBe(true);
    }
  });

  it('reports the secret itself where a rule reports a shifted range (AWS secret key, .npmrc token)', () => {
    const aws = 'aws_secret_access_key = "abcdEFGHijklMNOPqrstUVWXyz0123456789ABCD"';
    const [f] = engine.scan([aws]).findings.filter((x) => x.type === 'aws_secret_key');
    expect(aws.slice(f!.start, f!.end)).toBe('abcdEFGHijklMNOPqrstUVWXyz0123456789ABCD');
    const npmrc = '//registry.npmjs.org/:_authToken=abcdef01-2345-6789-abcd-ef0123456789';
    const [g] = engine.scan([npmrc]).findings.filter((x) => x.type === 'npm_token');
    expect(npmrc.slice(g!.start, g!.end)).toBe('abcdef01-2345-6789-abcd-ef0123456789');
  });

  it('finds secrets hidden with invisible characters or fullwidth forms', () => {
    const example = secretExamples().find((x) => x.type === 'stripe_key')!;
    const hidden = example.secret.split('').join('\u200b');
    const text = `key: ${hidden}`;
    const [f] = engine.scan([text]).findings.filter((x) => x.type === 'stripe_key');
    expect(text.slice(f!.start, f!.end).replace(/\u200b/g, '')).toBe(example.secret);
  });

  it('runs nothing and reports nothing on text without anchors', () => {
    expect(engine.scan(['just some prose about secrets and accounts in Asia, see https://example.com']).findings).toEqual([]);
  });
});
