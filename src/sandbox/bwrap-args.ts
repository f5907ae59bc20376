import { existsSync, lstatSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { depth, isAtOrBelow } from './paths.js';
import type { ProtectedPaths } from './protected-paths.js';

/**
 * Namespaces and privileges every sandboxed upstream gets: its own user, PID, IPC, UTS and
 * cgroup namespaces (so it sees neither the gateway's processes nor their /proc entries), no
 * capabilities even when the gateway runs as root, no nested user namespaces (less kernel
 * surface), a new session (no TIOCSTI into the gateway's terminal) and death with the gateway.
 * bubblewrap always sets no_new_privs, so setuid binaries inside gain nothing.
 */
export const NAMESPACE_FLAGS: readonly string[] = [
  '--unshare-user',
  '--unshare-pid',
  '--unshare-ipc',
  '--unshare-uts',
  '--unshare-cgroup-try',
  '--disable-userns',
  '--die-with-parent',
  '--new-session',
  '--cap-drop',
  'ALL',
];

/** Top-level system folders, read-only (Debian's merged /usr makes most of them symlinks). */
const SYSTEM_FOLDERS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * The parts of /etc programs need to load libraries, resolve names and verify TLS — not all of
 * /etc, which holds host keys, shadow files and possibly a gateway configuration.
 */
const ETC_ENTRIES = [
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'alternatives',
  'ssl',
  'ca-certificates',
  'ca-certificates.conf',
  'pki',
  'crypto-policies',
  'passwd',
  'group',
  'nsswitch.conf',
  'hosts',
  'host.conf',
  'gai.conf',
  'resolv.conf',
  'localtime',
  'timezone',
  'os-release',
  'protocols',
  'services',
  'mime.types',
];

export interface SandboxLayout {
  /** `egress` is `none` at this level: the proxy socket is bound in by wrapCommand. */
  network: 'none' | 'host' | 'egress';
  /** Working directory inside the sandbox (the same path as outside). */
  cwd: string;
  /** Whether `cwd` was configured (a grant) or is the default (config folder, hidden if protected). */
  cwdGranted: boolean;
  /** The program's own files (command installation, script packages): read-only. */
  program: string[];
  /** Granted, absolute, existing paths. */
  readable: string[];
  writable: string[];
  protect: ProtectedPaths;
}

type Mount = { op: 'mask'; at: string } | { op: 'ro' | 'rw'; at: string } | { op: 'dir'; at: string };

const ORDER = { mask: 0, dir: 1, ro: 2, rw: 3 } as const;

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** bubblewrap's argument vector (without the program) for one upstream. */
export function bwrapArgs(layout: SandboxLayout): string[] {
  const argv = [...NAMESPACE_FLAGS];
  if (layout.network !== 'host') argv.push('--unshare-net');
  const bound: string[] = [];
  for (const folder of SYSTEM_FOLDERS) {
    let link: string | undefined;
    try {
      link = lstatSync(folder).isSymbolicLink() ? readlinkSync(folder) : undefined;
    } catch {
      continue;
    }
    if (link !== undefined) argv.push('--symlink', link, folder);
    else {
      argv.push('--ro-bind', folder, folder);
      bound.push(folder);
    }
  }
  // Source paths are followed (resolv.conf is often a symlink into /run): the entry appears as a file.
  for (const entry of ETC_ENTRIES) {
    const at = path.join('/etc', entry);
    if (existsSync(at)) argv.push('--ro-bind', at, at);
  }
  argv.push('--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp');

  const mounts: Mount[] = [];
  const strict = layout.protect.strict;
  const underStrict = (p: string) => strict.some((s) => isAtOrBelow(p, s));
  for (const p of layout.program) if (!underStrict(p)) mounts.push({ op: 'ro', at: p });
  for (const p of layout.readable) mounts.push({ op: 'ro', at: p });
  for (const p of layout.writable) mounts.push({ op: 'rw', at: p });
  const softProtected = (p: string) => layout.protect.soft.some((s) => isAtOrBelow(p, s));
  if (!underStrict(layout.cwd)) {
    // A configured cwd is a grant; the default one (the config folder) is not, so it stays hidden
    // and the process starts in an empty folder.
    if (layout.cwdGranted || !softProtected(layout.cwd)) mounts.push({ op: 'ro', at: layout.cwd });
  }
  const sort = () => mounts.sort((a, b) => depth(a.at) - depth(b.at) || ORDER[a.op] - ORDER[b.op]);
  // Visible when the deepest mount over it is a bind: a mask on a path hidden anyway would only
  // reveal its name (bubblewrap creates the mount point).
  const visible = (p: string): boolean => {
    let shown = bound.some((b) => isAtOrBelow(p, b));
    for (const m of mounts) if (m.op !== 'dir' && isAtOrBelow(p, m.at)) shown = m.op !== 'mask';
    return shown;
  };
  sort();
  for (const soft of [...layout.protect.soft].sort((a, b) => depth(a) - depth(b))) {
    if (visible(soft)) {
      mounts.push({ op: 'mask', at: soft });
      sort();
    }
  }
  mounts.push({ op: 'dir', at: layout.cwd });
  sort();
  const seen = new Set<string>();
  for (const m of mounts) {
    const key = `${m.op}:${m.at}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (m.op === 'mask') argv.push('--tmpfs', m.at);
    else if (m.op === 'dir') argv.push('--dir', m.at);
    else argv.push(m.op === 'rw' ? '--bind' : '--ro-bind', m.at, m.at);
  }
  // Last, so nothing mounted above uncovers them: the data dir, master key and config file.
  for (const p of strict) {
    if (!existsSync(p) || !visible(p)) continue;
    if (isDirectory(p)) argv.push('--tmpfs', p);
    else argv.push('--ro-bind', '/dev/null', p);
  }
  argv.push('--chdir', layout.cwd);
  return argv;
}
