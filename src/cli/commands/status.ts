import { existsSync } from 'node:fs';
import { describeHardening, type HardeningStatus } from '../../hardening/index.js';
import { RuntimeKeys } from '../../runtime.js';
import { openStorage } from '../../storage/index.js';
import { rotationWarning, secretsDueForRotation } from '../../vault/index.js';
import { defineCommand, ExitCode } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';
import { withStorage } from '../admin.js';

type SandboxState = { on: boolean; mode: string; network: string; reason: string };

export const statusCommand = defineCommand(COMMAND_SPECS.status, async (ctx) => {
  const config = ctx.config({ checkVariables: false });
  let url = config.publicUrlDerived ? undefined : config.publicUrl;
  if (!url) {
    url = await withStorage(config, async (storage) => (await storage.settings.get(RuntimeKeys.publicUrl)) ?? config.publicUrl);
  }
  let body: {
    ready: boolean;
    storage?: boolean;
    audit?: boolean;
    upstreams?: Record<string, { ready: boolean; detail: Record<string, unknown> }>;
    policies?:
      | { mode: 'access'; rules: number }
      | { mode: 'cedar'; folder: string; policies: number; loadedAt: string; error?: { at: string; problems: string[] } };
    hardening?: HardeningStatus;
  };
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
    body = (await response.json()) as typeof body;
  } catch (error) {
    ctx.print({ running: false, url, error: (error as Error).message }, `gatehouse is not reachable at ${url} (${(error as Error).message})`);
    return ExitCode.Failed;
  }
  const lines = [
    `gatehouse at ${url}: ${body.ready ? 'ready' : 'NOT ready'}`,
    `  storage: ${body.storage ? 'writable' : 'NOT writable'}`,
    `  audit:   ${body.audit ? 'ok' : 'FAILING (calls refused)'}`,
  ];
  for (const [name, upstream] of Object.entries(body.upstreams ?? {})) {
    if (upstream.detail.kind === 'postgres') {
      const d = upstream.detail as { database: string; host: string; activeLeases: number; error?: string };
      lines.push(
        `  ${name}: ${upstream.ready ? 'ready' : 'NOT ready'} (postgres ${d.database}@${d.host}, ${d.activeLeases} active leases${d.error ? `; ${d.error}` : ''})`,
      );
      continue;
    }
    if (upstream.detail.kind === 'connector') {
      const d = upstream.detail as { state: string; pid?: number; tools: number; restarts: number; lastError?: string };
      const facts = [`connector ${d.state}`, ...(d.pid ? [`pid ${d.pid}`] : []), `${d.tools} tools`, ...(d.restarts ? [`${d.restarts} restarts`] : [])];
      lines.push(`  ${name}: ${upstream.ready ? 'ready' : 'NOT ready'} (${facts.join(', ')}${d.lastError ? `; ${d.lastError}` : ''})`);
      continue;
    }
    const instances = (upstream.detail.instances as { state: string; pid?: number; restarts: number; tools: number }[] | undefined) ?? [];
    const summary = instances
      .map((i) => `${i.state}${i.pid ? ` pid ${i.pid}` : ''}, ${i.tools} tools${i.restarts ? `, ${i.restarts} restarts` : ''}`)
      .join('; ');
    lines.push(`  ${name}: ${upstream.ready ? 'ready' : 'NOT ready'} (${upstream.detail.isolation}${summary ? `: ${summary}` : ''})`);
  }
  // Per stdio server: confined or not, and why (an unconfined upstream can read the vault key).
  const sandbox = Object.fromEntries(
    Object.entries(body.upstreams ?? {}).flatMap(([name, u]) => (u.detail.sandbox ? [[name, u.detail.sandbox as SandboxState]] : [])),
  );
  for (const [name, s] of Object.entries(sandbox)) lines.push(`  sandbox ${name}: ${s.on ? 'on' : 'OFF'} (${s.reason})`);
  const policies = body.policies;
  if (policies?.mode === 'access') lines.push(`  policy:  access list (${policies.rules} rules)`);
  else if (policies?.mode === 'cedar') {
    lines.push(`  policy:  ${policies.policies} Cedar policies from ${policies.folder} (loaded ${policies.loadedAt})`);
    if (policies.error) {
      lines.push(`  policy:  RELOAD REFUSED at ${policies.error.at}; the policies above stay in force:`);
      for (const problem of policies.error.problems) lines.push(`           ${problem}`);
    }
  }
  lines.push(describeHardening(body.hardening));
  // Vault metadata only (never decrypted), from the data dir this CLI was pointed at.
  const storage = config.storage.postgres || existsSync(config.dataDir) ? await openStorage(config) : undefined;
  const rotationDue = storage ? await secretsDueForRotation(storage.vault).finally(() => storage.close()) : [];
  const rotation = rotationWarning(rotationDue);
  if (rotation) lines.push(`WARNING ${rotation}`);
  ctx.print({ running: true, url, ...body, sandbox, vault: { rotationDue } }, lines.join('\n'));
  // A refused policy reload is a failed check, though the gateway keeps serving.
  return body.ready && !(policies?.mode === 'cedar' && policies.error) ? ExitCode.Ok : ExitCode.Failed;
});
