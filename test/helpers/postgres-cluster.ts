// A throwaway PostgreSQL cluster for tests, the benchmark and the demo: installed from Debian's
// packages when missing, initialised in a temp dir as the `postgres` user (initdb refuses to
// run as root), listening on 127.0.0.1 on a free port, removed on stop. Imports only node
// built-ins, so it runs under vitest and under plain `node` (type stripping) alike.
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { freePort } from '../../src/util/free-port.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PostgresConnectionInfo {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface PostgresCluster extends PostgresConnectionInfo {
  dir: string;
  binDir: string;
  /** The server's log file (for failure messages). */
  logFile: string;
  stop(): Promise<void>;
}

export class PostgresUnavailableError extends Error {}

/** The newest installed server's bin dir (Debian layout), or one named by GATEHOUSE_PG_BINDIR. */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates: string[] = [];
  if (env.GATEHOUSE_PG_BINDIR) candidates.push(env.GATEHOUSE_PG_BINDIR);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    for (const version of readdirSync(debian).sort((a, b) => Number(b) - Number(a))) candidates.push(path.join(debian, version, 'bin'));
  }
  return candidates.find((dir) => existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl')) && existsSync(path.join(dir, 'postgres')));
}

async function installFromDebian(log: (line: string) => void): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new PostgresUnavailableError('PostgreSQL is not installed and this process is not root, so it cannot run apt-get install -y postgresql');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], { env, maxBuffer: 64 * 1024 * 1024 });
  log('PostgreSQL server not found: apt-get install -y postgresql');
  try {
    await install();
  } catch {
    log('apt-get install failed; running apt-get update and trying again');
    try {
      await run('apt-get', ['update'], { env, maxBuffer: 64 * 1024 * 1024 });
      await install();
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new PostgresUnavailableError(`apt-get install -y postgresql failed: ${(e.stderr || e.message).trim().split('\n').slice(-5).join(' | ')}`);
    }
  }
}

async function idOf(flag: '-u' | '-g', user: string): Promise<number> {
  const { stdout } = await run('id', [flag, user]);
  return Number(stdout.trim());
}

/**
 * Starts a cluster. Throws PostgresUnavailableError with the reason when it cannot: callers
 * (tests) fail loudly with it; the demo prints it and says what it skips.
 */
export async function startPostgresCluster(options: { install?: boolean; log?: (line: string) => void } = {}): Promise<PostgresCluster> {
  const log = options.log ?? (() => undefined);
  let binDir = findPostgresBinDir();
  if (!binDir && options.install) {
    await installFromDebian(log);
    binDir = findPostgresBinDir();
  }
  if (!binDir)
    throw new PostgresUnavailableError(
      'PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found under /usr/lib/postgresql/*/bin; install the Debian package "postgresql" or set GATEHOUSE_PG_BINDIR',
    );
  const asRoot = process.getuid?.() === 0;
  const wrap = async (cmd: string, args: string[]) => {
    const bin = path.join(binDir as string, cmd);
    return asRoot ? run('runuser', ['-u', 'postgres', '--', bin, ...args], { maxBuffer: 16 * 1024 * 1024 }) : run(bin, args, { maxBuffer: 16 * 1024 * 1024 });
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-pg-'));
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const password = randomBytes(18).toString('base64url');
  const pwfile = path.join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (asRoot) {
      let uid: number;
      let gid: number;
      try {
        uid = await idOf('-u', 'postgres');
        gid = await idOf('-g', 'postgres');
      } catch {
        throw new PostgresUnavailableError('running as root but there is no "postgres" user to run the server as (the Debian package creates it)');
      }
      chownSync(dir, uid, gid);
      chownSync(pwfile, uid, gid);
    }
    chmodSync(dir, 0o700);
    try {
      await wrap('initdb', ['-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync']);
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new PostgresUnavailableError(`initdb failed: ${(e.stderr || e.message).trim()}`);
    } finally {
      rmSync(pwfile, { force: true });
    }
    let lastError = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const conf = [
        `port = ${port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'max_connections = 200',
        "password_encryption = 'scram-sha-256'",
        "log_line_prefix = '%m [%p] %q%u@%d %a: '",
        '',
      ].join('\n');
      appendFileSync(path.join(data, 'postgresql.conf'), `\n# gatehouse test cluster\n${conf}`);
      try {
        await wrap('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '30', 'start']);
        // The server is a daemon: if this process dies without stop(), take it down on the way out.
        const onExit = () => {
          const bin = path.join(binDir as string, 'pg_ctl');
          const args = ['-D', data, '-m', 'immediate', '-w', 'stop'];
          spawnSync(asRoot ? 'runuser' : bin, asRoot ? ['-u', 'postgres', '--', bin, ...args] : args, { stdio: 'ignore' });
          rmSync(dir, { recursive: true, force: true });
        };
        process.once('exit', onExit);
        const cluster: PostgresCluster = {
          host: '127.0.0.1',
          port,
          user: 'postgres',
          password,
          dir,
          binDir,
          logFile,
          stop: async () => {
            process.off('exit', onExit);
            await wrap('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
            rmSync(dir, { recursive: true, force: true });
          },
        };
        log(`PostgreSQL (${path.basename(path.dirname(binDir))}) started on 127.0.0.1:${port} in ${dir}`);
        return cluster;
      } catch (error) {
        lastError = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join(' | ') : (error as Error).message;
      }
    }
    throw new PostgresUnavailableError(`PostgreSQL did not start: ${lastError}`);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
