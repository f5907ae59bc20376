import { configJsonSchema } from '../../config/json-schema.js';
import { silentLogger } from '../../log/index.js';
import { planSandboxes, sandboxStatus } from '../../sandbox/index.js';
import { defineCommand, ExitCode } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';

export const configSchemaCommand = defineCommand(COMMAND_SPECS.configSchema, async (ctx) => {
  ctx.out(JSON.stringify(configJsonSchema(), null, 2));
  return ExitCode.Ok;
});

export const configCheckCommand = defineCommand(COMMAND_SPECS.configCheck, async (ctx) => {
  const config = ctx.config();
  // Sandbox grants and `mode: required` are checked on this machine, as `start` would.
  const sandbox = Object.fromEntries(
    [...(await planSandboxes(config, process.env, silentLogger()))].map(([name, plan]) => [name, sandboxStatus(plan.decision)]),
  );
  const lines = Object.entries(sandbox).map(([name, s]) => `  sandbox ${name}: ${s.on ? 'on' : 'OFF'} (${s.reason})`);
  ctx.print(
    { ok: true, publicUrl: config.publicUrl, dataDir: config.dataDir, servers: Object.keys(config.servers), sandbox },
    [`configuration valid: ${Object.keys(config.servers).length} servers, public URL ${config.publicUrl}, data dir ${config.dataDir}`, ...lines].join('\n'),
  );
  return ExitCode.Ok;
});
