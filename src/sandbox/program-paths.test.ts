import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findExecutable, programPaths } from './program-paths.js';

const root = mkdtempSync(path.join(tmpdir(), 'gh-program-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function file(rel: string, content = '', mode = 0o644): string {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
}

const prefix = path.join(root, 'opt/node');
const node = file('opt/node/bin/node', '#!/bin/sh\n', 0o755);
file('opt/node/lib/node_modules/npm/bin/npx-cli.js', '#!/usr/bin/env node\n', 0o755);
symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(prefix, 'bin/npx'));
const project = path.join(root, 'work/project');
file('work/project/package.json', '{}');
const script = file('work/project/src/server.mjs');
const dependency = file('work/project/node_modules/@scope/server/dist/index.js');
file('work/project/node_modules/@scope/server/package.json', '{}');
const home = path.join(root, 'home/alice');
const homeTool = file('home/alice/bin/tool', '#!/bin/sh\n', 0o755);
const loose = file('home/alice/scripts/run.py');

describe('programPaths', () => {
  it('looks the command up on the child PATH like execvp and binds its installation prefix', () => {
    const paths = programPaths('node', [], root, `/nonexistent:${path.join(prefix, 'bin')}`, home);
    expect(paths.executable).toBe(node);
    expect(paths.readable).toEqual([prefix]);
  });

  it('npx (a symlink into lib/node_modules): the prefix holding both node and npm', () => {
    const paths = programPaths('npx', [], root, path.join(prefix, 'bin'), home);
    expect(paths.executable).toBe(path.join(prefix, 'bin/npx'));
    expect(paths.readable).toContain(prefix);
  });

  it('a script argument binds its package (nearest package.json), a dependency the outermost node_modules', () => {
    expect(programPaths(node, [script], root, undefined, home).readable).toEqual([prefix, project]);
    expect(programPaths(node, [dependency], root, undefined, home).readable).toEqual([prefix, path.join(project, 'node_modules')]);
  });

  it('relative script arguments resolve against the cwd', () => {
    expect(programPaths(node, ['src/server.mjs'], project, undefined, home).readable).toContain(project);
  });

  it('never widens to the home folder: ~/bin/tool binds ~/bin, a loose script only its folder', () => {
    expect(programPaths(homeTool, [], root, undefined, home).readable).toEqual([path.join(home, 'bin')]);
    expect(programPaths(node, [loose], root, undefined, home).readable).toContain(path.join(home, 'scripts'));
    expect(programPaths(node, [loose], root, undefined, home).readable).not.toContain(home);
  });

  it('ignores flags, folders and arguments that name nothing', () => {
    const paths = programPaths(node, ['--stdio', project, 'no/such/file.js', 'plain-word', '\0x'], root, undefined, home);
    expect(paths.readable).toEqual([prefix]);
  });

  it('an unknown command is passed through unchanged (bubblewrap reports it missing)', () => {
    expect(findExecutable('no-such-command-xyz', root, path.join(prefix, 'bin'))).toBeUndefined();
    expect(programPaths('no-such-command-xyz', [], root, path.join(prefix, 'bin'), home)).toEqual({ executable: 'no-such-command-xyz', readable: [] });
  });
});
