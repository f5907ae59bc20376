import { configJsonSchema } from '../../config/json-schema.js';
import { silentLogger } from '../../log/index.js';
import { planSandboxes, sandboxStatus } from '../../sandbox/index.js';
import { defineCommand, ExitCode } from '../command.js';

export const configSchemaCommand = defineCommand({
  name: 'config schema',
  summary: 'Prints the JSON Schema of gatehouse.yaml (for editor completion and validation).',
  usage: 'config schema',
  async run(ctx) {
    ctx.out(JSON.stringify(configJsonSchema(), null, 2));
    return ExitCode.Ok;
  },
});

export const configCheckCommand = defineCommand({
  name: 'config check',
  summary: 'Validates gatehouse.yaml and reports every problem with its key path. Exit 0 when valid.',
  usage: 'config check --config FILE',
  async run(ctx) {
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
  },
});
