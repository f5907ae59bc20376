import { existsSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { AuditKind, type AuditKindName, type AuditLog, namedActor } from '../../audit/index.js';
import type { LoadedConfig } from '../../config/index.js';
import { UsageError } from '../../errors/index.js';
import { vaultReferences } from '../../vault/config-references.js';
import { openStorage, type Storage } from '../../storage/index.js';
import { loadMasterKey, masterKeyLocation, SECRET_NAME, Vault, VaultError, type LoadedMasterKey, type SecretListing } from '../../vault/index.js';
import { defineCommand, ExitCode, readStdin, type CommandContext } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';
import { withStorage, openCliAudit } from '../admin.js';

/** Said wherever the key comes up: there is no recovery without it. */
const KEY_LOSS = 'Losing the master key makes every secret in this vault unreadable: nothing, not even Gatehouse, can recover them.';

function osActor(): string {
  try {
    return `os:${userInfo().username}`;
  } catch {
    return 'os:unknown';
  }
}

interface CliVault {
  config: LoadedConfig;
  storage: Storage;
  vault: Vault;
  /** Set once the key was loaded (or created) by this command. */
  key(): LoadedMasterKey | undefined;
  record(kind: AuditKindName, body: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

async function openCliVault(ctx: CommandContext<Record<string, unknown>>, options: { createKey: boolean }): Promise<CliVault> {
  const config = ctx.config();
  const storage = await openStorage(config);
  const settings = { env: ctx.io.env, dataDir: config.dataDir, keyFile: config.vault.keyFile ? path.resolve(config.baseDir, config.vault.keyFile) : undefined };
  let loaded: LoadedMasterKey | undefined;
  const vault = new Vault({
    store: storage.vault,
    keys: async () => {
      // A new key only for a vault with no entries: an existing vault is never paired with a new key.
      loaded ??= loadMasterKey(settings, { create: options.createKey && (await storage.vault.list()).length === 0 });
      return loaded.provider;
    },
  });
  let audit: AuditLog | undefined;
  return {
    config,
    storage,
    vault,
    key: () => loaded,
    async record(kind, body) {
      audit ??= await openCliAudit(storage);
      await audit.append(kind, { actor: namedActor(osActor()), ...body }, { durable: true });
    },
    async close() {
      await audit?.close();
      await storage.close();
    },
  };
}

/** Runs `fn` with the vault open and closes it (audit log first) however `fn` ends. */
async function withCliVault<T>(ctx: CommandContext<Record<string, unknown>>, options: { createKey: boolean }, fn: (cli: CliVault) => Promise<T>): Promise<T> {
  const cli = await openCliVault(ctx, options);
  try {
    return await fn(cli);
  } finally {
    await cli.close();
  }
}

function checkName(name: string): void {
  if (!SECRET_NAME.test(name))
    throw new UsageError(`invalid vault name "${name.slice(0, 64)}": use letters, digits, ".", "_" and "-", starting with a letter or digit`);
}

/** A TTY gets a prompt without echo; anything else is read to EOF. One trailing newline is dropped. */
async function readSecretValue(ctx: CommandContext<Record<string, unknown>>, name: string): Promise<string> {
  const stdin = ctx.io.stdin as NodeJS.ReadStream;
  let text: string;
  if (stdin.isTTY && typeof stdin.setRawMode === 'function') {
    ctx.io.stderr.write(`value for ${name} (not echoed): `);
    text = await new Promise<string>((resolve, reject) => {
      let value = '';
      stdin.setRawMode(true);
      stdin.resume();
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            finish();
            return resolve(value);
          }
          if (ch === '\u0003') {
            finish();
            return reject(new UsageError('cancelled'));
          }
          value = ch === '\u007f' || ch === '\b' ? value.slice(0, -1) : value + ch;
        }
      };
      const finish = () => {
        stdin.off('data', onData);
        stdin.setRawMode(false);
        stdin.pause();
        ctx.io.stderr.write('\n');
      };
      stdin.on('data', onData);
    });
  } else {
    text = await readStdin(ctx.io.stdin);
    text = text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
  }
  if (text === '') throw new UsageError(`no value on stdin for ${name} (pipe it in: printf %s "$VALUE" | gatehouse vault put ${name})`);
  return text;
}

function refuseArgvValue(ctx: CommandContext<Record<string, unknown>>): void {
  if (ctx.positionals.length > 1) {
    throw new UsageError(
      'the value is read from stdin, never from the command line (argv is visible to every local user and lands in shell history); the value you typed was not stored — consider it exposed',
    );
  }
}

/** Turns vault errors into exit codes: a bad name is a usage error, anything else a refusal. */
async function guarded(ctx: CommandContext<Record<string, unknown>>, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof VaultError) {
      if (error.code === 'vault.invalid_name' || error.code === 'vault.invalid_value') throw new UsageError(error.message);
      if (ctx.values.json) ctx.print({ ok: false, code: error.code, error: error.message }, '');
      else ctx.err(`gatehouse: ${error.message}`);
      return ExitCode.Failed;
    }
    throw error;
  }
}

function announceNewKey(ctx: CommandContext<Record<string, unknown>>, key: LoadedMasterKey | undefined): void {
  if (!key?.created) return;
  ctx.err(
    [
      `Created a new vault master key: ${key.location.path} (mode 0600, key id ${key.provider.id}).`,
      KEY_LOSS,
      'Back it up now, somewhere other than this machine: gatehouse vault backup-key',
    ].join('\n'),
  );
}

async function putOrRotate(ctx: CommandContext<Record<string, unknown>>, rotate: boolean): Promise<number> {
  refuseArgvValue(ctx);
  const name = ctx.positionals[0] as string;
  checkName(name);
  const value = await readSecretValue(ctx, name);
  return withCliVault(ctx, { createKey: !rotate }, async (cli) => {
    return await guarded(ctx, async () => {
      const result = rotate ? { ...(await cli.vault.rotate(name, value)), created: false } : await cli.vault.put(name, value);
      announceNewKey(ctx, cli.key());
      await cli.record(result.created ? AuditKind.VaultPut : AuditKind.VaultRotate, { secret: name, version: result.version, kekId: cli.key()?.provider.id });
      ctx.print(
        { ok: true, name, version: result.version, created: result.created, kekId: cli.key()?.provider.id },
        result.created ? `stored ${name} (version 1)` : `rotated ${name} (now version ${result.version})`,
      );
      return ExitCode.Ok;
    });
  });
}

export const vaultPutCommand = defineCommand(COMMAND_SPECS.vaultPut, (ctx) => putOrRotate(ctx as never, false));

export const vaultRotateCommand = defineCommand(COMMAND_SPECS.vaultRotate, (ctx) => putOrRotate(ctx as never, true));

function formatDate(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export const vaultListCommand = defineCommand(COMMAND_SPECS.vaultList, async (ctx) => {
  const config = ctx.config();
  return withStorage(config, async (storage) => {
    const vault = new Vault({ store: storage.vault, keys: () => Promise.reject(new Error('vault list never decrypts')) });
    const entries: SecretListing[] = await vault.list();
    const settings = {
      env: ctx.io.env,
      dataDir: config.dataDir,
      keyFile: config.vault.keyFile ? path.resolve(config.baseDir, config.vault.keyFile) : undefined,
    };
    const location = masterKeyLocation(settings);
    const keyPresent = location.kind === 'env' || (location.path !== undefined && existsSync(location.path));
    const references = ctx.values.config ? vaultReferences(config) : [];
    const missing = references.filter((r) => !entries.some((e) => e.name === r.name));
    const warnings = entries.flatMap((e) => (e.warning ? [`${e.name}: ${e.warning}`] : []));
    const data = {
      secrets: entries.map((e) => ({
        name: e.name,
        version: e.version,
        createdAt: new Date(e.createdAt).toISOString(),
        rotatedAt: new Date(e.rotatedAt).toISOString(),
        lastUsedAt: e.lastUsedAt === null ? null : new Date(e.lastUsedAt).toISOString(),
        usedBy: e.usedBy,
        ageDays: e.ageDays,
        rotationDue: e.rotationDue,
        kekId: e.kekId,
        ...(e.warning ? { warning: e.warning } : {}),
      })),
      key: { source: location.source, present: keyPresent },
      ...(ctx.values.config ? { missing: missing.map((m) => ({ name: m.name, referencedBy: m.path })) } : {}),
      warnings,
    };
    const lines: string[] = [];
    if (entries.length === 0) lines.push(`no secrets in ${config.dataDir} (add one: gatehouse vault put NAME < value)`);
    else {
      lines.push(
        table([
          ['NAME', 'VERSION', 'CREATED', 'ROTATED', 'AGE', 'LAST USED', 'USED BY'],
          ...entries.map((e) => [
            e.name,
            String(e.version),
            formatDate(e.createdAt),
            formatDate(e.rotatedAt),
            `${e.ageDays}d`,
            formatDate(e.lastUsedAt),
            e.usedBy.join(', ') || '-',
          ]),
        ]),
      );
    }
    for (const w of warnings) lines.push(`WARNING ${w}`);
    for (const m of missing) lines.push(`MISSING ${m.name}: referenced by ${m.path} but not in the vault`);
    lines.push(
      '',
      `master key: ${location.source}${keyPresent ? '' : ' (not present yet: the first vault put creates it)'}`,
      KEY_LOSS,
      'Back it up: gatehouse vault backup-key',
    );
    ctx.print(data, lines.join('\n'));
    return ExitCode.Ok;
  });
});

export const vaultDeleteCommand = defineCommand(COMMAND_SPECS.vaultDelete, async (ctx) => {
  const name = ctx.positionals[0] as string;
  checkName(name);
  return withCliVault(ctx as never, { createKey: false }, async (cli) => {
    if (!(await cli.vault.delete(name))) {
      if (ctx.values.json) ctx.print({ ok: false, code: 'vault.not_found', error: `no vault secret named "${name}"` }, '');
      else ctx.err(`gatehouse: no vault secret named "${name}"`);
      return ExitCode.Failed;
    }
    await cli.record(AuditKind.VaultDelete, { secret: name });
    const stillUsed = ctx.values.config
      ? vaultReferences(cli.config)
          .filter((r) => r.name === name)
          .map((r) => r.path)
      : [];
    ctx.print(
      { ok: true, name, referencedBy: stillUsed },
      `deleted ${name}${stillUsed.length > 0 ? `\nWARNING still referenced by ${stillUsed.join(', ')}` : ''}`,
    );
    return ExitCode.Ok;
  });
});

export const vaultBackupKeyCommand = defineCommand(COMMAND_SPECS.vaultBackupKey, async (ctx) => {
  return withCliVault(ctx as never, { createKey: false }, async (cli) => {
    return await guarded(ctx as never, async () => {
      const loaded = loadMasterKey({
        env: ctx.io.env,
        dataDir: cli.config.dataDir,
        keyFile: cli.config.vault.keyFile ? path.resolve(cli.config.baseDir, cli.config.vault.keyFile) : undefined,
      });
      const stored = await cli.storage.vault.kekIds();
      if (stored.some((id) => id !== loaded.provider.id)) {
        ctx.err(
          `gatehouse: WARNING the key from ${loaded.location.source} (${loaded.provider.id}) is not the key this vault's entries were sealed with (${stored.join(', ')})`,
        );
      }
      const key = loaded.provider.exportKey().toString('base64');
      const out = ctx.values.out ? path.resolve(ctx.values.out) : undefined;
      if (out) {
        const rel = path.relative(cli.config.dataDir, out);
        if (!rel.startsWith('..') && !path.isAbsolute(rel))
          throw new UsageError('--out must be outside the data dir: a backup stored with the data is no backup of the key');
        try {
          writeFileSync(out, `${key}\n`, { mode: 0o600, flag: 'wx' });
        } catch (error) {
          ctx.err(`gatehouse: cannot write ${out}: ${(error as NodeJS.ErrnoException).code === 'EEXIST' ? 'it already exists' : (error as Error).message}`);
          return ExitCode.Failed;
        }
      }
      await cli.record(AuditKind.VaultKeyBackup, { kekId: loaded.provider.id, to: out ? 'file' : 'stdout' });
      if (ctx.values.json) ctx.print({ ok: true, kekId: loaded.provider.id, source: loaded.location.source, ...(out ? { file: out } : { key }) }, '');
      else if (out) ctx.out(`wrote master key ${loaded.provider.id} to ${out} (mode 0600). Move it off this machine.`);
      else {
        ctx.out(key);
        ctx.err(
          `master key ${loaded.provider.id} from ${loaded.location.source}. Store it offline; restore with GATEHOUSE_MASTER_KEY=<key> or by writing it to the key file. ${KEY_LOSS}`,
        );
      }
      return ExitCode.Ok;
    });
  });
});
