// The policy stage: what one Cedar decision costs per tool call, at 3, 100 and 1,000
// policies, for Gatehouse's sliced evaluator against plain Cedar (statefulIsAuthorized on
// the whole pre-parsed set, with every entity and the whole context).
//
//   node bench/policy.ts                 (standalone; needs `make build`)
//   import { runPolicyBench } from './policy.ts'   (bench/run.ts)
//
// Both sides include building the request (entities, context, argument conversion) from the
// same AuthzRequest, so the ratio is the stage as the gateway runs it. Target: p50
// <= 50 µs at 1,000 policies. Benchmarks only report: a missed target is printed, never asserted.
import { fileURLToPath } from 'node:url';
import { CedarAuthorizer, compilePolicySet, type AuthzRequest } from '../dist/policy/index.js';
import { DEFAULT_SCHEMA } from '../dist/policy/cedar/default-schema.js';
import { localPrincipal } from '../dist/tokens/principal.js';

export interface PolicyBenchResult {
  title: string;
  rows: Record<string, string | number>[];
  notes: string[];
}

const TITLE = 'Policy stage: sliced Cedar evaluator vs plain Cedar, per decision';
const SIZES = [3, 100, 1000];
const DEFAULT_ITERATIONS = Number(process.env.BENCH_POLICY_ITERATIONS ?? 10_000);
const TARGET_P50_US = 50;
const TARGET_AT = 1000;

export interface PolicyBenchOptions {
  /** Decisions measured per cell (after a warm-up of up to 5,000). */
  iterations?: number;
}

/** The built-in schema with the arguments the policies below and the bench tools use. */
export const POLICY_SCHEMA = DEFAULT_SCHEMA.replace(
  'type Args = {};',
  'type Args = { limit?: Long, path?: String, text?: String, bytes?: Long, variant?: Long };',
);
const SCHEMA = POLICY_SCHEMA;

/**
 * A policy set shaped like a real deployment: a few broad rules, then many team-, server-
 * and tool-specific ones, a third of them with conditions (time windows, argument caps,
 * MFA), a few forbids.
 */
export function policies(n: number): string {
  const base = [
    '@id("eng-call-echo") permit(principal in Group::"eng", action == Action::"call", resource in Server::"echo");',
    '@id("export-cap") forbid(principal, action == Action::"call", resource is Tool) when { resource.name like "export*" } unless { context.args has limit && context.args.limit <= 1000 };',
    '@id("read-only") permit(principal in Group::"eng", action == Action::"call", resource is Tool) when { resource.readOnly };',
  ];
  const out = base.slice(0, Math.min(3, n));
  for (let i = out.length; i < n; i++) {
    const server = `srv${i % 40}`;
    switch (i % 6) {
      case 0:
        out.push(`permit(principal in Group::"team${i % 97}", action == Action::"call", resource in Server::"${server}");`);
        break;
      case 1:
        out.push(
          `permit(principal in Group::"team${i % 97}", action == Action::"call", resource == Tool::"${server}__tool${i}") when { context.time.hour >= 7 && context.time.hour < 20 };`,
        );
        break;
      case 2:
        out.push(
          `forbid(principal, action == Action::"call", resource == Tool::"${server}__tool${i}") when { context.args has limit && context.args.limit > ${i * 10} };`,
        );
        break;
      case 3:
        out.push(`permit(principal == User::"user${i}", action in [Action::"call", Action::"read"], resource in Server::"${server}");`);
        break;
      case 4:
        out.push(
          `@approval("four-eyes") permit(principal in Group::"ops${i % 13}", action == Action::"call", resource is Tool in Server::"${server}") when { resource.destructive };`,
        );
        break;
      default:
        out.push(
          `forbid(principal in Group::"contractors${i % 7}", action, resource in Server::"${server}") unless { context.mfa has ageSeconds && context.mfa.ageSeconds < 900 };`,
        );
    }
  }
  return out.join('\n');
}

function request(): AuthzRequest {
  const now = Date.now();
  return {
    principal: localPrincipal({
      sub: 'alice',
      groups: ['eng', 'team7', 'team19', 'everyone'],
      clientId: 'claude-code',
      jti: 'bench',
      issuedAt: now,
      expiresAt: now + 300_000,
      claims: { sub: 'alice', email: 'alice@example.com', amr: ['pwd', 'otp'], auth_time: Math.floor(now / 1000) - 60 },
    }),
    action: 'call',
    server: 'echo',
    kind: 'tool',
    id: 'echo__export_rows',
    args: { limit: 500, path: '/srv/public/report.csv', format: 'csv', columns: ['id', 'name', 'total'] },
    annotations: { readOnlyHint: true },
    facts: { method: 'tools/call', ip: '10.1.2.3', now, clientName: 'Claude Code' },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function measure(fn: () => unknown, iterations: number): { p50: number; p99: number } {
  for (let i = 0; i < Math.min(5000, iterations); i++) fn();
  const samples = new Array<number>(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    fn();
    samples[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

const us = (n: number) => Number(n.toFixed(1));

export async function runPolicyBench(options: PolicyBenchOptions = {}): Promise<PolicyBenchResult> {
  const ITERATIONS = Math.max(100, Math.round(options.iterations ?? DEFAULT_ITERATIONS));
  const WARMUP = Math.min(5000, ITERATIONS);
  const rows: Record<string, string | number>[] = [];
  const notes: string[] = [];
  for (const n of SIZES) {
    const set = compilePolicySet({ files: [{ name: 'bench.cedar', text: policies(n) }], schema: { name: 'bench.cedarschema', text: SCHEMA } });
    const authorizer = new CedarAuthorizer(set, { timeZone: 'UTC', destructiveTools: 'four-eyes' });
    const req = request();
    const sliced = authorizer.decide(req);
    const plainResult = set.plain.evaluate(authorizer.evalRequestFor(req));
    if ((sliced.effect === 'deny') !== (plainResult.decision === 'deny')) throw new Error(`evaluators disagree at ${n} policies`);
    // Fresh args each time, as each call brings its own: no conversion cache hits, and values
    // never seen before, so no remembered decision either (the slice reads `context.args`).
    let fresh = 0;
    const slicedTimes = measure(() => authorizer.decide({ ...req, args: { ...req.args, path: `/srv/public/report-${fresh++}.csv` } }), ITERATIONS);
    // The same arguments again (a fresh object with equal values): Cedar's answer is remembered.
    const repeatTimes = measure(() => authorizer.decide({ ...req, args: { ...req.args } }), ITERATIONS);
    const plainTimes = measure(() => set.plain.evaluate(authorizer.evalRequestFor({ ...req, args: { ...req.args } })), ITERATIONS);
    const applicable = set.sliced.applicable(authorizer.evalRequestFor(req));
    // tools/list asks once per tool: could this user call it with some arguments?
    const listReq: AuthzRequest = { ...req, action: 'list', args: undefined };
    const listSliced = measure(() => authorizer.decide(listReq), ITERATIONS);
    // Plain partial evaluation re-parses the whole set on every call: fewer samples.
    const listPlain = measure(
      () => set.plain.evaluatePartial(authorizer.evalRequestFor(listReq)),
      Math.max(50, Math.floor(ITERATIONS / (n >= 1000 ? 200 : 20))),
    );
    rows.push({
      policies: n,
      'in slice': applicable.length,
      'sliced p50 µs': us(slicedTimes.p50),
      'sliced p99 µs': us(slicedTimes.p99),
      'plain p50 µs': us(plainTimes.p50),
      'plain p99 µs': us(plainTimes.p99),
      'plain/sliced p50': Number((plainTimes.p50 / slicedTimes.p50).toFixed(1)),
      'repeat p50 µs': us(repeatTimes.p50),
      decision: sliced.effect,
      'list item p50 µs': us(listSliced.p50),
      'list plain-partial p50 µs': us(listPlain.p50),
      target: n === TARGET_AT ? `sliced p50 ≤ ${TARGET_P50_US} µs` : '',
      verdict: n === TARGET_AT ? (slicedTimes.p50 <= TARGET_P50_US ? 'PASS' : 'MISS') : '',
    });
  }
  notes.push(
    `Target: the policy stage's p50 ≤ ${TARGET_P50_US} µs at ${TARGET_AT.toLocaleString('en-US')} policies (sliced evaluator; plain Cedar is the baseline measured in the same run).`,
  );
  notes.push(`${ITERATIONS} decisions per cell after ${WARMUP} warm-up; both sides build the request from the same AuthzRequest.`);
  notes.push(
    'sliced: arguments never seen before on every call (Cedar evaluates); repeat: equal arguments again, answered from the decisions remembered per slice and exact Cedar input.',
  );
  notes.push('list item: the visibility check tools/list makes per tool (arguments unknown); plain-partial is Cedar partial evaluation over the whole set.');
  return { title: TITLE, rows, notes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await runPolicyBench();
  console.log(result.title);
  console.table(result.rows);
  for (const note of result.notes) console.log(note);
}
