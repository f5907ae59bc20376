import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Agent, describeRpcError } from '../lib/agent.ts';
import { check, DemoError, type DemoStep } from '../lib/context.ts';
import { shipRelease2 } from '../lib/helpdesk.ts';
import { issueToken } from './issue-token.ts';

/** Resolves when `count()` exceeds `from`, or fails the step after `ms`. */
async function waitForCount(count: () => number, from: number, what: string, ms = 15_000): Promise<void> {
  for (let waited = 0; waited < ms; waited += 50) {
    if (count() > from) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new DemoError(`no ${what} within ${ms / 1000}s`);
}

/**
 * A rug pull: an upstream whose tools were reviewed changes them later. Gatehouse pinned each
 * tool's definition (name, description, schemas, annotations) at the first start; the changed
 * tool and the new one are quarantined (not listed, not callable, audited as tool.changed)
 * until an operator reads the diff and approves. A broad policy permit does not let them through.
 */
export const rugPullStep: DemoStep = {
  title: 'A rug pull: the helpdesk server changes a pinned tool and adds one; both are quarantined until approved',
  async run(ctx) {
    const { ui, paths } = ctx;
    const alice = ctx.users.alice;
    const token = await issueToken(ctx, alice, { show: false });
    const agent = await Agent.connect(ctx, token);
    let announced = 0;
    agent.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void announced++);
    const helpdeskTools = async () =>
      (await agent.client.listTools()).tools
        .map((t) => t.name)
        .filter((n) => n.startsWith('helpdesk__'))
        .sort();
    try {
      const before = await helpdeskTools();
      ui.request(`tools/list (as ${alice.sub})`);
      ui.ok(`${before.join(' ')}  (pinned at the gateway's first start; policy eng-helpdesk permits every helpdesk tool)`);
      check(before.join(',') === 'helpdesk__get_ticket,helpdesk__list_tickets', `unexpected helpdesk tools: ${before.join(', ')}`);

      ui.say('The helpdesk server ships release 2 while running: get_ticket gets a new description and parameter,');
      ui.say("export_diagnostics appears (it prints the server's environment). The server sends tools/list_changed.");
      const seen = announced;
      shipRelease2(ctx);
      await waitForCount(() => announced, seen, "tools/list_changed from the gateway after the helpdesk's update");
      ui.ok('the gateway relays notifications/tools/list_changed to the agent');
      const after = await helpdeskTools();
      ui.request('tools/list');
      ui.refused(`${after.join(' ') || '(no helpdesk tool)'}  — get_ticket and export_diagnostics are quarantined, not listed`);
      check(after.join(',') === 'helpdesk__list_tickets', `after the update the agent still sees: ${after.join(', ')}`);

      for (const [name, args, quarantine] of [
        ['helpdesk__get_ticket', { id: '4702' }, 'changed'],
        ['helpdesk__export_diagnostics', {}, 'new'],
      ] as const) {
        const error = await agent.callExpectingError(name, args);
        const data = error.data as { code?: string; quarantine?: string } | undefined;
        check(
          error.code === -32003 && data?.code === 'tool.quarantined' && data.quarantine === quarantine,
          `${name} should be refused as quarantined (${quarantine}): ${describeRpcError(error)}`,
        );
        ui.refused(describeRpcError(error));
      }

      const list = await ctx.show(['tools', 'list', '--server', 'helpdesk', '--config', paths.configPath, '--data-dir', paths.dataDir], { expectExit: 0 });
      ui.output(list.stdout);
      ui.say('DECLARED is what the server claims (read-only); EFFECTIVE is what Gatehouse believes: only its config can make a tool read-only.');
      check(
        /helpdesk__get_ticket\s+quarantined \(changed\)/.test(list.stdout) &&
          /helpdesk__export_diagnostics\s+quarantined \(new\)/.test(list.stdout) &&
          /helpdesk__list_tickets\s+approved \(first-start\)/.test(list.stdout),
        `tools list does not show the two tools quarantined: ${list.stdout}`,
      );

      const diff = await ctx.show(['tools', 'diff', 'helpdesk__get_ticket', '--config', paths.configPath, '--data-dir', paths.dataDir], { expectExit: 0 });
      // The review, without the unchanged lines of the definition.
      const lines = diff.stdout.split('\n');
      ui.output(
        [
          ...lines.slice(0, 3).map((l) => l.slice(0, 110)),
          ...lines.slice(3).filter((l) => /^[+-] /.test(l)),
          '(unchanged lines left out)',
          ...lines.filter((l) => l.startsWith('approve with')),
        ].join('\n'),
      );
      check(
        /^\+ +"format": \{/m.test(diff.stdout) && /^- +"description": "Reads one support ticket with its messages",/m.test(diff.stdout),
        'tools diff does not show the changed definition',
      );

      ui.say('carol reads the diff: a new optional parameter, nothing hidden. She approves get_ticket, and only get_ticket:');
      const seenBeforeApproval = announced;
      const approved = await ctx.show(
        ['tools', 'approve', 'helpdesk__get_ticket', '--as', ctx.users.carol.sub, '--config', paths.configPath, '--data-dir', paths.dataDir],
        {
          expectExit: 0,
        },
      );
      ui.ok(approved.stdout.trim());
      // The approval is another process's write: the gateway picks it up on its next request.
      const approvedList = await helpdeskTools();
      ui.request('tools/list');
      ui.ok(`${approvedList.join(' ')}  (the approved definition is back; export_diagnostics stays quarantined)`);
      await waitForCount(() => announced, seenBeforeApproval, 'tools/list_changed after the approval', 5_000);
      ui.ok("and every session of the helpdesk's clients got tools/list_changed");
      check(approvedList.join(',') === 'helpdesk__get_ticket,helpdesk__list_tickets', `after the approval the agent sees: ${approvedList.join(', ')}`);
      const ticket = await agent.call('helpdesk__get_ticket', { id: '4702', format: 'short' });
      check(ticket.includes('Export to CSV times out'), 'the approved get_ticket did not return ticket 4702');
    } finally {
      await agent.close();
    }

    const records = JSON.parse(
      (await ctx.gatehouse(['audit', 'query', '--data-dir', paths.dataDir, '--limit', '100000', '--json'], { expectExit: 0 })).stdout,
    ) as {
      seq: number;
      kind: string;
      target?: { tool?: string };
      pin?: { reason?: string };
      actor?: { sub?: string };
      via?: string;
    }[];
    const pinRecords = records.filter((r) => (r.kind === 'tool.changed' || r.kind === 'tool.approved') && r.target?.tool?.startsWith('helpdesk__'));
    for (const r of pinRecords) {
      ui.output(
        `#${r.seq} ${r.kind} ${r.target?.tool ?? ''}${r.pin?.reason ? ` (${r.pin.reason})` : ''}${r.kind === 'tool.approved' ? ` by ${r.actor?.sub} via ${r.via}` : ''}`,
      );
    }
    const has = (kind: string, tool: string) => pinRecords.some((r) => r.kind === kind && r.target?.tool === tool);
    check(
      has('tool.changed', 'helpdesk__get_ticket') && has('tool.changed', 'helpdesk__export_diagnostics') && has('tool.approved', 'helpdesk__get_ticket'),
      'the audit log lacks the tool.changed / tool.approved records of the rug pull',
    );
    check(!has('tool.approved', 'helpdesk__export_diagnostics'), 'export_diagnostics was approved');
    ui.ok('audit: tool.changed for both (with the old and new digests), tool.approved by carol for get_ticket only');
  },
};
