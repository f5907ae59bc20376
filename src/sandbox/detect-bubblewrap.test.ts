import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectBubblewrap, findBubblewrap } from './detect-bubblewrap.js';

const root = mkdtempSync(path.join(tmpdir(), 'gh-detect-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A stand-in bwrap: prints a version, then fails the trial run like a container without user namespaces. */
function fakeBwrap(name: string, trial: string): string {
  const file = path.join(root, name, 'bwrap');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "bubblewrap 9.9.9"; exit 0; fi\n${trial}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('detectBubblewrap', () => {
  it('finds bwrap on the PATH before the Debian location', () => {
    const file = fakeBwrap('first', 'exit 0');
    expect(findBubblewrap(`/nonexistent:${path.dirname(file)}`)).toBe(file);
  });

  it('usable when the trial sandbox runs, with the version', async () => {
    const file = fakeBwrap('works', 'exit 0');
    expect(await detectBubblewrap({ bwrap: file })).toEqual({ usable: true, path: file, version: '9.9.9' });
  });

  it('unusable when the trial fails, with bubblewrap’s own message and a hint about user namespaces', async () => {
    const file = fakeBwrap('no-userns', 'echo "bwrap: setting up uid map: Permission denied" >&2; exit 1');
    const probe = await detectBubblewrap({ bwrap: file });
    expect(probe).toEqual({
      usable: false,
      reason: 'bubblewrap cannot create a sandbox here: bwrap: setting up uid map: Permission denied (user namespaces are not available to this user here)',
    });
  });

  it('unusable when it is not installed, with the package to install', async () => {
    const empty = path.join(root, 'empty');
    const noFallback = path.join(root, 'nowhere', 'bwrap');
    expect(findBubblewrap(empty, noFallback)).toBeUndefined();
    expect(await detectBubblewrap({ searchPath: empty, fallback: noFallback })).toEqual({
      usable: false,
      reason: 'bubblewrap (bwrap) is not installed; on Debian/Ubuntu: apt-get install bubblewrap',
    });
  });

  it('a bwrap that is not executable does not count', () => {
    const file = fakeBwrap('not-exec', 'exit 0');
    chmodSync(file, 0o644);
    expect(findBubblewrap(path.dirname(file), path.join(root, 'nowhere', 'bwrap'))).toBeUndefined();
  });

  it('the trial runs the namespace flags upstreams get, so "usable" means upstreams will start', async () => {
    const file = fakeBwrap('args', `case "$*" in *--unshare-pid*--unshare-net*--proc*) exit 0;; *) echo "missing flags: $*" >&2; exit 1;; esac`);
    expect(await detectBubblewrap({ bwrap: file })).toMatchObject({ usable: true });
  });
});
