#!/usr/bin/env node
import './start-heap-sizing.js';
// Types only: the command framework (and the config schema it loads) is imported inside
// `main`, after start-heap-sizing has run — static imports are all loaded, and their
// allocations made, before the first module body runs.
import type { Command, CommandIo } from './command.js';
import { VERSION } from '../version.js';

/**
 * Every command, by the words that select it, loaded only when run: a `gatehouse token issue`
 * should not pay for importing the gateway, the authorization server and the SDK.
 */
interface CommandEntry {
  name: string;
  load(): Promise<Command>;
}

/** A command's words as its export is named, and as its COMMAND_SPECS key: `users reset-mfa` → `usersResetMfa`. */
type Camel<S extends string> = S extends `${infer A} ${infer B}`
  ? `${Camel<A>}${Capitalize<Camel<B>>}`
  : S extends `${infer A}-${infer B}`
    ? `${A}${Capitalize<Camel<B>>}`
    : S;
const camel = (words: string): string => words.replace(/[ -]([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * The commands one module exports, in the order `--help` lists them: `users add` is the module's
 * `usersAddCommand` (the type refuses a name the module does not export).
 */
const commandsOf = <M extends Record<string, unknown>, const N extends readonly string[]>(
  module: () => Promise<M>,
  ...names: { [I in keyof N]: `${Camel<N[I]>}Command` extends keyof M ? N[I] : never }
): CommandEntry[] => names.map((name) => ({ name, load: async () => (await module())[`${camel(name)}Command`] as unknown as Command }));

export const COMMANDS: readonly CommandEntry[] = [
  ...commandsOf(() => import('./commands/start.js'), 'start'),
  ...commandsOf(() => import('./commands/status.js'), 'status'),
  ...commandsOf(() => import('./commands/stdio.js'), 'stdio'),
  ...commandsOf(() => import('./commands/token-issue.js'), 'token issue'),
  ...commandsOf(
    () => import('./commands/users.js'),
    'users add',
    'users list',
    'users disable',
    'users enable',
    'users reset-mfa',
    'users set-password',
    'users link',
    'users unlink',
  ),
  ...commandsOf(() => import('./commands/revoke.js'), 'revoke'),
  ...commandsOf(() => import('./commands/migrate.js'), 'migrate'),
  ...commandsOf(() => import('./commands/connections.js'), 'connections list', 'connections revoke'),
  ...commandsOf(() => import('./commands/keys.js'), 'keys rotate'),
  ...commandsOf(() => import('./commands/audit.js'), 'audit verify', 'audit query', 'audit export', 'audit anchor'),
  ...commandsOf(() => import('./commands/import-mcp-config.js'), 'import-mcp-config'),
  ...commandsOf(() => import('./commands/config.js'), 'config schema', 'config check'),
  ...commandsOf(() => import('./commands/vault.js'), 'vault put', 'vault list', 'vault rotate', 'vault delete', 'vault backup-key'),
  ...commandsOf(() => import('./commands/policy.js'), 'policy explain', 'policy test', 'policy check'),
  ...commandsOf(() => import('./commands/approvals.js'), 'approvals list', 'approvals show', 'approvals approve', 'approvals deny'),
  ...commandsOf(() => import('./commands/tools.js'), 'tools list', 'tools diff', 'tools approve'),
];

async function usage(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map((c) => c.load()));
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `gatehouse ${VERSION} — a security gateway between AI agents and the systems they act on`,
    '',
    'usage: gatehouse <command> [options]   (every command takes --config FILE, --data-dir DIR, --json, --help)',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary.split('. ')[0]?.replace(/\.$/, '')}`),
    '',
  ].join('\n');
}

/** Finds the command whose words are the longest prefix of argv. */
export function findCommand(argv: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  let best: { entry: CommandEntry; rest: string[] } | undefined;
  for (const entry of COMMANDS) {
    const words = entry.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.entry.name.split(' ').length)) {
      best = { entry, rest: argv.slice(words.length) };
    }
  }
  return best;
}

export async function main(argv: string[], io: CommandIo): Promise<number> {
  const { ExitCode, runCommand } = await import('./command.js');
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(await usage());
    return argv.length === 0 ? ExitCode.Usage : ExitCode.Ok;
  }
  if (argv[0] === '--version' || argv[0] === 'version') {
    io.stdout.write(`${VERSION}\n`);
    return ExitCode.Ok;
  }
  const found = findCommand(argv);
  if (!found) {
    io.stderr.write(`gatehouse: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${await usage()}`);
    return ExitCode.Usage;
  }
  const command = await found.entry.load();
  if (command.name !== found.entry.name) throw new Error(`command registry mismatch: ${found.entry.name} loaded ${command.name}`);
  return runCommand(command, found.rest, io);
}

const isEntry =
  process.argv[1] !== undefined && import.meta.url === (await import('node:url')).pathToFileURL((await import('node:fs')).realpathSync(process.argv[1])).href;
if (isEntry) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    async (error: unknown) => {
      process.stderr.write(`gatehouse: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = (await import('./command.js')).ExitCode.Failed;
    },
  );
}
