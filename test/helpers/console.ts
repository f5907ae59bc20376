/**
 * Driving the console as a person with a browser does, over plain HTTP with a cookie jar:
 * open a console page, go through the authorization server's sign-in pages (password, TOTP
 * or its enrollment), land back on the page. See browser.ts for the cookie jar.
 */
import { currentTotp } from '../../src/identity/totp.js';
import { Browser, forms } from './browser.js';
import { PASSWORD } from './oauth-gateway.js';

export interface Page {
  status: number;
  url: URL;
  html: string;
}

export interface Person {
  username: string;
  password?: string;
  /**
   * The person's authenticator app. Enrollment stores the key shown; a code is never
   * accepted twice (RFC 6238 §5.2), so each later code is for a step after the last one used
   * (the verifier accepts one step of drift).
   */
  totp?: { secret?: string; lastStep?: number };
}

/** A browser that stays on the gateway (stops at redirects to anywhere else). */
export function consoleBrowser(gatewayUrl: string): Browser {
  const origin = new URL(gatewayUrl).origin;
  return new Browser((u) => u.origin === origin);
}

export async function open(browser: Browser, url: string | URL): Promise<Page> {
  const { response, url: at } = await browser.go(url);
  return { status: response.status, url: at, html: await response.text() };
}

/** A TOTP code for a step after the last one this person used. */
export function nextCode(person: Person): string {
  const totp = person.totp as { secret: string; lastStep?: number };
  const now = Date.now();
  const current = Math.floor(now / 30_000);
  const step = totp.lastStep === undefined ? current : Math.max(current, totp.lastStep + 1);
  if (step > current + 1) throw new Error('no fresh TOTP step within the drift window: wait for the next one');
  totp.lastStep = step;
  return currentTotp(totp.secret, step * 30_000 + 1000);
}

/**
 * From a page that is a sign-in step (`/interaction/…`), fills in every step as `person`
 * until the browser is back outside the sign-in pages; returns that page.
 */
export async function completeSignIn(browser: Browser, start: Page, person: Person): Promise<Page> {
  let page = start;
  for (let step = 0; step < 6 && page.url.pathname.startsWith('/interaction/'); step++) {
    if (page.status !== 200) throw new Error(`sign-in stopped at ${page.url.href}: ${page.status} ${page.html.slice(0, 400)}`);
    const form = forms(page.html)[0];
    if (!form) throw new Error(`no form on ${page.url.href}: ${page.html.slice(0, 400)}`);
    let fields: Record<string, string>;
    if (/type="password"/.test(page.html)) fields = { username: person.username, password: person.password ?? PASSWORD };
    else if (page.html.includes('<h1>Set up two-step verification</h1>')) {
      const secret = (/<dt>Key<\/dt><dd><code>([A-Z2-7 ]+)<\/code>/.exec(page.html)?.[1] as string).replace(/ /g, '');
      person.totp = { secret };
      fields = { code: nextCode(person) };
    } else if (/name="code"/.test(page.html)) {
      if (!person.totp?.secret) throw new Error(`${person.username} was asked for a TOTP code but has no authenticator`);
      fields = { code: nextCode(person) };
    } else throw new Error(`unexpected sign-in page ${page.url.href}: ${page.html.slice(0, 400)}`);
    const { response, url } = await browser.submit(page.url, form, fields);
    page = { status: response.status, url, html: await response.text() };
  }
  return page;
}

/** Opens a console page; signs in on the way when asked to. */
export async function visit(browser: Browser, url: string | URL, person: Person): Promise<Page> {
  const page = await open(browser, url);
  return page.url.pathname.startsWith('/interaction/') ? completeSignIn(browser, page, person) : page;
}

/** The CSRF token of the decision form on a console approval page. */
export function csrfOf(html: string): string {
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error(`no decision form on the page: ${html.slice(0, 400)}`);
  return token;
}

/** Posts a decision form the way the page's own form does (same origin, urlencoded); follows a 303 to the page it names. */
export async function decide(
  browser: Browser,
  gatewayUrl: string,
  id: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; location?: string; html: string }> {
  const url = new URL(`/console/approvals/${encodeURIComponent(id)}`, gatewayUrl);
  const response = await browser.request(url, {
    method: 'POST',
    body: new URLSearchParams(fields),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url.origin, ...headers },
  });
  if (response.status !== 303) return { status: response.status, html: await response.text() };
  await response.arrayBuffer();
  const location = response.headers.get('location') as string;
  return { status: 303, location, html: (await open(browser, new URL(location, url))).html };
}

/** `&amp;` and numeric entities back to text (links on the pages are HTML-escaped). */
export function unescapeHtml(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}
