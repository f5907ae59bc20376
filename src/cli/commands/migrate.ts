import { existsSync } from 'node:fs';
import path from 'node:path';
import { copySqliteToPostgres, TargetNotEmptyError } from '../../cluster/sqlite-to-postgres.js';
import { StoragePostgresSchema } from '../../config/index.js';
import { UsageError } from '../../errors/index.js';
import { DATABASE_FILE } from '../../storage/index.js';
import { PostgresStorage, storagePoolConfig } from '../../storage/postgres/index.js';
import { defineCommand, ExitCode } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';

/** The variable a URL read from stdin is passed through, so it is resolved like `${VAR}` in a config. */
const STDIN_URL_VARIABLE = 'GATEHOUSE_MIGRATE_URL';

async function readStdin(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += chunk.toString();
    if (text.length > 8192) throw new UsageError('--url-stdin: more than 8 KiB on stdin; expected one postgres:// URL');
  }
  return text.trim();
}

export const migrateCommand = defineCommand(COMMAND_SPECS.migrate, async (ctx) => {
  if (!ctx.values['to-postgres']) throw new UsageError('migrate needs --to-postgres (the only migration there is)');
  const config = ctx.config();
  if (!existsSync(path.join(config.dataDir, DATABASE_FILE)))
    throw new UsageError(`no SQLite store in ${config.dataDir} (${DATABASE_FILE} is missing): pass --data-dir`);
  let poolConfig;
  if (ctx.values['url-stdin']) {
    // The URL carries the database password: stdin, never argv (argv is visible to every user).
    const url = await readStdin(ctx.io.stdin);
    if (url === '') throw new UsageError('--url-stdin: stdin is empty; pipe the postgres:// URL in');
    const settings = StoragePostgresSchema.parse({
      url: `\${${STDIN_URL_VARIABLE}}`,
      ...(config.storage.postgres ? { ssl: config.storage.postgres.ssl, sslRootCert: config.storage.postgres.sslRootCert } : {}),
    });
    poolConfig = storagePoolConfig(settings, config.baseDir, { [STDIN_URL_VARIABLE]: url });
  } else if (config.storage.postgres) {
    poolConfig = storagePoolConfig(config.storage.postgres, config.baseDir, ctx.io.env);
  } else {
    throw new UsageError('no target: set storage.postgres in the --config file (url from ${VAR} or file:), or pipe the URL with --url-stdin');
  }
  let target: PostgresStorage;
  try {
    target = await PostgresStorage.open(poolConfig);
  } catch (error) {
    ctx.err(`gatehouse migrate: cannot open the PostgreSQL store: ${(error as Error).message}`);
    return ExitCode.Failed;
  }
  try {
    const report = await copySqliteToPostgres(config.dataDir, target);
    const lines = [
      `copied ${config.dataDir} into PostgreSQL:`,
      ...report.tables.map(
        (t) => `  ${t.table.padEnd(20)} ${String(t.postgres).padStart(8)} rows${t.sqlite === t.postgres ? '' : ` (SQLite has ${t.sqlite})`}`,
      ),
      report.audit.ok
        ? `audit verify: intact, ${report.audit.records} records, ${report.audit.checkpoints} signed checkpoints, head #${report.audit.headSeq} ${report.postgresHead ?? ''}`
        : `audit verify: BROKEN at #${report.audit.brokenSeq}: ${report.audit.reason}`,
      'vault entries were copied sealed: every node needs the same master key.',
      ...report.problems.map((p) => `PROBLEM: ${p}`),
    ];
    if (ctx.values.json) ctx.out(JSON.stringify(report, null, 2));
    else if (report.ok) ctx.out(lines.join('\n'));
    else ctx.err(lines.join('\n'));
    return report.ok ? ExitCode.Ok : ExitCode.Failed;
  } catch (error) {
    if (error instanceof TargetNotEmptyError) {
      ctx.err(`gatehouse migrate: ${error.message}`);
      return ExitCode.Failed;
    }
    throw error;
  } finally {
    await target.close();
  }
});
