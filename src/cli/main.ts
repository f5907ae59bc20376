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

const lazy = <M extends Record<string, unknown>>(name: string, module: () => Promise<M>, exportName: keyof M): CommandEntry => ({
  name,
  load: async () => (await module())[exportName] as unknown as Command,
});

const audit = () => import('./commands/audit.js');
const connections = () => import('./commands/connections.js');
const approvals = () => import('./commands/approvals.js');
const config = () => import('./commands/config.js');
const policy = () => import('./commands/policy.js');
const users = () => import('./commands/users.js');
const vault = () => import('./commands/vault.js');
const tools = () => import('./commands/tools.js');

export const COMMANDS: readonly CommandEntry[] = [
  lazy('start', () => import('./commands/start.js'), 'startCommand'),
  lazy('status', () => import('./commands/status.js'), 'statusCommand'),
  lazy('stdio', () => import('./commands/stdio.js'), 'stdioCommand'),
  lazy('token issue', () => import('./commands/token-issue.js'), 'tokenIssueCommand'),
  lazy('users add', users, 'usersAddCommand'),
  lazy('users list', users, 'usersListCommand'),
  lazy('users disable', users, 'usersDisableCommand'),
  lazy('users enable', users, 'usersEnableCommand'),
  lazy('users reset-mfa', users, 'usersResetMfaCommand'),
  lazy('users set-password', users, 'usersSetPasswordCommand'),
  lazy('users link', users, 'usersLinkCommand'),
  lazy('users unlink', users, 'usersUnlinkCommand'),
  lazy('revoke', () => import('./commands/revoke.js'), 'revokeCommand'),
  lazy('migrate', () => import('./commands/migrate.js'), 'migrateCommand'),
  lazy('connections list', connections, 'connectionsListCommand'),
  lazy('connections revoke', connections, 'connectionsRevokeCommand'),
  lazy('keys rotate', () => import('./commands/keys.js'), 'keysRotateCommand'),
  lazy('audit verify', audit, 'auditVerifyCommand'),
  lazy('audit query', audit, 'auditQueryCommand'),
  lazy('audit export', audit, 'auditExportCommand'),
  lazy('audit anchor', audit, 'auditAnchorCommand'),
  lazy('import-mcp-config', () => import('./commands/import-mcp-config.js'), 'importMcpConfigCommand'),
  lazy('config schema', config, 'configSchemaCommand'),
  lazy('config check', config, 'configCheckCommand'),
  lazy('vault put', vault, 'vaultPutCommand'),
  lazy('vault list', vault, 'vaultListCommand'),
  lazy('vault rotate', vault, 'vaultRotateCommand'),
  lazy('vault delete', vault, 'vaultDeleteCommand'),
  lazy('vault backup-key', vault, 'vaultBackupKeyCommand'),
  lazy('policy explain', policy, 'policyExplainCommand'),
  lazy('policy test', policy, 'policyTestCommand'),
  lazy('policy check', policy, 'policyCheckCommand'),
  lazy('approvals list', approvals, 'approvalsListCommand'),
  lazy('approvals show', approvals, 'approvalsShowCommand'),
  lazy('approvals approve', approvals, 'approvalsApproveCommand'),
  lazy('approvals deny', approvals, 'approvalsDenyCommand'),
  lazy('tools list', tools, 'toolsListCommand'),
  lazy('tools diff', tools, 'toolsDiffCommand'),
  lazy('tools approve', tools, 'toolsApproveCommand'),
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
