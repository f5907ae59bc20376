#!/usr/bin/env node
import { auditAnchorCommand, auditExportCommand, auditQueryCommand, auditVerifyCommand } from './commands/audit.js';
import { approvalsApproveCommand, approvalsDenyCommand, approvalsListCommand, approvalsShowCommand } from './commands/approvals.js';
import { configCheckCommand, configSchemaCommand } from './commands/config.js';
import { importMcpConfigCommand } from './commands/import-mcp-config.js';
import { policyCheckCommand, policyExplainCommand, policyTestCommand } from './commands/policy.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { stdioCommand } from './commands/stdio.js';
import { tokenIssueCommand } from './commands/token-issue.js';
import { vaultBackupKeyCommand, vaultDeleteCommand, vaultListCommand, vaultPutCommand, vaultRotateCommand } from './commands/vault.js';
import { revokeCommand } from './commands/revoke.js';
import { keysRotateCommand } from './commands/keys.js';
import { usersAddCommand, usersDisableCommand, usersEnableCommand, usersListCommand, usersResetMfaCommand, usersSetPasswordCommand } from './commands/users.js';
import { ExitCode, runCommand, type Command, type CommandIo } from './command.js';
import { VERSION } from '../version.js';

/** Every command, by the words that select it. Later rooms add theirs here. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  statusCommand,
  stdioCommand,
  tokenIssueCommand,
  usersAddCommand,
  usersListCommand,
  usersDisableCommand,
  usersEnableCommand,
  usersResetMfaCommand,
  usersSetPasswordCommand,
  revokeCommand,
  keysRotateCommand,
  auditVerifyCommand,
  auditQueryCommand,
  auditExportCommand,
  auditAnchorCommand,
  importMcpConfigCommand,
  configSchemaCommand,
  configCheckCommand,
  vaultPutCommand,
  vaultListCommand,
  vaultRotateCommand,
  vaultDeleteCommand,
  vaultBackupKeyCommand,
  policyExplainCommand,
  policyTestCommand,
  policyCheckCommand,
  approvalsListCommand,
  approvalsShowCommand,
  approvalsApproveCommand,
  approvalsDenyCommand,
] as Command[];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `gatehouse ${VERSION} — a security gateway between AI agents and the systems they act on`,
    '',
    'usage: gatehouse <command> [options]   (every command takes --config FILE, --data-dir DIR, --json, --help)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary.split('. ')[0]?.replace(/\.$/, '')}`),
    '',
  ].join('\n');
}

/** Finds the command whose words are the longest prefix of argv. */
export function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const command of COMMANDS) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.command.name.split(' ').length)) {
      best = { command, rest: argv.slice(words.length) };
    }
  }
  return best;
}

export async function main(argv: string[], io: CommandIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(usage());
    return argv.length === 0 ? ExitCode.Usage : ExitCode.Ok;
  }
  if (argv[0] === '--version' || argv[0] === 'version') {
    io.stdout.write(`${VERSION}\n`);
    return ExitCode.Ok;
  }
  const found = findCommand(argv);
  if (!found) {
    io.stderr.write(`gatehouse: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${usage()}`);
    return ExitCode.Usage;
  }
  return runCommand(found.command, found.rest, io);
}

const isEntry = process.argv[1] !== undefined && import.meta.url === (await import('node:url')).pathToFileURL((await import('node:fs')).realpathSync(process.argv[1])).href;
if (isEntry) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`gatehouse: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = ExitCode.Failed;
    },
  );
}
