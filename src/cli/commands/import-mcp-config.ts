import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { importMcpServers } from '../../config/import-mcp-config.js';
import { defineCommand, ExitCode } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';

export const importMcpConfigCommand = defineCommand(COMMAND_SPECS.importMcpConfig, async (ctx) => {
  const file = ctx.positionals[0] as string;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    ctx.err(`gatehouse import-mcp-config: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return ExitCode.Failed;
  }
  let result;
  try {
    result = importMcpServers(text);
  } catch (error) {
    ctx.err(`gatehouse import-mcp-config: ${file}: ${(error as Error).message}`);
    return ExitCode.Failed;
  }
  for (const warning of result.warnings) ctx.err(`warning: ${warning}`);
  if (ctx.values.out) {
    if (existsSync(ctx.values.out) && !ctx.values.force) {
      ctx.err(`gatehouse import-mcp-config: ${ctx.values.out} exists; pass --force to overwrite`);
      return ExitCode.Failed;
    }
    writeFileSync(ctx.values.out, result.yaml, { mode: 0o600 });
    ctx.print({ out: ctx.values.out, variables: result.variables, warnings: result.warnings }, `wrote ${ctx.values.out}`);
  } else if (ctx.values.json) {
    ctx.print({ yaml: result.yaml, variables: result.variables, warnings: result.warnings }, '');
  } else {
    ctx.out(result.yaml);
  }
  return ExitCode.Ok;
});
