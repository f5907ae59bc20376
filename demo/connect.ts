import type { DemoContext } from './lib/context.ts';

/** How to point a real MCP client at the running demo gateway. */
export function printConnectInstructions(ctx: DemoContext): void {
  const { ui, mcpUrl, paths } = ctx;
  const alice = ctx.users.alice;
  const cwdNote = process.cwd() === paths.root ? '' : ` (from ${paths.root})`;
  const mint = `scripts/run node dist/cli/main.js token issue --data-dir ${ctx.rel(paths.dataDir)} --sub ${alice.sub} --groups ${alice.groups.join(',')} --ttl 15m`;
  const heading = (text: string) => ui.line(`  ${ui.style('bold', text)}`);
  const cmd = (text: string) => ui.line(`    ${ui.style('dim', '$')} ${ui.style('cyan', text)}`);
  const text = (t: string) => ui.line(`    ${t}`);

  ui.line();
  ui.line(ui.style(['bold', 'green'], `Gatehouse keeps serving at ${mcpUrl}`) + ' — connect a real MCP client as alice.');
  ui.line();
  heading(`Mint a token${cwdNote}. Tokens last 5 min by default, 15 min at most; mint a fresh one when it expires:`);
  cmd(`export GATEHOUSE_TOKEN=$(${mint})`);
  ui.line();
  heading('Claude Code');
  cmd(`claude mcp add --transport http gatehouse ${mcpUrl} --header "Authorization: Bearer $GATEHOUSE_TOKEN"`);
  text(ui.style('dim', 'after expiry: claude mcp remove gatehouse, mint a token, add again'));
  ui.line();
  heading('Cursor: ~/.cursor/mcp.json or .cursor/mcp.json (start Cursor from a shell where GATEHOUSE_TOKEN is set)');
  text(`{ "mcpServers": { "gatehouse": { "url": "${mcpUrl}", "headers": { "Authorization": "Bearer \${env:GATEHOUSE_TOKEN}" } } } }`);
  ui.line();
  heading('MCP Inspector');
  cmd('npx @modelcontextprotocol/inspector');
  text(`Transport: Streamable HTTP · URL: ${mcpUrl} · Connection: via proxy · header Authorization: Bearer <token>`);
  cmd(`npx @modelcontextprotocol/inspector --cli ${mcpUrl} --transport http --header "Authorization: Bearer $GATEHOUSE_TOKEN" --method tools/list`);
  ui.line();
  heading('Watch it work');
  cmd(`tail -f ${ctx.rel(paths.logPath)}`);
  cmd(`scripts/run node dist/cli/main.js audit query --data-dir ${ctx.rel(paths.dataDir)} --since 5m`);
  ui.line();
  ui.line(ui.style('dim', 'Ctrl-C stops Gatehouse: it drains in-flight calls, then stops both MCP servers.'));
}
