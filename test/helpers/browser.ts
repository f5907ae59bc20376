/**
 * What a browser does during sign-in, made explicit: keeps cookies (per host), follows
 * redirects within the gateway, stops at the first redirect that leaves it (the client's
 * redirect URI), and submits the forms it finds. Tests drive login and consent with it
 * exactly as a person would, over real HTTP.
 */
export interface Form {
  action: string;
  fields: Record<string, string>;
}

export class Browser {
  readonly cookies = new Map<string, Map<string, string>>();
  /** Every response seen, for assertions on headers (CSP, cookies). */
  readonly history: { url: string; status: number; headers: Headers }[] = [];

  constructor(private readonly stayWithin: (url: URL) => boolean) {}

  #jar(host: string): Map<string, string> {
    let jar = this.cookies.get(host);
    if (!jar) this.cookies.set(host, (jar = new Map()));
    return jar;
  }

  cookie(host: string, name: string): string | undefined {
    return this.cookies.get(host)?.get(name);
  }

  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const jar = this.#jar(target.host);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(target, { ...init, headers, redirect: 'manual' });
    this.history.push({ url: target.href, status: res.status, headers: res.headers });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = (pair as string).indexOf('=');
      const name = (pair as string).slice(0, eq).trim();
      const value = (pair as string).slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=.*1970/i.test(a));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }

  /** GETs `url` and follows redirects while they stay within the gateway. */
  async go(url: string | URL, init: RequestInit = {}): Promise<{ response: Response; url: URL }> {
    let current = new URL(url);
    let response = await this.request(current, init);
    for (let i = 0; i < 20 && response.status >= 300 && response.status < 400; i++) {
      const location = response.headers.get('location');
      if (!location) break;
      const next = new URL(location, current);
      if (!this.stayWithin(next)) return { response, url: next };
      await response.arrayBuffer();
      current = next;
      response = await this.request(current);
    }
    return { response, url: current };
  }

  /** Submits a form found on a page (POST, urlencoded), then follows redirects. */
  async submit(pageUrl: URL, form: Form, overrides: Record<string, string> = {}, init: RequestInit = {}): Promise<{ response: Response; url: URL }> {
    const action = new URL(form.action, pageUrl);
    const body = new URLSearchParams({ ...form.fields, ...overrides });
    const response = await this.request(action, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: action.origin, ...(init.headers as Record<string, string>) },
    });
    if (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
      const next = new URL(response.headers.get('location') as string, action);
      if (!this.stayWithin(next)) return { response, url: next };
      await response.arrayBuffer();
      return this.go(next);
    }
    return { response, url: action };
  }
}

/** The forms on a page, with their hidden and pre-filled inputs. */
export function forms(html: string): Form[] {
  const out: Form[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const action = /action="([^"]*)"/.exec(match[1] as string)?.[1] ?? '';
    const fields: Record<string, string> = {};
    for (const input of (match[2] as string).matchAll(/<input\b([^>]*)>/g)) {
      const name = /name="([^"]*)"/.exec(input[1] as string)?.[1];
      const value = /value="([^"]*)"/.exec(input[1] as string)?.[1] ?? '';
      if (name) fields[name] = decode(value);
    }
    out.push({ action: decode(action), fields });
  }
  return out;
}

function decode(text: string): string {
  return text.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');
}
