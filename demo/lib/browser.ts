/**
 * The user's browser during an OAuth sign-in, played over real HTTP: keeps cookies (per
 * origin), follows redirects while they stay on the gateway (or another site it was told to
 * visit, such as a downstream provider's sign-in), stops at the first one that leaves them
 * (the client's redirect URI), and submits the forms it finds on the sign-in and consent pages.
 * (test/helpers/browser.ts does the same for the end-to-end tests; this copy runs under
 * Node's type stripping and reports every hop to the demo.)
 */
export interface Form {
  action: string;
  fields: Record<string, string>;
}

export interface Hop {
  method: string;
  url: URL;
  status: number;
  location: URL | undefined;
  /** What was posted (form fields), for display. */
  posted: Record<string, string> | undefined;
}

export class Browser {
  /** Cookies by origin: each site gets back only its own. */
  readonly #cookies = new Map<string, Map<string, string>>();
  readonly #origins: Set<string>;
  readonly #onHop: (hop: Hop) => void;

  /** `alsoVisit`: other origins the browser follows redirects to (a downstream provider's pages). */
  constructor(gatewayOrigin: string, onHop: (hop: Hop) => void, alsoVisit: readonly string[] = []) {
    this.#origins = new Set([gatewayOrigin, ...alsoVisit]);
    this.#onHop = onHop;
  }

  async #request(url: URL, init: RequestInit = {}, posted?: Record<string, string>): Promise<Response> {
    const headers = new Headers(init.headers);
    const jar = this.#cookies.get(url.origin) ?? new Map<string, string>();
    this.#cookies.set(url.origin, jar);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = (pair as string).indexOf('=');
      const name = (pair as string).slice(0, eq).trim();
      const value = (pair as string).slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=.*1970/i.test(a));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    const location = res.headers.get('location');
    this.#onHop({ method: init.method ?? 'GET', url, status: res.status, location: location ? new URL(location, url) : undefined, posted });
    return res;
  }

  /** GETs `url` and follows redirects while they stay on the sites it visits. */
  async go(start: URL): Promise<{ response: Response; url: URL }> {
    let url = start;
    let response = await this.#request(url);
    for (let i = 0; i < 20 && response.status >= 300 && response.status < 400; i++) {
      const location = response.headers.get('location');
      if (!location) break;
      const next = new URL(location, url);
      if (!this.#origins.has(next.origin)) return { response, url: next };
      await response.arrayBuffer();
      url = next;
      response = await this.#request(url);
    }
    return { response, url };
  }

  /** Submits a form (POST, urlencoded, from the page's own origin), then follows redirects like `go`. */
  async submit(page: URL, form: Form, values: Record<string, string>, shown: Record<string, string>): Promise<{ response: Response; url: URL }> {
    const action = new URL(form.action, page);
    const body = new URLSearchParams({ ...form.fields, ...values });
    const response = await this.#request(
      action,
      { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: action.origin } },
      shown,
    );
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      const next = new URL(location, action);
      if (!this.#origins.has(next.origin)) return { response, url: next };
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

/** A page's visible text, one line (tags dropped, entities decoded). */
export function pageText(html: string): string {
  const body = /<main\b[^>]*>([\s\S]*?)<\/main>/.exec(html)?.[1] ?? /<body\b[^>]*>([\s\S]*?)<\/body>/.exec(html)?.[1] ?? html;
  return decode(body.replace(/<style[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}

function decode(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCharCode(parseInt(n, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
