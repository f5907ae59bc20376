import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { check, type DemoContext, type DemoStep } from '../../lib/context.ts';
import { demoConfigYaml } from '../../lib/config.ts';

const FILES: Record<string, string> = {
  'README.md': '# Demo folder\n\nThe filesystem MCP server behind Gatehouse can see this folder and nothing else.\n',
  'todo.txt': '- try Gatehouse with a real MCP client\n- read the audit trail\n',
  'private/salaries.csv': 'name,salary\nalice,1\ncarol,2\n',
};

/** The pid file the start step writes, so a later run can stop a gateway an earlier run left behind. */
export function pidFile(ctx: Pick<DemoContext, 'paths'>): string {
  return path.join(ctx.paths.demoDir, 'gatehouse.pid');
}

/**
 * A demo killed with SIGKILL cannot stop its gateway. Stop it now, but only if the pid still
 * belongs to a gateway started with this demo's config (Linux /proc; elsewhere leave it be).
 */
export async function stopLeftoverGateway(ctx: Pick<DemoContext, 'paths' | 'ui'>): Promise<void> {
  const file = pidFile(ctx);
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8').trim());
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || !cmdline.includes(ctx.paths.configPath) || !cmdline.includes(' start ')) return;
  ctx.ui.phase(`Stopping the gateway a previous demo run left running (pid ${pid})`);
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < 15_000; waited += 100) {
    if (!existsSync(`/proc/${pid}`)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(-pid, 'SIGKILL');
}

/** Wipes .demo/ (so every run starts from nothing), then writes the demo folder and gatehouse.yaml. */
export const prepareWorkspace: DemoStep = {
  title: 'Prepare .demo/',
  async run(ctx) {
    const { paths, ui } = ctx;
    // Never delete anything but a folder named .demo (<root>/.demo, or GATEHOUSE_DEMO_DIR).
    check(path.isAbsolute(paths.demoDir) && path.basename(paths.demoDir) === '.demo', `refusing to wipe ${paths.demoDir}`);
    await stopLeftoverGateway(ctx); // normally done already, before the port was chosen
    rmSync(paths.demoDir, { recursive: true, force: true });
    for (const name of Object.keys(FILES)) mkdirSync(path.dirname(path.join(paths.filesDir, name)), { recursive: true });
    mkdirSync(path.dirname(paths.memoryFile), { recursive: true });
    for (const [name, text] of Object.entries(FILES)) writeFileSync(path.join(paths.filesDir, name), text);
    cpSync(path.join(paths.root, 'demo', 'policies'), paths.policiesDir, { recursive: true });
    writeFileSync(paths.configPath, demoConfigYaml(ctx));
    ui.phase(
      `Fresh ${ctx.rel(paths.demoDir)}/: demo folder ${ctx.rel(paths.filesDir)}/ (${Object.keys(FILES).join(', ')}), config ${ctx.rel(paths.configPath)}`,
    );
    ui.say(`policies: ${ctx.rel(paths.policiesDir)}/ (${readdirSync(paths.policiesDir).sort().join(', ')}), copied from demo/policies/`);
  },
};
