import type { DemoContext } from './lib/context.ts';
import { ITEMS_CLOUD_ACCOUNTS } from './lib/items-cloud.ts';

/** How to point a real MCP client at the running demo gateway. */
export function printConnectInstructions(ctx: DemoContext): void {
  const { ui, mcpUrl, paths } = ctx;
  const { alice, carol, reportBot } = ctx.users;
  const cwdNote = process.cwd() === paths.root ? '' : ` (from ${paths.root})`;
  const gh = 'scripts/run node dist/cli/main.js';
  const heading = (text: string) => ui.line(`  ${ui.style('bold', text)}`);
  const cmd = (text: string) => ui.line(`    ${ui.style('dim', '$')} ${ui.style('cyan', text)}`);
  const text = (t: string) => ui.line(`    ${t}`);
  const note = (t: string) => text(ui.style('dim', t));

  ui.line();
  ui.line(`${ui.style(['bold', 'green'], `Gatehouse keeps serving at ${mcpUrl}`)} — connect a real MCP client. It signs in through OAuth by itself:`);
  ui.line(
    `  give it the URL, and when the browser opens, sign in as ${ui.style('bold', alice.sub)} / ${ui.style('bold', `"${alice.password}"`)} ` +
      `(or ${carol.sub} / "${carol.password}"; demo accounts, loopback only) and press Allow.`,
  );
  ui.line(
    ui.style(
      'dim',
      '  (The revocation in the demo ended the tokens alice had then; a new sign-in works. Use exactly 127.0.0.1: "localhost" is refused by the DNS-rebinding check.)',
    ),
  );
  ui.line();
  heading('Claude Code');
  cmd(`claude mcp add --transport http gatehouse ${mcpUrl}`);
  note("then, in Claude Code: /mcp → gatehouse → Authenticate (the browser opens Gatehouse's sign-in page)");
  ui.line();
  heading('Cursor: ~/.cursor/mcp.json or .cursor/mcp.json (Cursor opens the browser on first use)');
  text(`{ "mcpServers": { "gatehouse": { "url": "${mcpUrl}" } } }`);
  ui.line();
  heading('VS Code: .vscode/mcp.json');
  text(`{ "servers": { "gatehouse": { "type": "http", "url": "${mcpUrl}" } } }`);
  ui.line();
  heading('MCP Inspector');
  cmd('npx @modelcontextprotocol/inspector');
  note(`Transport: Streamable HTTP · URL: ${mcpUrl} · Connect (or Open Auth Settings → Quick OAuth Flow)`);
  ui.line();
  heading(`Service agents, scripts and stdio-only clients: an operator-minted token${cwdNote}`);
  cmd(
    `export GATEHOUSE_TOKEN=$(${gh} token issue --data-dir ${ctx.rel(paths.dataDir)} --sub ${reportBot.sub} --groups ${reportBot.groups.join(',')} --ttl 15m)`,
  );
  cmd(`${gh} stdio --config ${ctx.rel(paths.configPath)} --token-env GATEHOUSE_TOKEN     # stdio ↔ Gatehouse bridge`);
  note('or send it as "Authorization: Bearer $GATEHOUSE_TOKEN" from any HTTP client; it lasts 15 minutes at most');
  ui.line();
  heading('Watch it work');
  cmd(`${gh} approvals list --config ${ctx.rel(paths.configPath)}`);
  cmd(`${gh} approvals approve <id> --as ${carol.sub} --config ${ctx.rel(paths.configPath)}     # a held call of alice's, then her agent retries`);
  cmd(`${gh} tools list --quarantined --config ${ctx.rel(paths.configPath)}     # the helpdesk's export_diagnostics awaits review`);
  cmd(`${gh} connections list --data-dir ${ctx.rel(paths.dataDir)}`);
  note(
    `${ctx.publicUrl}/connections, signed in as ${alice.sub}: her Items Cloud connection (Items Cloud's own sign-in: ${alice.sub} / "${ITEMS_CLOUD_ACCOUNTS.alice?.password ?? ''}"); Disconnect revokes it there.`,
  );
  cmd(`${gh} audit query --data-dir ${ctx.rel(paths.dataDir)} --since 5m`);
  cmd(`tail -f ${ctx.rel(paths.logPath)}`);
  note(`Edit ${ctx.rel(paths.policiesDir)}/*.cedar: the gateway reloads them (a broken file is refused, the old policies stay).`);
  ui.line();
  ui.line(ui.style('dim', 'Ctrl-C stops Gatehouse: it drains in-flight calls, then stops its MCP servers.'));
}
