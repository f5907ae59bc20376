/**
 * `make demo` as a test. Every demo step checks what it shows and the demo exits 1 at the first
 * result that is not as it should be, so the test runs the whole demo non-interactively
 * (`node demo/run.ts --once`) on a free port, in a temporary `.demo` folder (never the one a
 * person may be using), and requires exit 0, every numbered step, and no failure line.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/util/free-port.js';
import { cleanup, ROOT, tempDir } from '../helpers/e2e.js';

/** The titles the demo numbers, in order (a step that silently vanished fails here). */
const STEP_TITLES = [
  'Local accounts',
  'alice signs in through OAuth 2.1',
  "alice's agent: tools/list shows only what policy allows",
  'Cedar policy',
  'Four-eyes approval',
  'A service agent',
  'Missing and forged tokens',
  'Instant revocation',
  'The vault',
  'An HTTP API as tools',
  'A rug pull',
  'A poisoned record',
  "alice's own account at another service",
  'The audit trail',
  'Verify the audit log',
  'PostgreSQL: credentials before and after Gatehouse',
];

function runDemo(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'demo/run.ts'), '--once'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGTERM'), 400_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('make demo', () => {
  afterAll(cleanup);

  it('runs every step to the end, each checking what it shows', { timeout: 420_000 }, async () => {
    const demoDir = path.join(tempDir('gh-demo-'), '.demo');
    const env: NodeJS.ProcessEnv = { ...process.env, GATEHOUSE_DEMO_PORT: String(await freePort()), GATEHOUSE_DEMO_DIR: demoDir, NO_COLOR: '1' };
    delete env.FORCE_COLOR;
    const { code, stdout, stderr } = await runDemo(env);
    // On failure the demo names the step and the gateway's last log lines: show them.
    expect({ code, failure: stderr.includes('demo failed') ? stderr.slice(-3000) : '' }).toEqual({ code: 0, failure: '' });
    expect(stdout).toContain('all steps passed (--once: stopping)');
    const numbered = [...stdout.matchAll(/^(\d+)\. (.+)$/gm)].map((m) => [Number(m[1]), m[2] as string] as const);
    expect(numbered.map(([n]) => n)).toEqual(STEP_TITLES.map((_, i) => i + 1));
    for (const [i, title] of STEP_TITLES.entries()) expect(numbered[i]?.[1].startsWith(title), `step ${i + 1}: ${numbered[i]?.[1]}`).toBe(true);
    // Everything went to the temporary folder, and the gateway was stopped.
    expect(existsSync(path.join(demoDir, 'gatehouse.yaml'))).toBe(true);
    expect(stdout).toMatch(/Gatehouse stopped \((exit 0|SIGTERM)\)\.\s*$/);
  });

  it('refuses a GATEHOUSE_DEMO_DIR it must not wipe, before touching anything', async () => {
    const dir = tempDir('gh-demo-');
    writeFileSync(path.join(dir, 'keep.txt'), 'mine');
    for (const given of [dir, 'relative/.demo']) {
      const { code, stdout, stderr } = await runDemo({ ...process.env, GATEHOUSE_DEMO_DIR: given, NO_COLOR: '1' });
      expect(code).toBe(2);
      expect(stderr).toContain(`GATEHOUSE_DEMO_DIR must be an absolute path to a folder named .demo (it is wiped on every run), got "${given}"`);
      expect(stdout).toBe('');
    }
    expect(readFileSync(path.join(dir, 'keep.txt'), 'utf8')).toBe('mine');
    expect(existsSync(path.join(ROOT, 'relative'))).toBe(false);
  });
});
