import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Cluster, startCluster, statelessToolCall } from '../helpers/cluster.js';
import { ECHO_SERVER, NODE, sleep } from '../helpers/e2e.js';

/** One stateless tools/call through nginx; resolves to the echoed text, or throws with what went wrong. */
async function call(url: string, token: string, text: string): Promise<string> {
  const { status, message } = await statelessToolCall(url, token, 'echo', { text });
  if (status !== 200) throw new Error(`HTTP ${status}`);
  if (!message.result || message.result.isError) throw new Error(`rpc: ${message.error?.message ?? 'tool error'}`);
  return message.result.content?.[0]?.text ?? '';
}

/** Node failure under load: kill -9 of one of three nodes while a bounded load loop runs through nginx. */
describe('kill -9 of a node under load', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster(inject('postgres'), {
      servers: { echo: { command: NODE, args: [ECHO_SERVER] } },
      access: [{ allow: { users: ['loader'], servers: ['echo'] } }],
      rateLimits: { enabled: false },
    });
  }, 120_000);
  afterAll(() => cluster?.stop());

  it('every acknowledged call has its audit records, the chain verifies, and only calls in flight on the dead node fail', async () => {
    const token = await cluster.token('loader');
    const acknowledged: string[] = [];
    let acknowledgedAfterKill = 0;
    const failed: { text: string; error: string; startedAt: number }[] = [];
    const run = `kill-${Date.now()}`;
    let killedAt = Number.POSITIVE_INFINITY;
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop && i < 400; i++) {
        const text = `${run}-w${w}-${i}`;
        const startedAt = Date.now();
        try {
          expect(await call(cluster.mcpUrl, token, text)).toBe(text);
          acknowledged.push(text);
          if (startedAt > killedAt) acknowledgedAfterKill++;
        } catch (error) {
          failed.push({ text, error: (error as Error).message, startedAt });
        }
      }
    };
    const workers = Promise.all([0, 1, 2, 3].map(worker));
    await sleep(2000);
    const victim = cluster.nodes[1]?.process;
    if (!victim) throw new Error('node 2 is not running');
    const killSentAt = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exit;
    // The node is gone once its exit is observed; until then requests may still reach it.
    killedAt = Date.now();
    await sleep(2500);
    stop = true;
    await workers;

    // Every acknowledged call: its intent (written durably before the call ran) and its result
    // (which names the intent by sequence number rather than repeating the arguments).
    const intents = await cluster.sql<{ seq: number; body: string }>(`SELECT seq, body FROM audit_records WHERE kind = 'call.intent' AND body LIKE $1`, [
      `%${run}%`,
    ]);
    const results = await cluster.sql<{ body: string }>(`SELECT body FROM audit_records WHERE kind = 'call.result'`);
    const resultFor = new Set(results.map((r) => Number((JSON.parse(r.body) as { intent?: number }).intent)));
    const withIntent = new Set<string>();
    const withResult = new Set<string>();
    for (const row of intents) {
      const text = (JSON.parse(row.body) as { args?: { text?: string } }).args?.text;
      if (text === undefined) continue;
      withIntent.add(text);
      if (resultFor.has(Number(row.seq))) withResult.add(text);
    }
    const intentMissing = acknowledged.filter((t) => !withIntent.has(t));
    const resultMissing = acknowledged.filter((t) => !withResult.has(t));
    process.stderr.write(
      `[cluster kill -9] acknowledged=${acknowledged.length} failed=${failed.length} ` +
        `acknowledged-after-kill=${acknowledgedAfterKill} acknowledged-with-intent=${acknowledged.length - intentMissing.length} acknowledged-with-result=${acknowledged.length - resultMissing.length} ` +
        `failures=${JSON.stringify(failed.map((f) => `${f.error} started ${f.startedAt - killSentAt} ms after SIGKILL`))} ` +
        `exit observed ${killedAt - killSentAt} ms after SIGKILL\n`,
    );
    // Some load before the kill, and the survivors kept serving after it (the machine is shared,
    // so counts vary: what is asserted is that nothing acknowledged is missing).
    expect(acknowledged.length).toBeGreaterThan(20);
    expect(acknowledgedAfterKill).toBeGreaterThan(0);
    expect(intentMissing).toEqual([]);
    expect(resultMissing).toEqual([]);
    // Clients saw errors only for calls that were in flight when the node died.
    for (const failure of failed) expect(failure.startedAt).toBeLessThanOrEqual(killedAt);
    // At most one call per client loop can be in flight at the kill.
    expect(failed.length).toBeLessThanOrEqual(4);

    const verify = await cluster.cli(['audit', 'verify', '--json']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    // The surviving nodes still serve; the dead one rejoins on restart.
    await cluster.startNode(1);
    expect(await call(cluster.mcpUrl, token, `${run}-after-restart`)).toBe(`${run}-after-restart`);
  });
});
