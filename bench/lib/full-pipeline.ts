// What "the full pipeline" means in the gateway benches: authentication, Cedar with N policies,
// argument validation, rate limits, the approvals stage (not triggered), the durable audit
// intent, the broker and the output sanitizer with 1,000 held values and every detector on.
// Held values reach the gateway as `${VAR}` references in the upstream's environment: every
// resolved reference is a held credential, exactly as a vault value the gateway resolves.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { policies, POLICY_SCHEMA } from '../policy.ts';

export const FULL_HELD = 1000;

/**
 * Deterministic held values shaped like real credentials (base64 keys, hex tokens, passwords,
 * connection-string secrets), so the gateway and the upstream that embeds a few of them in its
 * results agree without sharing a file.
 */
export function benchHeldValues(n = FULL_HELD): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const bytes = createHash('sha256').update(`gatehouse-bench-held-${i}`).digest();
    const kind = i % 10;
    if (kind < 4) out.push(bytes.toString('base64').slice(0, 32 + (i % 8)));
    else if (kind < 7) out.push(bytes.subarray(0, 16).toString('hex'));
    else if (kind < 9) out.push(`P@ss-${bytes.subarray(0, 9).toString('base64url')}!`);
    else out.push(`db-${bytes.subarray(0, 12).toString('hex')}`);
  }
  return out;
}

/** Environment variables carrying the held values (passed to the gateway process). */
export function heldEnvironment(values: readonly string[]): Record<string, string> {
  return Object.fromEntries(values.map((v, i) => [`BENCH_HELD_${i}`, v]));
}

/** The upstream's `env:` entries that reference them (config YAML lines, indented for `servers.echo`). */
export function heldEnvYaml(count: number, indent: string): string[] {
  const lines = [`${indent}env:`];
  for (let i = 0; i < count; i++) lines.push(`${indent}  BENCH_HELD_${i}: '\${BENCH_HELD_${i}}'`);
  return lines;
}

/** Writes a policy folder with `count` policies (permitting group `eng` on the echo server) and its schema. */
export function writePolicyFolder(dir: string, count: number): string {
  const folder = path.join(dir, 'policies');
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'bench.cedar'), `${policies(count)}\n`);
  writeFileSync(path.join(folder, 'schema.cedarschema'), POLICY_SCHEMA);
  return folder;
}
