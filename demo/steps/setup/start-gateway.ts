import { writeFileSync } from 'node:fs';
import { check, DemoError, type DemoStep } from '../../lib/context.ts';
import { GatewayProcess } from '../../lib/gateway-process.ts';
import { pidFile } from './prepare-workspace.ts';

/** Starts the built CLI (`gatehouse start`), waits until it is ready, and shows `gatehouse status`. */
export const startGateway: DemoStep = {
  title: 'Start Gatehouse',
  async run(ctx) {
    const { paths, ui } = ctx;
    ui.phase(`Starting Gatehouse in front of two MCP servers from npm, the demo helpdesk and the invoices API (log: ${ctx.rel(paths.logPath)})`);
    ui.cmd(`gatehouse start --config ${ctx.rel(paths.configPath)}`);
    const gateway = GatewayProcess.start(paths.cli, ['--config', paths.configPath], { cwd: paths.root, logPath: paths.logPath });
    ctx.gateway = gateway;
    if (gateway.pid !== undefined) writeFileSync(pidFile(ctx), `${gateway.pid}\n`);
    let url: string;
    try {
      url = await gateway.url;
    } catch (error) {
      throw new DemoError((error as Error).message, 'Is the port taken, or the config invalid? The gateway log below says why.');
    }
    check(url === ctx.mcpUrl, `the gateway listens at ${url}, expected ${ctx.mcpUrl}`);
    ui.ok(`ready at ${url} (pid ${gateway.pid})`);
    ui.cmd(`gatehouse status --config ${ctx.rel(paths.configPath)}`);
    const status = await ctx.gatehouse(['status', '--config', paths.configPath], { expectExit: 0 });
    ui.output(status.stdout);
  },
};
