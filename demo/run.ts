// `make demo`: Gatehouse on embedded defaults in front of two MCP servers from npm, a scripted
// agent, then a running gateway to connect a real client to. `node demo/run.ts --once` stops
// after the steps instead of serving.
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { runCli } from './lib/cli.ts';
import { DemoError, demoPaths, type DemoContext } from './lib/context.ts';
import { Ui } from './lib/ui.ts';
import { printConnectInstructions } from './connect.ts';
import { SETUP, STEPS } from './steps/index.ts';
import { DEMO_USERS } from './lib/config.ts';
import { stopLeftoverGateway } from './steps/setup/prepare-workspace.ts';

const PREFERRED_PORT = 8787;

/** The preferred port if it is free on 127.0.0.1, else any free one. GATEHOUSE_DEMO_PORT overrides. */
async function choosePort(): Promise<number> {
  const requested = process.env.GATEHOUSE_DEMO_PORT;
  if (requested) {
    const port = Number(requested);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new DemoError(`GATEHOUSE_DEMO_PORT must be a port number, got "${requested}"`);
    if ((await tryListen(port)) === undefined) throw new DemoError(`port ${port} (GATEHOUSE_DEMO_PORT) is already in use on 127.0.0.1`);
    return port;
  }
  return (await tryListen(PREFERRED_PORT)) ?? ((await tryListen(0)) as number);
}

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(undefined));
    probe.listen(port, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
    });
  });
}

async function main(): Promise<number> {
  const once = process.argv.includes('--once');
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const ui = new Ui();
  // GATEHOUSE_DEMO_DIR puts the demo's files elsewhere (the end-to-end test of the demo does,
  // so as not to touch a demo someone is running). It is wiped, so it must be named .demo.
  const demoDir = process.env.GATEHOUSE_DEMO_DIR;
  if (demoDir !== undefined && !(path.isAbsolute(demoDir) && path.basename(demoDir) === '.demo')) {
    ui.fail(`GATEHOUSE_DEMO_DIR must be an absolute path to a folder named .demo (it is wiped on every run), got "${demoDir}"`);
    return 2;
  }
  const paths = demoPaths(root, demoDir);
  if (!existsSync(paths.cli)) {
    ui.fail(`${paths.cli} is missing: run \`make build\` first (or use \`make demo\`, which does).`);
    return 1;
  }
  let port: number;
  try {
    // A gateway left by a killed earlier run would hold the port.
    await stopLeftoverGateway({ paths, ui });
    port = await choosePort();
  } catch (error) {
    ui.fail((error as Error).message);
    return 1;
  }
  const publicUrl = `http://127.0.0.1:${port}`;
  // The demo's CLI calls use the demo's own vault key (.demo/keys/master.key), never the
  // user's default one in ~/.config/gatehouse.
  const cliEnv: NodeJS.ProcessEnv = { ...process.env, GATEHOUSE_MASTER_KEY_FILE: paths.masterKeyFile };
  delete cliEnv.GATEHOUSE_MASTER_KEY;
  const ctx: DemoContext = {
    paths,
    ui,
    port,
    publicUrl,
    mcpUrl: `${publicUrl}/mcp`,
    users: DEMO_USERS,
    tokens: new Map(),
    signedIn: undefined,
    gateway: undefined,
    rel: (file) => path.relative(root, file) || '.',
    async gatehouse(args, options = {}) {
      const result = await runCli(paths.cli, args, { cwd: root, env: cliEnv, ...(options.stdin !== undefined ? { stdin: options.stdin } : {}) });
      if (options.expectExit !== undefined && result.code !== options.expectExit) {
        throw new DemoError(`gatehouse ${args.slice(0, 2).join(' ')} exited ${result.code}: ${(result.stderr || result.stdout).trim().slice(0, 500)}`);
      }
      return result;
    },
    async show(args, options = {}) {
      const shown = args.map((a) => (path.isAbsolute(a) && a.startsWith(root) ? ctx.rel(a) : /[\s"'{}$]/.test(a) ? `'${a}'` : a)).join(' ');
      ui.cmd(`gatehouse ${shown}${options.stdinNote ? `   ${ui.style('dim', `(${options.stdinNote})`)}` : ''}`);
      return ctx.gatehouse(args, options);
    },
  };

  // Ctrl-C / SIGTERM: ask the gateway to drain and stop its children, then leave.
  let stopping: Promise<number> | undefined;
  const shutdown = (code: number): Promise<number> => {
    stopping ??= (async () => {
      const gateway = ctx.gateway;
      if (gateway?.running) {
        ui.status('\nstopping Gatehouse (draining, then stopping its MCP servers)…');
        const result = await gateway.stop();
        ui.status(result.forced ? 'Gatehouse did not stop in time; killed.' : `Gatehouse stopped (${result.signal ?? `exit ${result.code}`}).`);
      }
      return code;
    })();
    return stopping;
  };
  let interrupted: ((code: number) => void) | undefined;
  const interruptedPromise = new Promise<number>((resolve) => (interrupted = resolve));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) {
        ctx.gateway?.killGroup();
        process.exit(130);
      }
      interrupted?.(130);
    });
  }
  // If the demo itself dies unexpectedly, never leave a gateway behind.
  process.on('exit', () => {
    if (ctx.gateway?.running) ctx.gateway.killGroup();
  });

  ui.banner('Gatehouse demo', [`Gatehouse ${publicUrl} · embedded SQLite in ${ctx.rel(paths.dataDir)} · "gatehouse" below is \`node ${ctx.rel(paths.cli)}\``]);
  ui.line();

  let current = '';
  const run = async (): Promise<void> => {
    for (const step of SETUP) {
      current = step.title;
      await step.run(ctx);
    }
    for (const [i, step] of STEPS.entries()) {
      current = `step ${i + 1} (${step.title})`;
      ui.step(i + 1, step.title);
      await step.run(ctx);
    }
  };
  try {
    const outcome = await Promise.race([run().then(() => 'done' as const), interruptedPromise]);
    if (outcome !== 'done') {
      // A step may still be waiting on the stopped gateway: leave without it.
      process.exit(await shutdown(outcome));
    }
  } catch (error) {
    ui.fail(`${current}: ${(error as Error).message}`);
    if (error instanceof DemoError && error.hint) ui.note(error.hint);
    if (!(error instanceof DemoError) && process.env.DEMO_DEBUG) ui.note((error as Error).stack ?? '');
    if (ctx.gateway) ui.note(`last lines of ${ctx.rel(paths.logPath)}:\n${ctx.gateway.logTail()}`);
    return shutdown(1);
  }

  if (once) {
    ui.line();
    ui.ok('all steps passed (--once: stopping)');
    return shutdown(0);
  }
  printConnectInstructions(ctx);
  const gateway = ctx.gateway;
  const ended = await Promise.race([interruptedPromise, gateway ? gateway.exited().then(() => 'gateway-exited' as const) : interruptedPromise]);
  if (ended === 'gateway-exited') {
    ui.fail(`Gatehouse exited unexpectedly; see ${ctx.rel(paths.logPath)}:\n${gateway?.logTail() ?? ''}`);
    return 1;
  }
  return shutdown(0);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
