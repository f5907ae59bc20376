import { describe, expect, it } from 'vitest';
import { hashArguments } from '../audit/index.js';
import type { ApprovalRecord } from '../storage/index.js';
import { argumentsView } from './arguments-view.js';
import { captureArguments, type CredentialFinder } from './exact-arguments.js';
import { jsonPayload, SLACK_MAX_ARGUMENTS, slackPayload, type ApprovalEvent } from './webhook.js';

const URL_ = 'https://gatehouse.example/console/approvals/apr_w';

function eventFor(args: unknown, find?: CredentialFinder): ApprovalEvent {
  const captured = captureArguments(args, find);
  const approval: ApprovalRecord = {
    id: 'apr_w',
    status: 'pending',
    level: 'four-eyes',
    requester: { sub: 'alice', groups: ['eng'], client: 'claude-code' },
    server: 'db',
    target: 'db__drop',
    method: 'tools/call',
    args: captured.node,
    argsFormat: 'exact-v1',
    argsMasked: captured.masked,
    argsHash: hashArguments(args),
    createdAt: 0,
    expiresAt: 900_000,
    breakGlass: false,
    anyClient: false,
  };
  return { type: 'approval.requested', approval, url: URL_ };
}

describe('approval webhooks show the one arguments view', () => {
  it('JSON: the exact value (with __proto__), the rendering and its integrity — never shortened', () => {
    const args = JSON.parse(`{"__proto__":{"isAdmin":true},"s":"1","n":1,"bidi":"\\u202e","long":"${'x'.repeat(20_000)}"}`) as unknown;
    const event = eventFor(args);
    const body = JSON.parse(JSON.stringify(jsonPayload(event))) as { approval: Record<string, unknown> };
    const view = argumentsView(event.approval);
    expect(body.approval.argumentsText).toBe(view.text);
    expect(body.approval).toMatchObject({ argumentsIntegrity: 'exact', argumentsHidden: false, argsHash: hashArguments(args), viewHash: view.viewHash });
    // Serialized, the value keeps every key: it hashes to what the approval binds.
    expect(hashArguments(body.approval.arguments)).toBe(hashArguments(args));
    expect(Object.keys(body.approval.arguments as object)).toEqual(['__proto__', 'bidi', 'long', 'n', 's']);
  });

  it('JSON: masked values are marked, and the CLI hint asks for the acknowledgement', () => {
    const event = eventFor({ dsn: 'x:SECRETVALUE@y' }, (t) => (t.includes('SECRETVALUE') ? [[t.indexOf('SECRETVALUE'), t.indexOf('SECRETVALUE') + 11]] : []));
    const body = jsonPayload(event) as { approval: Record<string, unknown> };
    expect(JSON.stringify(body)).not.toContain('SECRETVALUE');
    expect(body.approval).toMatchObject({
      arguments: { dsn: 'x:[REDACTED:vault]@y' },
      argumentsIntegrity: 'masked',
      argumentsHidden: true,
      cli: 'gatehouse approvals approve apr_w --as <you> --acknowledge-hidden',
    });
    expect(body.approval.argumentsText).toBe('{\n  "dsn": "x:" + [REDACTED:vault] + "@y"\n}');
  });

  it('Slack: short arguments whole, in a code block nothing can close', () => {
    const event = eventFor({ cmd: 'echo `rm -rf /` ``` <!channel> & done' });
    const text = slackPayload(event).text as string;
    expect(text).toContain('Arguments (exact):\n```{\n  "cmd": "echo \\u0060rm -rf /\\u0060 \\u0060\\u0060\\u0060 &lt;!channel&gt; &amp; done"\n}```');
    expect(text).not.toContain('shortened');
  });

  it('Slack: long arguments are cut only with a note saying how much is shown and a link to the full view', () => {
    const long = '<'.repeat(5000);
    const event = eventFor({ long });
    const payload = slackPayload(event) as { text: string; blocks: { text: { text: string } }[] };
    const view = argumentsView(event.approval);
    expect(payload.text).toMatch(
      new RegExp(
        `:scissors: \\*Arguments shortened here\\*: the first \\d+ of ${view.text.length} characters \\(3 lines in all\\) are shown\\. Read all of them before deciding: <${URL_.replace(/[/.]/g, '\\$&')}\\|full arguments in the console>\\.`,
      ),
    );
    // Every block fits Slack's limit of 3,000 characters per section.
    for (const block of payload.blocks) expect(block.text.text.length).toBeLessThanOrEqual(3000);
    const fence = payload.blocks[1]?.text.text as string;
    expect(fence.length).toBeLessThanOrEqual(SLACK_MAX_ARGUMENTS + 60);
    expect(fence).not.toMatch(/&(?!lt;|gt;|amp;)/);
  });

  it('Slack: a look-alike or bidi character in the requester, tool or reason cannot disguise them', () => {
    const event = eventFor({});
    event.approval.target = 'db__dr\u202Eop';
    event.approval.reason = 'safe \u200B<@U123>';
    const text = slackPayload(event).text as string;
    expect(text).toContain('`db__dr\\u202eop`');
    expect(text).toContain("Agent's reason: safe \\u200b&lt;@U123&gt;");
    expect(text).not.toMatch(/[\u200B\u202E]/);
  });
});
