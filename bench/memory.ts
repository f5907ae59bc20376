// Gatehouse's peak resident memory with 100 open sessions (target ≤ 150 MB), next
// to mcp-proxy's under the same load. Each server starts fresh, so the peak is this load's.
import { rmSync } from 'node:fs';
import { memoryOf } from './lib/processes.ts';
import { startGatehouse, startMcpProxy, type BenchTarget } from './lib/servers.ts';
import { fmtMb, fmtInt } from './lib/table.ts';
import type { BenchContext, BenchModule, BenchReport, Verdict } from './lib/types.ts';
import { holdSessionsWorker } from './lib/worker.ts';

const SESSIONS = 100;
/** Sessions belong to several users, as in a team; Gatehouse caps sessions per user (64 by default). */
const USERS = 10;
const TARGET_BYTES = 150 * 1024 * 1024;

interface Sample {
  path: string;
  idle: ReturnType<typeof memoryOf>;
  open: ReturnType<typeof memoryOf>;
  opened: number;
  called: number;
  errors: number;
  firstError?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sample(ctx: BenchContext, target: BenchTarget): Promise<Sample> {
  const pid = target.process.pid;
  await sleep(500);
  const idle = memoryOf(pid);
  const targets = [];
  for (let u = 0; u < USERS; u++) targets.push({ name: target.name, url: target.url, headers: await target.headers(`agent-${u}`) });
  ctx.progress(`${target.name}: opening ${SESSIONS} sessions (${USERS} users), one echo call on each`);
  const hold = await holdSessionsWorker({ targets, sessions: SESSIONS, tool: 'echo', args: { text: 'hello' } });
  await sleep(300);
  const open = memoryOf(pid);
  await hold.release();
  return { path: target.name, idle, open, ...hold.result };
}

export const memory: BenchModule = {
  name: 'memory',
  title: `Peak memory with ${SESSIONS} open sessions`,
  async run(ctx: BenchContext): Promise<BenchReport> {
    const samples: Sample[] = [];
    ctx.progress('memory: starting a fresh gatehouse');
    const gatehouse = await startGatehouse(ctx, 'gatehouse-memory', [], { pipeline: 'full' });
    try {
      samples.push(await sample(ctx, gatehouse));
    } finally {
      await gatehouse.process.stop();
      if (!ctx.options.keep) rmSync(gatehouse.dataDir, { recursive: true, force: true });
    }
    ctx.progress('memory: starting a fresh mcp-proxy');
    const proxy = await startMcpProxy(ctx, 'mcp-proxy-memory');
    try {
      samples.push(await sample(ctx, proxy));
    } finally {
      await proxy.process.stop();
    }

    const gh = samples[0] as Sample;
    const verdicts: Verdict[] = [
      {
        target: `Gatehouse peak RSS ≤ 150 MB with ${SESSIONS} open sessions`,
        pass: gh.open.hwmBytes <= TARGET_BYTES && gh.called === SESSIONS,
        detail: `${fmtMb(gh.open.hwmBytes)} (VmHWM of the gateway process; ${gh.opened} sessions opened, ${gh.called} calls answered${gh.errors ? `, ${gh.errors} errors: ${gh.firstError}` : ''})`,
      },
    ];
    return {
      tables: [
        {
          title: `Memory: ${SESSIONS} sessions held open (${USERS} users × ${SESSIONS / USERS}), one echo call on each; server process only, children excluded`,
          columns: ['path', 'idle RSS', `RSS, ${SESSIONS} sessions`, 'of which anon / file', 'peak RSS (VmHWM)', 'per session', 'sessions ok'],
          rows: samples.map((s) => [
            s.path,
            fmtMb(s.idle.rssBytes),
            fmtMb(s.open.rssBytes),
            `${fmtMb(s.open.anonBytes)} / ${fmtMb(s.open.fileBytes)}`,
            fmtMb(s.open.hwmBytes),
            `${fmtInt((s.open.rssBytes - s.idle.rssBytes) / SESSIONS / 1024)} kB`,
            `${s.called}/${SESSIONS}`,
          ]),
          notes: [
            'Target: Gatehouse peak RSS ≤ 150 MB with 100 open sessions.',
            'anon: what the process allocated (V8 heap, typed arrays, wasm memory, malloc); file: mapped files, mostly the node binary (the same ~60 MB in every Node process).',
          ],
        },
      ],
      verdicts,
      data: { samples },
    };
  },
};
