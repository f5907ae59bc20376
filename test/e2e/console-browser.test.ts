/**
 * One real browser through the console: Debian's Chromium, driven by playwright-core, signs
 * in at the authorization server (password, then TOTP enrollment that the approver's group
 * requires), lands back on the approval request and approves it. Everything a person would
 * see and click, found by its accessible name; no request leaves the gateway.
 */
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { currentTotp } from '../../src/identity/totp.js';
import { CHROMIUM_ARGS } from '../helpers/chromium.js';
import { PASSWORD } from '../helpers/oauth-gateway.js';
import { approvalRows, auditRows, cleanup, cli, connectClient, startGateway, STARTER_POLICIES, text, type GatewayProcess } from '../helpers/policy-e2e.js';

let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  await cleanup();
});

describe('the console in Chromium', () => {
  let gw: GatewayProcess;

  beforeAll(async () => {
    gw = await startGateway(
      {
        approvals: { approvers: { echo: { groups: ['sre'] } }, wait: '200ms' },
        // Approvers must use a second factor: bob enrolls TOTP at his first sign-in.
        identity: { conditionalAccess: { sre: { mfa: true } } },
        rateLimits: { enabled: false },
      },
      { policies: STARTER_POLICIES },
    );
    const added = await cli(['users', 'add', 'bob', '--group', 'sre', '--data-dir', gw.dataDir, '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(added.code, added.stderr).toBe(0);
    browser = await chromium.launch({ executablePath: inject('chromium'), headless: true, args: CHROMIUM_ARGS });
  });

  it('sign-in → TOTP → approve: the agent’s retry then runs', async () => {
    const agent = await connectClient(gw, await gw.token('alice', ['eng']));
    const pending = await agent.callTool({ name: 'delete_everything', arguments: { target: 'staging' } });
    const id = (pending as { _meta: Record<string, { id: string }> })._meta['gatehouse/approval']?.id as string;
    expect(id).toMatch(/^apr_/);

    const context = await (browser as Browser).newContext();
    const page = await context.newPage();
    const origins = new Set<string>();
    const problems: string[] = [];
    page.on('request', (request) => origins.add(new URL(request.url()).origin));
    // Any error response but the browser's own favicon probe; any console error (a CSP violation is one).
    page.on('response', (response) => {
      if (response.status() >= 400 && new URL(response.url()).pathname !== '/favicon.ico') problems.push(`${response.status()} ${response.url()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));

    // The link from the agent's pending result; nobody is signed in, so it is the sign-in page.
    await page.goto(`${gw.url}/console/approvals/${id}`);
    await expect.poll(() => page.title()).toBe('Sign in · Gatehouse');
    await page.getByLabel('Username').fill('bob');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();

    // The approver group requires a second factor: enroll TOTP from the key on the page.
    await page.getByRole('heading', { name: 'Set up two-step verification' }).waitFor();
    const secret = ((await page.locator('dt:has-text("Key") + dd code').textContent()) ?? '').replace(/\s/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await page.getByLabel('Authentication code').fill(currentTotp(secret));
    await page.getByRole('button', { name: 'Verify and continue' }).click();

    // Back on the request, with a fresh second factor: approve it.
    await page.getByRole('heading', { name: `Approval request ${id}` }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/console/approvals/${id}`);
    await expect.poll(() => page.locator('body').textContent()).toContain('echo__delete_everything');
    expect(await page.getByText('Confirm with your second factor').count()).toBe(0);
    await page.getByLabel('Note (optional)').fill('looked fine');
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByText("Approved. The agent's call can now run once, with exactly these arguments.").waitFor();
    expect(new URL(page.url()).search).toBe('?done=approved');

    expect(approvalRows(gw.dataDir).find((r) => r.id === id)?.status).toBe('approved');
    expect(text(await agent.callTool({ name: 'delete_everything', arguments: { target: 'staging' } }))).toBe('deleted (not really)');
    expect(auditRows(gw.dataDir).find((r) => r.kind === 'approval.decided' && r.body.approval.id === id)?.body).toMatchObject({
      actor: { sub: 'bob', groups: ['sre'] },
      via: 'console',
      approval: { note: 'looked fine' },
    });

    // No external assets, and nothing the CSP had to block.
    expect([...origins]).toEqual([gw.url]);
    expect(problems).toEqual([]);
    await context.close();
  });
});
