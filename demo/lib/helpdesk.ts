import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { check, type DemoContext, type DemoStep } from './context.ts';

/** The helpdesk tools eng's policy allows (demo/policies/50-helpdesk.cedar) and that are pinned at the first start. */
export const HELPDESK_TOOLS_ALLOWED = ['helpdesk__list_tickets', 'helpdesk__get_ticket'] as const;

/** The field of a ticket only the fraud team may read: classified above an ordinary user's clearance. */
export const CONFIDENTIAL_FIELD = 'riskNotes';

/** `.demo/helpdesk/`: the server's tickets (`tickets/<id>.json`) and its `release` switch. */
export function helpdeskDir(ctx: Pick<DemoContext, 'paths'>): string {
  return path.join(ctx.paths.demoDir, 'helpdesk');
}

/** Writes ticket `<id>.json` into the helpdesk's folder, as the ticket system would store it. */
export function writeTicket(ctx: Pick<DemoContext, 'paths'>, id: string, ticket: Record<string, unknown>): string {
  const file = path.join(helpdeskDir(ctx), 'tickets', `${id}.json`);
  writeFileSync(file, `${JSON.stringify(ticket, null, 2)}\n`);
  return file;
}

/** Ships the helpdesk's "release 2": the running server changes a tool and adds one. */
export function shipRelease2(ctx: Pick<DemoContext, 'paths'>): void {
  writeFileSync(path.join(helpdeskDir(ctx), 'release'), '2\n');
}

function q(value: string): string {
  return JSON.stringify(value);
}

function helpdeskServerYaml(ctx: Pick<DemoContext, 'paths'>): string {
  const dir = helpdeskDir(ctx);
  return `  # A helpdesk (demo/lib/helpdesk-server.ts): support tickets, text customers write.
  helpdesk:
    command: ${q(process.execPath)}
    args: [${q(path.join(ctx.paths.root, 'demo', 'lib', 'helpdesk-server.ts'))}, ${q(dir)}]
    sandbox: { readable: [${q(dir)}] }
    # Anyone can write a ticket: results carry provenance markers, instruction-like text is audited.
    trust: untrusted
    # The secure default, spelled out: the first catalog is pinned; a tool that changes or
    # appears later is quarantined until an operator approves it (gatehouse tools approve).
    pinning: { mode: first-start }
    # Filled in by the fraud team: withheld from anyone cleared below confidential.
    fields: { ${CONFIDENTIAL_FIELD}: confidential }
`;
}

/** Set-up: the helpdesk's folder with one ordinary ticket, and `servers.helpdesk` in gatehouse.yaml. */
export const prepareHelpdesk: DemoStep = {
  title: 'Prepare the helpdesk server',
  async run(ctx) {
    const { ui, paths } = ctx;
    mkdirSync(path.join(helpdeskDir(ctx), 'tickets'), { recursive: true });
    writeTicket(ctx, '4702', {
      id: '4702',
      subject: 'Export to CSV times out',
      status: 'open',
      customer: { name: 'Initech', [CONFIDENTIAL_FIELD]: 'none' },
      messages: [{ from: 'customer', text: 'The export spins for a minute, then fails.' }],
    });
    const config = readFileSync(paths.configPath, 'utf8');
    check(/^servers:\n/m.test(config), 'gatehouse.yaml has no servers: block');
    writeFileSync(paths.configPath, config.replace(/^servers:\n/m, `servers:\n${helpdeskServerYaml(ctx)}`));
    ui.phase(`The helpdesk: ${ctx.rel(helpdeskDir(ctx))}/tickets/ and servers.helpdesk (stdio, trust: untrusted, pinned, ${CONFIDENTIAL_FIELD}: confidential)`);
  },
};
