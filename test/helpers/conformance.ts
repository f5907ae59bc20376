/**
 * Runs the official MCP conformance suite (`@modelcontextprotocol/conformance`, server mode)
 * against a URL and reads back its per-scenario verdicts from the result files it writes.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { NODE, ROOT, spawnTracked, tempDir } from './e2e.js';

const PACKAGE = path.join(ROOT, 'node_modules/@modelcontextprotocol/conformance');
const SUITE = path.join(PACKAGE, 'dist/index.js');
/** The suite's own reference server, vendored; `--stdio` serves the same registrations over stdio. */
export const EVERYTHING_SERVER = path.join(ROOT, 'test/fixtures/conformance/everything-server.ts');

export type Revision = '2025-11-25' | '2026-07-28';

export interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

export interface ScenarioOutcome {
  passed: boolean;
  /** The ids of the checks that failed (an id the scenario checks several times appears once). */
  failedChecks: string[];
  /** The checks that failed, `id: message`. */
  failures: string[];
}

export interface SuiteRun {
  revision: Revision;
  url: string;
  /** Every scenario that ran, scored or not. */
  scenarios: Map<string, ScenarioOutcome>;
  /** The scenarios the revision requires (its frozen requirement set); only these are scored. */
  required: string[];
  /** Required scenarios that passed. */
  passedRequired: string[];
  exitCode: number | null;
  output: string;
}

/** The server scenarios a revision requires, from the requirement set shipped in the package. */
export function requiredScenarios(revision: Revision): string[] {
  const set = parse(readFileSync(path.join(PACKAGE, 'requirements', `${revision}.yaml`), 'utf8')) as { server?: string[] };
  if (!set.server?.length) throw new Error(`the ${revision} requirement set lists no server scenarios`);
  return set.server;
}

/**
 * `conformance server --url <url> --requirements <revision> -o <dir>`; a scenario passes when
 * none of its checks failed. A scenario that wrote no result file counts as failed.
 */
export async function runConformance(url: string, revision: Revision, timeoutMs = 240_000): Promise<SuiteRun> {
  const out = tempDir('gh-conformance-');
  const child = spawnTracked(NODE, [SUITE, 'server', '--url', url, '--requirements', revision, '-o', out], { cwd: out });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);

  const scenarios = new Map<string, ScenarioOutcome>();
  for (const entry of existsSync(out) ? readdirSync(out) : []) {
    // server-<scenario>-<ISO timestamp with ":" and "." as "-">
    const scenario = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/.exec(entry)?.[1];
    const file = path.join(out, entry, 'checks.json');
    if (!scenario || !existsSync(file)) continue;
    const checks = JSON.parse(readFileSync(file, 'utf8')) as Check[];
    const failed = checks.filter((c) => c.status === 'FAILURE');
    const failures = failed.map((c) => `${c.id}: ${c.errorMessage ?? ''}`.slice(0, 600));
    scenarios.set(scenario, { passed: failed.length === 0, failedChecks: [...new Set(failed.map((c) => c.id))], failures });
  }
  const required = requiredScenarios(revision);
  const passedRequired = required.filter((s) => scenarios.get(s)?.passed === true);
  return { revision, url, scenarios, required, passedRequired, exitCode, output };
}

/** What failed through Gatehouse that the fixture passed directly, as `scenario` / `scenario:check` entries, against the expected list. */
export function compareWithBaseline(
  baseline: string[],
  through: SuiteRun,
  expected: Record<string, string>,
): { unexpected: string[]; stale: string[]; notInBaseline: string[] } {
  const unexpected: string[] = [];
  const stale: string[] = [];
  const listed = Object.keys(expected);
  const notInBaseline = listed.map((e) => e.split(':')[0] as string).filter((s) => !baseline.includes(s));
  for (const scenario of baseline) {
    const outcome = through.scenarios.get(scenario);
    const failed = outcome === undefined ? ['(no result)'] : outcome.failedChecks;
    const wholesale = listed.includes(scenario);
    const checks = listed.filter((e) => e.startsWith(`${scenario}:`)).map((e) => e.slice(scenario.length + 1));
    if (wholesale) {
      if (outcome?.passed === true) stale.push(scenario);
      continue;
    }
    for (const check of failed)
      if (!checks.includes(check)) unexpected.push(`${scenario}:${check} — ${outcome?.failures.find((f) => f.startsWith(`${check}:`)) ?? 'no result'}`);
    for (const check of checks) if (!failed.includes(check)) stale.push(`${scenario}:${check}`);
  }
  return { unexpected, stale, notInBaseline };
}

/** "28/37 (75.7%)" */
export function score(run: SuiteRun): string {
  const pct = ((100 * run.passedRequired.length) / run.required.length).toFixed(1);
  return `${run.passedRequired.length}/${run.required.length} (${pct}%)`;
}

/** The everything server over Streamable HTTP on a free loopback port. */
export async function startEverythingHttp(): Promise<{ url: string; stop: () => void }> {
  const child = spawnTracked(NODE, [EVERYTHING_SERVER], { env: { PATH: process.env.PATH ?? '', PORT: '0' } });
  child.stdin.end();
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the everything server did not start:\n${out}`)), 15_000);
    child.stdout.on('data', () => {
      const found = /running on http:\/\/localhost:(\d+)/.exec(out)?.[1];
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.on('exit', (code) => reject(new Error(`the everything server exited (${code}):\n${out}`)));
  });
  return { url: `http://127.0.0.1:${port}/mcp`, stop: () => child.kill('SIGTERM') };
}
