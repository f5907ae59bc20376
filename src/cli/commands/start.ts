import { createReadStream } from 'node:fs';
import { defaultConfig, loadConfigFile } from '../../config/index.js';
import { UsageError } from '../../errors/index.js';
import { Gateway, ListenError } from '../../server.js';
import { hardenProcess, takeFromEnvironment } from '../../hardening/index.js';
import { createLogger } from '../../log/index.js';
import { MASTER_KEY_ENV, parseSecretsInput, VaultError } from '../../vault/index.js';
import { defineCommand, ExitCode, readStdin } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';

export const startCommand = defineCommand(COMMAND_SPECS.start, async (ctx) => {
  // Before any secret is read: non-dumpable (no /proc/<pid>/mem, environ or ptrace for
  // processes of the same user) and no core file, for this process and, by inheritance of the
  // limit, its children.
  const hardening = hardenProcess();
  // The master key leaves every copy of this process's environment; only the snapshot handed
  // to the gateway still holds it (the vault reads it from there, children never see it).
  const taken = ctx.io.env === process.env ? takeFromEnvironment(MASTER_KEY_ENV) : undefined;
  const env = taken?.env ?? ctx.io.env;
  let port: number | undefined;
  if (ctx.values.port !== undefined) {
    port = Number(ctx.values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer between 0 and 65535, got "${ctx.values.port}"`);
  }
  let memorySecrets: Map<string, string> | null | undefined;
  if (ctx.values['secrets-stdin'] && ctx.values['secrets-fd'] !== undefined) throw new UsageError('use either --secrets-stdin or --secrets-fd, not both');
  if (ctx.values['secrets-fd'] !== undefined) {
    const fd = Number(ctx.values['secrets-fd']);
    if (!Number.isInteger(fd) || fd < 3)
      throw new UsageError(`--secrets-fd must be a file descriptor number of 3 or more (use --secrets-stdin for 0), got "${ctx.values['secrets-fd']}"`);
    memorySecrets = await readSecrets(() => readStdin(createReadStream('', { fd, autoClose: true })), `file descriptor ${fd}`);
  } else if (ctx.values['secrets-stdin']) {
    memorySecrets = await readSecrets(() => readStdin(ctx.io.stdin), 'stdin');
  }
  if (memorySecrets === null) return ExitCode.Failed;
  const options = { dataDir: ctx.values['data-dir'], port, env };
  const config = ctx.values.config ? loadConfigFile(ctx.values.config, options) : defaultConfig(options);
  const log = createLogger({ level: config.log.level });
  if (!hardening.enabled) log.warn({ hardening }, `process hardening is OFF: ${hardening.reason} (see docs/deployment.md)`);
  if (taken?.scrub.reason) log.warn({ scrub: taken.scrub }, `${MASTER_KEY_ENV} was removed from process.env, but its initial copy could not be overwritten`);
  if (memorySecrets) log.info({ secrets: [...memorySecrets.keys()].sort() }, 'memory-only secrets: held in this process only, never written, gone at exit');
  let gateway: Gateway;
  try {
    gateway = await Gateway.start(config, { log, env, ...(memorySecrets ? { memorySecrets } : {}) });
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    log.flush();
    ctx.err(`gatehouse start: ${error.message}`);
    return ExitCode.Failed;
  }
  ctx.out(`Gatehouse ready at ${gateway.url}/mcp (data dir ${config.dataDir})`);
  let signals = 0;
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (++signals > 1) {
        log.warn({ signal }, 'second signal: exiting immediately');
        process.exit(ExitCode.Failed);
      }
      log.info({ signal }, 'signal received');
      gateway.stop().then(
        () => resolve(ExitCode.Ok),
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          resolve(ExitCode.Failed);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });

  async function readSecrets(read: () => Promise<string>, from: string): Promise<Map<string, string> | null> {
    try {
      return parseSecretsInput(await read());
    } catch (error) {
      if (error instanceof VaultError) {
        ctx.err(`gatehouse start: memory-only secrets from ${from}: ${error.message}`);
        return null;
      }
      throw new UsageError(`cannot read memory-only secrets from ${from}: ${(error as Error).message}`);
    }
  }
});
