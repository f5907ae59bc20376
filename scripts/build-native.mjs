#!/usr/bin/env node
// Builds the process-hardening addon (native/hardening) with node-gyp, from the machine's C
// compiler and the running Node's own headers: nothing is downloaded. Runs at `npm ci` (the
// `install` script) and before every build when the addon is missing (`--if-missing`).
// A failed build never fails the install: the gateway then starts unhardened, warns, and
// `gatehouse status` shows `hardening` off with the reason.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'native', 'hardening');
const outputs = ['hardening.node', 'gatehouse_nodump.so'].map((f) => path.join(dir, 'build', 'Release', f));

if (process.argv.includes('--if-missing') && outputs.every((f) => existsSync(f))) process.exit(0);
if (process.platform !== 'linux') {
  console.warn(`gatehouse: process hardening is Linux-only; skipping the native addon on ${process.platform}`);
  process.exit(0);
}

/** The Node install whose include/node holds node_api.h: the running node's, never a download. */
function nodeDir() {
  const candidates = [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..')].filter(Boolean);
  return candidates.find((d) => existsSync(path.join(d, 'include', 'node', 'node_api.h')) && existsSync(path.join(d, 'include', 'node', 'common.gypi')));
}

/** node-gyp as npm ships it (npm sets npm_config_node_gyp for scripts), else next to npm. */
function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  for (const bin of (process.env.PATH ?? '').split(path.delimiter)) {
    candidates.push(path.join(bin, '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  return candidates.find((c) => c && existsSync(c));
}

function fail(reason) {
  console.warn(`gatehouse: WARNING: the process-hardening addon was not built: ${reason}`);
  console.warn('gatehouse: the gateway will run without PR_SET_DUMPABLE=0 and RLIMIT_CORE=0 (see docs/deployment.md)');
  process.exit(0);
}

const nodedir = nodeDir();
if (!nodedir) fail(`no Node.js headers (include/node/node_api.h) next to ${process.execPath} or in npm_config_nodedir`);
const gyp = nodeGyp();
if (!gyp) fail('node-gyp not found (it ships with npm)');
const started = process.hrtime.bigint();
const result = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=warn'], {
  cwd: dir,
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
  // Offline by construction: --nodedir means node-gyp has nothing to fetch.
  env: { ...process.env, npm_config_nodedir: nodedir },
  timeout: 180_000,
});
if (result.status !== 0) {
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
  fail(`node-gyp exited with ${result.status ?? result.signal ?? result.error?.message}\n${output}`);
}
const missing = outputs.filter((f) => !existsSync(f));
if (missing.length > 0) fail(`node-gyp succeeded but ${missing.join(', ')} is missing (built: ${readdirSync(path.dirname(outputs[0])).join(', ')})`);
const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
console.error(`gatehouse: built the process-hardening addon in ${ms} ms (headers from ${nodedir})`);
