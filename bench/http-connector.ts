// The HTTP connector's overhead over a direct undici call to the same local API, with a
// cached credential: the example invoices API (examples/http/invoices-api.mjs) in its own
// process on loopback, GET /v1/invoices/inv-1 with an API key header, keep-alive both ways.
//
//   node bench/http-connector.ts            (standalone; needs `make build`)
//   import { runHttpConnectorBench } from './http-connector.ts'   (bench/run.ts)
//
// (a) direct: undici.fetch with a keep-alive Agent, body read as text.
// (b) connector: HttpConnector.execute for the OpenAPI tool getInvoice — request building,
//     context headers (traceparent, actor, request id, purpose), the credential port, the
//     egress guard (host list, address check, pinned connect, peer re-check, redirect
//     handling), the streaming size limit, and the field allow-list on the JSON answer.
// Calls alternate (a), (b), (a), (b)… so load drift on a shared machine hits both alike;
// added = p50(b) − p50(a) per round, and the median of the per-pair differences is shown too.
// The median over rounds is reported. Target: ≤ 0.5 ms p50 added. Benchmarks report, never assert.
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, fetch as undiciFetch } from 'undici';
import { validateConfig } from '../dist/config/index.js';
import { HttpConnector, type HttpAuth } from '../dist/connectors/http/index.js';
import { createLogger } from '../dist/log/index.js';
import { startInvoicesApi } from './lib/invoices-api.ts';
import { percentile } from './lib/mcp-load.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TARGET_ADDED_P50_MS = 0.5;
const KEY = 'bench-key-0123456789abcdef';

export interface HttpConnectorBenchResult {
  title: string;
  rows: Record<string, string | number>[];
  notes: string[];
}

async function timed(seconds: number, once: () => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const started = performance.now();
    await once();
    samples.push(performance.now() - started);
  }
  return samples.sort((x, y) => x - y);
}

async function alternating(
  seconds: number,
  first: () => Promise<void>,
  second: () => Promise<void>,
): Promise<{ a: number[]; b: number[]; pairs: number[]; cpuA: number; cpuB: number }> {
  const a: number[] = [];
  const b: number[] = [];
  const pairs: number[] = [];
  let cpuA = 0;
  let cpuB = 0;
  const cpu = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const c0 = cpu();
    const t0 = performance.now();
    await first();
    const t1 = performance.now();
    const c1 = cpu();
    await second();
    const t2 = performance.now();
    const c2 = cpu();
    a.push(t1 - t0);
    b.push(t2 - t1);
    pairs.push(t2 - t1 - (t1 - t0));
    cpuA += c1 - c0;
    cpuB += c2 - c1;
  }
  const sort = (list: number[]) => list.sort((x, y) => x - y);
  // CPU time of this process per call (µs): the client side of each path, immune to waiting
  // for a loaded machine's scheduler.
  return { a: sort(a), b: sort(b), pairs: sort(pairs), cpuA: cpuA / a.length, cpuB: cpuB / b.length };
}

export async function runHttpConnectorBench(
  options: { seconds?: number; rounds?: number; log?: (line: string) => void } = {},
): Promise<HttpConnectorBenchResult> {
  const seconds = options.seconds ?? 2.5;
  const rounds = options.rounds ?? 5;
  const api = await startInvoicesApi(KEY);
  const base = `http://127.0.0.1:${api.port}/v1`;
  const agent = new Agent({ connections: 8, keepAliveTimeout: 10_000 });
  // A provider whose credential is already cached: what every call after the first costs.
  const auth: HttpAuth = { type: 'apiKey', secretQueryParams: [], authorize: async () => ({ headers: { 'x-api-key': KEY } }) };
  const config = validateConfig(
    {
      publicUrl: 'http://127.0.0.1:8787',
      dataDir: path.join(ROOT, '.bench'),
      servers: {
        invoices: {
          http: {
            baseUrl: base,
            openapi: path.join(ROOT, 'examples/http/invoices.openapi.yaml'),
            responses: { getInvoice: { fields: ['$.id', '$.customer', '$.amount', '$.status'] } },
          },
          egress: { allowAddresses: ['127.0.0.1/32'] },
        },
      },
      access: [{ allow: { users: ['bench'], servers: ['*'] } }],
    },
    'bench',
    ROOT,
    { env: {} },
  );
  const connector = await HttpConnector.create('invoices', config.servers.invoices as never, {
    log: createLogger({ level: 'silent' }),
    baseDir: ROOT,
    auth,
    globalAllow: [],
    timeoutMs: 10_000,
  });
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
    authTime: undefined,
    amr: [],
    grantId: undefined,
  };
  let n = 0;
  const ctx = () =>
    ({
      requestId: `req-${++n}`,
      rpcId: n,
      principal,
      origin: { sessionId: 's', ip: '127.0.0.1', clientName: 'bench', protocolVersion: '2025-11-25' },
      op: {
        method: 'tools/call',
        action: 'call',
        kind: 'tool',
        server: 'invoices',
        name: 'getInvoice',
        id: 'invoices__getInvoice',
        args: { invoiceId: 'inv-1' },
      },
      params: { name: 'getInvoice', arguments: { invoiceId: 'inv-1' } },
      signal: new AbortController().signal,
      startedAt: Date.now(),
      progress: undefined,
      decision: undefined,
      intentSeq: undefined,
      notes: {},
      control: {},
    }) as never;

  const direct = async () => {
    const response = await undiciFetch(`${base}/invoices/inv-1`, { headers: { 'x-api-key': KEY }, dispatcher: agent });
    if (response.status !== 200) throw new Error(`direct: status ${response.status}`);
    await response.text();
  };
  const viaConnector = async () => {
    const result = (await connector.execute(ctx())) as { isError?: boolean; content: { text: string }[] };
    if (result.isError) throw new Error(`connector: ${result.content[0]?.text}`);
  };

  try {
    // Warm both paths (connections, JIT).
    await timed(0.5, direct);
    await timed(0.5, viaConnector);
    const rows: Record<string, string | number>[] = [];
    const added: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      options.log?.(`http-connector: round ${round}/${rounds}`);
      const { a, b, pairs, cpuA, cpuB } = await alternating(seconds, direct, viaConnector);
      const delta = percentile(b, 0.5) - percentile(a, 0.5);
      added.push(percentile(pairs, 0.5));
      rows.push({
        round,
        'direct p50 ms': Number(percentile(a, 0.5).toFixed(3)),
        'direct p99 ms': Number(percentile(a, 0.99).toFixed(3)),
        'connector p50 ms': Number(percentile(b, 0.5).toFixed(3)),
        'connector p99 ms': Number(percentile(b, 0.99).toFixed(3)),
        'added p50 ms': Number(delta.toFixed(3)),
        'paired diff p50 ms': Number(percentile(pairs, 0.5).toFixed(3)),
        'added CPU ms/call': Number(((cpuB - cpuA) / 1000).toFixed(3)),
        calls: a.length + b.length,
      });
    }
    const median = [...added].sort((x, y) => x - y)[Math.floor(added.length / 2)] as number;
    rows.push({
      round: 'median',
      'paired diff p50 ms': Number(median.toFixed(3)),
      target: `≤ ${TARGET_ADDED_P50_MS} ms p50 added`,
      verdict: median <= TARGET_ADDED_P50_MS ? 'PASS' : 'MISS',
    });
    return {
      title: 'HTTP connector overhead over a direct undici call (cached credential, loopback API)',
      rows,
      notes: [
        "Verdict on the median over rounds of the per-pair difference (connector call − the direct call just before it). added CPU: this process's CPU time per call, connector minus direct.",
        'GET /v1/invoices/inv-1 on the example invoices API (own process). Connector: request building, context headers, credential port, egress guard with pinned connect and peer check, streaming size limit, JSONPath field allow-list.',
        `Load average at the end: ${loadavg()
          .map((x) => x.toFixed(2))
          .join(' ')} (numbers on a busy machine are indicative).`,
      ],
    };
  } finally {
    await connector.stop();
    await agent.close();
    api.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await runHttpConnectorBench({ log: (line) => console.error(line) });
  console.log(result.title);
  console.table(result.rows);
  for (const note of result.notes) console.log(note);
}
