import { defaultConfig, loadConfigFile } from '../../config/index.js';
import { UsageError } from '../../errors/index.js';
import { Gateway, ListenError } from '../../gateway.js';
import { createLogger } from '../../log/index.js';
import { defineCommand, ExitCode } from '../command.js';

export const startCommand = defineCommand({
  name: 'start',
  summary: 'Starts the gateway. The port opens once signing keys exist and the public URL is published.',
  usage: 'start --config FILE [--data-dir DIR] [--port N]',
  options: { port: { type: 'string', short: 'p' } },
  async run(ctx) {
    let port: number | undefined;
    if (ctx.values.port !== undefined) {
      port = Number(ctx.values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer between 0 and 65535, got "${ctx.values.port}"`);
    }
    const options = { dataDir: ctx.values['data-dir'], port, env: ctx.io.env };
    const config = ctx.values.config ? loadConfigFile(ctx.values.config, options) : defaultConfig(options);
    const log = createLogger({ level: config.log.level });
    let gateway: Gateway;
    try {
      gateway = await Gateway.start(config, { log });
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
  },
});
