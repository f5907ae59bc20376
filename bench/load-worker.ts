// The load generator, run as its own process so it never shares an event loop (or a CPU
// accounting) with a server under test. Input: one JSON argument. Output: one JSON line.
//
//   {"mode":"load", "target":{…}, "concurrency":16, "durationMs":4000, "warmupMs":1000, "tool":"echo", "args":{…}}
//     → LoadResult
//   {"mode":"sessions", "targets":[{…}, …], "sessions":100, "tool":"echo", "args":{…}}
//     → {"opened","called","errors"}; then holds the sessions open until a line arrives on
//       stdin (or stdin closes), DELETEs them and exits.
import { Pool } from 'undici';
import { McpHttpSession, runLoad, type Target } from './lib/mcp-load.ts';

export interface LoadSpec {
  mode: 'load';
  target: Target;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  tool: string;
  args: Record<string, unknown>;
}

export interface SessionsSpec {
  mode: 'sessions';
  /** Sessions are spread round-robin over these (one per user). */
  targets: Target[];
  sessions: number;
  tool: string;
  args: Record<string, unknown>;
}

export interface SessionsResult {
  opened: number;
  called: number;
  errors: number;
  firstError?: string;
}

async function holdSessions(spec: SessionsSpec): Promise<void> {
  const first = spec.targets[0];
  if (!first) throw new Error('sessions mode needs at least one target');
  const url = new URL(first.url);
  const pool = new Pool(url.origin, { connections: 10, pipelining: 1, keepAliveTimeout: 120_000 });
  const sessions = Array.from({ length: spec.sessions }, (_, i) => new McpHttpSession(pool, spec.targets[i % spec.targets.length] as Target, url.pathname));
  const result: SessionsResult = { opened: 0, called: 0, errors: 0 };
  const note = (error: unknown) => {
    result.errors++;
    result.firstError ??= (error as Error).message;
  };
  // Ten at a time: how a fleet of agents arrives, not one burst.
  for (let i = 0; i < sessions.length; i += 10) {
    await Promise.all(
      sessions.slice(i, i + 10).map(async (session) => {
        try {
          await session.initialize();
          result.opened++;
          await session.call(spec.tool, spec.args);
          result.called++;
        } catch (error) {
          note(error);
        }
      }),
    );
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await new Promise<void>((resolve) => {
    process.stdin.once('data', () => resolve());
    process.stdin.once('end', () => resolve());
  });
  await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
  await pool.close();
}

async function main(): Promise<void> {
  const raw = process.argv[2];
  if (!raw) throw new Error('usage: node bench/load-worker.ts <spec JSON>');
  const spec = JSON.parse(raw) as LoadSpec | SessionsSpec;
  if (spec.mode === 'load') {
    const result = await runLoad(spec.target, spec);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    await holdSessions(spec);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`load-worker: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
