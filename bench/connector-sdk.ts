// The per-call cost of a connector in its own (sandboxed) process against the in-process HTTP
// connector, both calling the same local API the same way: GET /v1/invoices on the example
// invoices API (examples/http/invoices-api.mjs, own process, loopback) with an API key.
//
//   node bench/connector-sdk.ts            (standalone; needs `make build`)
//   import { runConnectorSdkBench } from './connector-sdk.ts'   (bench/run.ts)
//
// (a) http: HttpConnector.execute for the OpenAPI tool listInvoices (request building, context
//     headers, egress guard, field allow-list) — in the gateway's process.
// (b) sdk: SdkConnector.execute for the example connector's list_invoices — the call framed to
//     the connector's process, the handler asks for its credential and calls ctx.fetch (two
//     round trips back to the gateway, which makes the request through the egress guard), the
//     result framed back and checked. Once under bubblewrap, once with the sandbox off.
// Calls alternate (a), (b), … so load drift on a shared machine hits both alike; the median over
// rounds of the per-pair difference is reported. No target: this measures, it does not judge.
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../dist/config/index.js';
import { HttpConnector, type HttpAuth } from '../dist/connectors/http/index.js';
import { createSdkConnector } from '../dist/connectors/sdk-process/index.js';
import { createLogger } from '../dist/log/index.js';
import { startInvoicesApi } from './lib/invoices-api.ts';
import { percentile } from './lib/mcp-load.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KEY = 'bench-key-0123456789abcdef';

async function alternating(seconds: number, first: () => Promise<void>, second: () => Promise<void>) {
  const a: number[] = [];
  const b: number[] = [];
  const pairs: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    await first();
    const t1 = performance.now();
    await second();
    const t2 = performance.now();
    a.push(t1 - t0);
    b.push(t2 - t1);
    pairs.push(t2 - t1 - (t1 - t0));
  }
  const sort = (list: number[]) => list.sort((x, y) => x - y);
  return { a: sort(a), b: sort(b), pairs: sort(pairs) };
}

export async function runConnectorSdkBench(options: { seconds?: number; rounds?: number; log?: (line: string) => void } = {}) {
  const seconds = options.seconds ?? 2.5;
  const rounds = options.rounds ?? 5;
  const api = await startInvoicesApi(KEY);
  const base = `http://127.0.0.1:${api.port}/v1`;
  const log = createLogger({ level: 'silent' });
  const config = validateConfig(
    {
      publicUrl: 'http://127.0.0.1:8787',
      dataDir: path.join(ROOT, '.bench'),
      servers: {
        http: {
          http: { baseUrl: base, openapi: path.join(ROOT, 'examples/http/invoices.openapi.yaml'), responses: { listInvoices: { fields: ['$.items[*].id'] } } },
          egress: { allowAddresses: ['127.0.0.1/32'] },
        },
        sandboxed: {
          connector: path.join(ROOT, 'examples/connectors/invoices/connector.ts'),
          credentials: { api: { type: 'apiKey', name: 'x-api-key', key: 'vault:invoices-key' } },
          settings: { baseUrl: base },
          egress: { allow: ['127.0.0.1'], allowAddresses: ['127.0.0.1/32'] },
          sandbox: { mode: 'auto' },
        },
        unsandboxed: {
          connector: path.join(ROOT, 'examples/connectors/invoices/connector.ts'),
          credentials: { api: { type: 'apiKey', name: 'x-api-key', key: 'vault:invoices-key' } },
          settings: { baseUrl: base },
          egress: { allow: ['127.0.0.1'], allowAddresses: ['127.0.0.1/32'] },
          sandbox: { mode: 'dangerously-off' },
        },
      },
      access: [{ allow: { users: ['bench'], servers: ['*'] } }],
    },
    'bench',
    ROOT,
    { env: {} },
  );
  const auth: HttpAuth = { type: 'apiKey', secretQueryParams: [], authorize: async () => ({ headers: { 'x-api-key': KEY } }) };
  const http = await HttpConnector.create('http', config.servers.http as never, { log, baseDir: ROOT, auth, globalAllow: [], timeoutMs: 10_000 });
  // The vault's answer for the key (the provider caches it a minute, as in the gateway).
  const vault = { resolve: async () => KEY } as never;
  const audit = { append: async () => undefined } as never;
  const sdk = async (name: 'sandboxed' | 'unsandboxed') => {
    const c = await createSdkConnector(name, config.servers[name] as never, { config, env: process.env, log, vault, audit });
    await c.start();
    return c;
  };
  const sandboxed = await sdk('sandboxed');
  const unsandboxed = await sdk('unsandboxed');
  const principal = {
    sub: 'bench',
    groups: [],
    clientId: 'bench',
    scopes: ['mcp'],
    jti: 'j',
    issuedAt: 0,
    expiresAt: 0,
    act: [],
    authorizationDetails: undefined,
  };
  let n = 0;
  const ctx = (server: string, name: string, args: Record<string, unknown>) =>
    ({
      requestId: `req-${++n}`,
      rpcId: n,
      principal,
      origin: { sessionId: 's', ip: '127.0.0.1', clientName: 'bench', protocolVersion: '2025-11-25' },
      op: { method: 'tools/call', action: 'call', kind: 'tool', server, name, id: `${server}__${name}`, args },
      params: { name, arguments: args },
      signal: new AbortController().signal,
      startedAt: Date.now(),
      progress: undefined,
      decision: undefined,
      intentSeq: undefined,
      notes: {},
      control: {},
    }) as never;
  const check = (result: { isError?: boolean; content: { text?: string }[] }, what: string) => {
    if (result.isError) throw new Error(`${what}: ${result.content[0]?.text}`);
  };
  const viaHttp = async () => check((await http.execute(ctx('http', 'listInvoices', {}))) as never, 'http');
  const via = (c: Awaited<ReturnType<typeof sdk>>, server: string) => async () => check((await c.execute(ctx(server, 'list_invoices', {}))) as never, server);
  try {
    const rows: Record<string, string | number>[] = [];
    for (const [label, c] of [
      ['sdk, bubblewrap', sandboxed],
      ['sdk, sandbox off', unsandboxed],
    ] as const) {
      const server = c === sandboxed ? 'sandboxed' : 'unsandboxed';
      await alternating(0.5, viaHttp, via(c, server));
      const added: number[] = [];
      let last: { a: number[]; b: number[] } | undefined;
      for (let round = 1; round <= rounds; round++) {
        options.log?.(`connector-sdk: ${label}, round ${round}/${rounds}`);
        const { a, b, pairs } = await alternating(seconds, viaHttp, via(c, server));
        added.push(percentile(pairs, 0.5));
        last = { a, b };
      }
      const median = [...added].sort((x, y) => x - y)[Math.floor(added.length / 2)] as number;
      rows.push({
        path: label,
        sandbox: String((c.status().detail as { sandbox: { on: boolean } }).sandbox.on),
        'http p50 ms': Number(percentile(last?.a ?? [], 0.5).toFixed(3)),
        'sdk p50 ms': Number(percentile(last?.b ?? [], 0.5).toFixed(3)),
        'sdk p99 ms': Number(percentile(last?.b ?? [], 0.99).toFixed(3)),
        'added p50 ms (median of rounds)': Number(median.toFixed(3)),
        'ratio sdk/http (p50)': Number((percentile(last?.b ?? [], 0.5) / percentile(last?.a ?? [], 0.5)).toFixed(2)),
      });
    }
    return {
      title: 'Connector SDK: a call in the connector’s own process vs the in-process HTTP connector (same API, same request)',
      rows,
      notes: [
        'added: median over rounds of the per-pair difference (sdk call − the http call just before it). p50 columns are from the last round.',
        'The sdk path: call framed to the process, ctx.credential and ctx.fetch round trips back to the gateway, the request through the egress guard, result framed back and checked.',
        `Load average at the end: ${loadavg()
          .map((x) => x.toFixed(2))
          .join(' ')} (numbers on a busy machine are indicative; compare ratios measured in the same run).`,
      ],
    };
  } finally {
    await Promise.all([http.stop(), sandboxed.stop(), unsandboxed.stop()]);
    api.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await runConnectorSdkBench({ log: (line) => console.error(line) });
  console.log(result.title);
  console.table(result.rows);
  for (const note of result.notes) console.log(note);
}
