import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADDON_PATH, loadHardeningAddon } from './addon.js';

/** Runs `script` in a fresh node process (the addon changes process-wide state), returns its JSON output. */
function inChild(script: string, env: Record<string, string> = {}): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '', ADDON: ADDON_PATH, ...env }, encoding: 'utf8' });
  return JSON.parse(out) as Record<string, unknown>;
}

describe('loadHardeningAddon', () => {
  it('loads the addon npm ci built, with every function', () => {
    const load = loadHardeningAddon();
    expect(load.ok).toBe(true);
    if (!load.ok) return;
    expect(Object.keys(load.addon).sort()).toEqual(['disableCoreDumps', 'getCoreLimit', 'getDumpable', 'scrubInitialEnvironment', 'setDumpable']);
  });

  it('says why when the addon is missing or unloadable, and never throws', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-addon-'));
    const missing = loadHardeningAddon(path.join(dir, 'nope.node'));
    expect(missing).toEqual({
      ok: false,
      reason: `native addon not built (${path.join(dir, 'nope.node')} is missing); rebuild it with: npm run build:native (needs make, g++ and python3)`,
    });
    const garbage = path.join(dir, 'garbage.node');
    writeFileSync(garbage, 'not an ELF file');
    const broken = loadHardeningAddon(garbage);
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.reason).toMatch(/^native addon .*garbage\.node cannot be loaded: .*; rebuild it with: npm run build:native/);
  });
});

describe('the native addon, in a fresh process', () => {
  it('makes the process non-dumpable and its core limit 0/0 (soft and hard)', () => {
    const result = inChild(`
      const a = require(process.env.ADDON);
      const before = { dumpable: a.getDumpable() };
      a.disableCoreDumps();
      const set = a.setDumpable(false);
      const limits = require('fs').readFileSync('/proc/self/limits', 'utf8').split('\\n').find((l) => l.startsWith('Max core file size'));
      console.log(JSON.stringify({ before, set, dumpable: a.getDumpable(), core: a.getCoreLimit(), limits: limits.split(/\\s+/).slice(4, 6) }));
    `);
    expect(result).toEqual({ before: { dumpable: 1 }, set: 0, dumpable: 0, core: { soft: 0, hard: 0 }, limits: ['0', '0'] });
  });

  it('overwrites the value in the initial environment block; other variables are untouched', () => {
    const canary = `key-canary-${process.pid}-${Date.now()}`;
    const result = inChild(
      `
      const a = require(process.env.ADDON);
      const fs = require('fs');
      const before = fs.readFileSync('/proc/self/environ', 'latin1');
      const n = a.scrubInitialEnvironment('GATEHOUSE_MASTER_KEY');
      const after = fs.readFileSync('/proc/self/environ', 'latin1');
      const again = a.scrubInitialEnvironment('GATEHOUSE_MASTER_KEY_NOT_SET');
      console.log(JSON.stringify({ n, again, before: before.includes(process.env.CANARY_COPY), after: after.includes(process.env.CANARY_COPY), other: after.includes('OTHER=kept'), entry: after.includes('GATEHOUSE_MASTER_KEY=\\0') }));
    `,
      { GATEHOUSE_MASTER_KEY: canary, CANARY_COPY: canary.slice(4), OTHER: 'kept' },
    );
    // CANARY_COPY holds a suffix of the key: its own entry must survive while the key's is zeroed.
    expect(result).toEqual({ n: 1, again: 0, before: true, after: true, other: true, entry: true });
    const only = inChild(
      `
      const a = require(process.env.ADDON);
      a.scrubInitialEnvironment('GATEHOUSE_MASTER_KEY');
      console.log(JSON.stringify({ found: require('fs').readFileSync('/proc/self/environ', 'latin1').includes('${canary}') }));
    `,
      { GATEHOUSE_MASTER_KEY: canary },
    );
    expect(only).toEqual({ found: false });
  });

  it('rejects bad arguments with a TypeError and changes nothing', () => {
    const result = inChild(
      `
      const a = require(process.env.ADDON);
      const errors = [];
      for (const call of [() => a.setDumpable('no'), () => a.setDumpable(), () => a.scrubInitialEnvironment('A=B'), () => a.scrubInitialEnvironment(''), () => a.scrubInitialEnvironment(42)]) {
        try { call(); errors.push('no error'); } catch (e) { errors.push(e.constructor.name + ' ' + e.code); }
      }
      console.log(JSON.stringify({ errors, dumpable: a.getDumpable(), env: require('fs').readFileSync('/proc/self/environ', 'latin1').includes('A=B-value') }));
    `,
      { A: 'B-value' },
    );
    expect(result).toEqual({ errors: Array(5).fill('TypeError ERR_INVALID_ARG_TYPE'), dumpable: 1, env: true });
  });
});
