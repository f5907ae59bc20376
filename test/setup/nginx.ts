// vitest globalSetup for the e2e project: Debian's nginx for the cluster tests (nodes behind a
// round-robin balancer). Missing nginx is installed from Debian's packages; if it cannot be,
// the run fails here, loudly — no test is skipped silently.
import { ensureNginx } from '../helpers/nginx.ts';

export default async function setup(): Promise<void> {
  const started = Date.now();
  try {
    await ensureNginx((line) => process.stderr.write(`[nginx] ${line}\n`));
  } catch (error) {
    throw new Error(`The cluster end-to-end tests need nginx and it could not be installed: ${(error as Error).message}`);
  }
  if (Date.now() - started > 1000) process.stderr.write(`[nginx] ready in ${Date.now() - started} ms\n`);
}
