import { RuntimeKeys } from '../../gateway.js';
import { openStorage } from '../../storage/index.js';
import { defineCommand, ExitCode } from '../command.js';

export const statusCommand = defineCommand({
  name: 'status',
  summary: 'Asks the running gateway for its readiness: storage, audit log, and each upstream. Exit 0 when ready, 1 otherwise.',
  usage: 'status [--config FILE] [--data-dir DIR] [--json]',
  options: {},
  async run(ctx) {
    const config = ctx.config({ checkVariables: false });
    let url = config.publicUrlDerived ? undefined : config.publicUrl;
    if (!url) {
      const storage = openStorage(config.dataDir);
      try {
        url = (await storage.settings.get(RuntimeKeys.publicUrl)) ?? config.publicUrl;
      } finally {
        await storage.close();
      }
    }
    let body: { ready: boolean; storage?: boolean; audit?: boolean; upstreams?: Record<string, { ready: boolean; detail: Record<string, unknown> }> };
    try {
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
      body = (await response.json()) as typeof body;
    } catch (error) {
      ctx.print({ running: false, url, error: (error as Error).message }, `gatehouse is not reachable at ${url} (${(error as Error).message})`);
      return ExitCode.Failed;
    }
    const lines = [`gatehouse at ${url}: ${body.ready ? 'ready' : 'NOT ready'}`, `  storage: ${body.storage ? 'writable' : 'NOT writable'}`, `  audit:   ${body.audit ? 'ok' : 'FAILING (calls refused)'}`];
    for (const [name, upstream] of Object.entries(body.upstreams ?? {})) {
      if (upstream.detail.kind === 'postgres') {
        const d = upstream.detail as { database: string; host: string; activeLeases: number; error?: string };
        lines.push(`  ${name}: ${upstream.ready ? 'ready' : 'NOT ready'} (postgres ${d.database}@${d.host}, ${d.activeLeases} active leases${d.error ? `; ${d.error}` : ''})`);
        continue;
      }
      const instances = (upstream.detail.instances as { state: string; pid?: number; restarts: number; tools: number }[] | undefined) ?? [];
      const summary = instances.map((i) => `${i.state}${i.pid ? ` pid ${i.pid}` : ''}, ${i.tools} tools${i.restarts ? `, ${i.restarts} restarts` : ''}`).join('; ');
      lines.push(`  ${name}: ${upstream.ready ? 'ready' : 'NOT ready'} (${upstream.detail.isolation}${summary ? `: ${summary}` : ''})`);
    }
    ctx.print({ running: true, url, ...body }, lines.join('\n'));
    return body.ready ? ExitCode.Ok : ExitCode.Failed;
  },
});
