import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Agent, describeRpcError } from '../lib/agent.ts';
import { Browser, forms, pageText } from '../lib/browser.ts';
import { check, DemoError, type DemoContext, type DemoStep } from '../lib/context.ts';
import { ITEMS_CLOUD_ACCOUNTS } from '../lib/items-cloud.ts';
import { itemsCloud } from '../lib/items-setup.ts';
import { describeHop } from '../lib/oauth-client.ts';
import { oneLine } from '../lib/ui.ts';
import { issueToken } from './issue-token.ts';

interface AuditRecord {
  seq: number;
  kind: string;
  actor?: { sub?: string };
  target?: { tool?: string };
  outcome?: { status?: string; code?: string };
  notes?: { downstream?: { url?: string; status?: number } };
}

/** JSON-RPC code of MCP's "URL elicitation required": the answer to a call that needs a connection. */
const CONNECTION_REQUIRED = -32042;

/** Every file under `dir`, as text (the SQLite database, its WAL and shared memory included). */
function filesText(dir: string): string {
  return readdirSync(dir)
    .map((name) => path.join(dir, name))
    .map((file) => (statSync(file).isDirectory() ? filesText(file) : readFileSync(file).toString('latin1')))
    .join('\n');
}

/** Calls listMyItems expecting `connection.required`; returns the URL the answer names. */
async function expectConnectionRequired(ctx: DemoContext, agent: Agent, who: string): Promise<string> {
  const error = await agent.callExpectingError('items__listMyItems', {});
  const data = error.data as { code?: string; reason?: string; elicitations?: { mode?: string; url?: string }[] } | undefined;
  const url = `${ctx.publicUrl}/connections?server=items`;
  check(
    error.code === CONNECTION_REQUIRED && error.message.includes(url) && data?.elicitations?.[0]?.mode === 'url' && data.elicitations[0].url === url,
    `${who}'s call without a connection should be answered with connection.required naming ${url}: ${describeRpcError(error)}`,
  );
  ctx.ui.refused(describeRpcError(error));
  return url;
}

/**
 * alice connects her Items Cloud account in her browser: Gatehouse's sign-in, the
 * /connections page, Connect (a CSRF-protected form) → Items Cloud's own sign-in and consent
 * (authorization code + PKCE) → back to Gatehouse's callback, which trades the code for tokens.
 */
async function connectInBrowser(ctx: DemoContext, start: string): Promise<void> {
  const { ui } = ctx;
  const cloud = itemsCloud();
  const alice = ctx.users.alice;
  check(alice.password, 'alice has no demo password');
  let authorization: URL | undefined;
  const browser = new Browser(
    ctx.publicUrl,
    (hop) => {
      ui.line(`   ${ui.style('magenta', 'browser')} ${describeHop(ctx, hop)}`);
      if (hop.url.pathname === '/connections/connect' && hop.location?.origin === cloud.issuer) authorization = hop.location;
    },
    [cloud.issuer],
  );
  let { response, url } = await browser.go(new URL(start));
  for (let step = 0; step < 8; step++) {
    const html = await response.text();
    if (response.status !== 200) throw new DemoError(`the browser stopped at ${url.href}: HTTP ${response.status}: ${oneLine(pageText(html), 300)}`);
    const atGateway = url.origin === ctx.publicUrl;
    if (atGateway && url.pathname === '/connections' && url.searchParams.get('done') === 'connected') {
      const notice = pageText(/<p class="notice"[^>]*>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '').replace(' .', '.');
      ui.say(`  /connections: "${oneLine(notice, 160)}"`);
      check(/Connected/.test(pageText(html)), 'the connections page does not show the connection');
      return;
    }
    const form = forms(html)[0];
    if (!form) throw new DemoError(`no form on ${url.href}: ${oneLine(pageText(html), 300)}`);
    if (atGateway && /type="password"/.test(html)) {
      ui.say('  Gatehouse sign-in page (the browser has no session yet): alice signs in with her Gatehouse password');
      ({ response, url } = await browser.submit(url, form, { username: alice.sub, password: alice.password }, { username: alice.sub, password: '••••••••' }));
    } else if (atGateway && url.pathname === '/connections') {
      const connect = forms(html).find((f) => f.action === '/connections/connect' && f.fields.server === 'items');
      check(connect, 'the connections page has no Connect form for items');
      const row = pageText(/<tr[^>]*id="server-items"[^>]*>([\s\S]*?)<\/tr>/.exec(html)?.[1] ?? '');
      ui.say(`  /connections: ${row}  [Connect now]  (a form with a CSRF token bound to her browser session)`);
      check(/Items Cloud/.test(row) && /items:read/.test(row) && /Not connected/.test(row), `the connections page shows: ${row}`);
      ({ response, url } = await browser.submit(url, connect, {}, { server: 'items', csrf: '…' }));
      const params = authorization?.searchParams;
      check(
        params?.get('response_type') === 'code' &&
          params.get('code_challenge_method') === 'S256' &&
          (params.get('code_challenge') ?? '').length >= 43 &&
          (params.get('state') ?? '').length >= 32 &&
          params.get('redirect_uri') === `${ctx.publicUrl}/connections/callback`,
        `Gatehouse's authorization request to Items Cloud lacks code + PKCE S256 + state: ${authorization?.href}`,
      );
      ui.say(
        `  (the Connect redirect above is Gatehouse's authorization request: response_type=code client_id=${params.get('client_id')} scope="${params.get('scope')}" ` +
          `code_challenge_method=S256 state=… redirect_uri=${params.get('redirect_uri')})`,
      );
    } else if (url.origin === cloud.issuer && /type="password"/.test(html)) {
      const account = ITEMS_CLOUD_ACCOUNTS.alice;
      check(account, 'Items Cloud has no account for alice');
      ui.say("  Items Cloud's own sign-in page: alice signs in there, with her Items Cloud password (Gatehouse never sees it)");
      ({ response, url } = await browser.submit(url, form, { username: 'alice', password: account.password }, { username: 'alice', password: '••••••••' }));
    } else if (url.origin === cloud.issuer && /name="decision"/.test(html)) {
      const scopes = [...html.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => pageText(m[1] as string));
      ui.say(`  Items Cloud consent page: "${oneLine(pageText(/<p>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? ''), 80)}" scopes ${scopes.join(' ')}  [Allow] [Deny]`);
      ({ response, url } = await browser.submit(url, form, { decision: 'allow' }, { decision: 'allow' }));
    } else {
      throw new DemoError(`unexpected page at ${url.href}: ${oneLine(pageText(html), 300)}`);
    }
  }
  throw new DemoError('connecting did not finish');
}

/**
 * User-delegated OAuth: a tool that acts on the caller's own account at a downstream provider.
 * The agent holds only its Gatehouse token; Gatehouse holds alice's Items Cloud tokens
 * (refresh token sealed in the vault's envelope encryption) and adds hers to her calls only.
 */
export const userOAuthStep: DemoStep = {
  title: "alice's own account at another service: she connects Items Cloud once; her agent uses it without ever holding the token",
  async run(ctx) {
    const { ui, paths } = ctx;
    const cloud = itemsCloud();
    const { alice, bob } = ctx.users;
    const seen: string[] = [];

    const aliceAgent = await Agent.connect(ctx, await issueToken(ctx, alice, { show: false }));
    try {
      ui.say("alice's agent calls a tool of servers.items (auth: userOAuth) before she has connected her account:");
      const url = await expectConnectionRequired(ctx, aliceAgent, alice.sub);
      ui.say(`A client with URL elicitation would open ${url} for her and wait; this one gets the error and shows her the link.`);
      check(!cloud.grants.size && cloud.apiRequests === 0, 'Items Cloud was asked for a token, or its API called, before anyone connected');

      ui.line();
      ui.say(`alice opens ${url} in her browser:`);
      await connectInBrowser(ctx, url);
      check(cloud.grants.get('authorization_code') === 1, `expected one authorization_code grant at Items Cloud, saw ${JSON.stringify([...cloud.grants])}`);
      ui.ok("Gatehouse traded the code (with its PKCE verifier and client secret) for alice's tokens at Items Cloud");

      ui.line();
      ui.say('The same call again, from the same agent session:');
      const items = await aliceAgent.call('items__listMyItems', {});
      seen.push(items);
      const listed = JSON.parse(items) as { owner?: string; items?: { title: string }[] };
      check(
        listed.owner === 'alice' && ITEMS_CLOUD_ACCOUNTS.alice?.items.every((t) => listed.items?.some((i) => i.title === t)),
        `listMyItems did not return alice's items: ${items}`,
      );
      ui.ok('Items Cloud answered for alice: the request carried her token, added by Gatehouse on the way out');
    } finally {
      await aliceAgent.close();
    }

    const bobAgent = await Agent.connect(ctx, await issueToken(ctx, bob, { show: false }));
    try {
      ui.say(`bob (group eng too, so policy lets him call it) has not connected an account: his call is not answered with alice's.`);
      const apiRequests = cloud.apiRequests;
      await expectConnectionRequired(ctx, bobAgent, bob.sub);
      check(cloud.apiRequests === apiRequests, "bob's call reached the Items Cloud API");
      ui.ok('no request went to Items Cloud for bob: Gatehouse refused before building one');
    } finally {
      await bobAgent.close();
    }

    const list = await ctx.show(['connections', 'list', '--data-dir', paths.dataDir], { expectExit: 0 });
    ui.output(list.stdout);
    check(/alice\s+items\s+Items Cloud/.test(list.stdout) && !/\bbob\b/.test(list.stdout), `connections list shows: ${list.stdout}`);

    // The tokens Items Cloud issued: nowhere the agent, the operator or the disk could read them.
    check(cloud.issued.length >= 2, `Items Cloud issued ${cloud.issued.length} tokens; expected an access and a refresh token`);
    const exported = await ctx.gatehouse(['audit', 'export', '--data-dir', paths.dataDir], { expectExit: 0 });
    const records = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRecord);
    const connected = records.find((r) => r.kind === 'connection.connected');
    const calls = records.filter((r) => r.kind === 'call.result' && r.target?.tool === 'items__listMyItems');
    const aliceCall = calls.find((r) => r.actor?.sub === alice.sub && r.outcome?.status === 'ok');
    const bobCall = calls.find((r) => r.actor?.sub === bob.sub);
    check(connected?.actor?.sub === alice.sub, 'the audit log has no connection.connected record for alice');
    check(
      aliceCall?.notes?.downstream?.status === 200 && aliceCall.notes.downstream.url === `${cloud.apiUrl}/items`,
      `the audit log lacks alice's call with its downstream request: ${JSON.stringify(aliceCall)}`,
    );
    check(bobCall?.outcome?.code === 'connection.required', `the audit log lacks bob's refused call: ${JSON.stringify(bobCall)}`);
    ui.output(`#${connected.seq} connection.connected ${alice.sub}  (server items, provider Items Cloud, scopes; no token)`);
    ui.output(`#${aliceCall.seq} call.result ${alice.sub} items__listMyItems  ok  GET ${aliceCall.notes.downstream.url} → 200`);
    ui.output(`#${bobCall.seq} call.result ${bob.sub} items__listMyItems  error connection.required`);
    const places: [string, string][] = [
      ['what the agents received', seen.join('\n')],
      ['the demo output', ui.printed()],
      ['the audit log', exported.stdout],
      ['the gateway log', readFileSync(paths.logPath, 'utf8')],
      ['the data dir (plain text)', filesText(paths.dataDir)],
    ];
    for (const token of cloud.issued) for (const [where, text] of places) check(!text.includes(token), `an Items Cloud token appears in ${where}`);
    ui.ok(`none of the ${cloud.issued.length} tokens Items Cloud issued is in: ${places.map(([w]) => w).join(', ')}`);
  },
};
