// vitest globalSetup for the e2e project: Debian's redis-server for the rate-limit counter
// tests (Redis shared by several nodes). Missing redis-server is installed from Debian's
// packages; if it cannot be, the run fails here, loudly — no test is skipped silently.
import { ensureRedis } from '../helpers/redis-server.ts';

export default async function setup(): Promise<void> {
  const started = Date.now();
  try {
    await ensureRedis((line) => process.stderr.write(`[redis] ${line}\n`));
  } catch (error) {
    throw new Error(`The Redis rate-limit end-to-end tests need redis-server and it could not be installed: ${(error as Error).message}`);
  }
  if (Date.now() - started > 1000) process.stderr.write(`[redis] ready in ${Date.now() - started} ms\n`);
}
