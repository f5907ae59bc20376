import { readFileSync } from 'node:fs';

/**
 * Kills a detached child's whole process group: what a gateway or server left behind (a child
 * that ignored its stdin closing) dies with it. Also safe from a synchronous exit handler.
 */
export function killProcessGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is gone
  }
}

/** The last `lines` lines of a log file, for failure messages ('' when there is none). */
export function logTail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
