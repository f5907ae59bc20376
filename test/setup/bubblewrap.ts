// vitest globalSetup for the e2e project: Debian's bubblewrap for the upstream sandbox tests,
// and the unprivileged user they run the gateway as. Missing bubblewrap is installed from
// Debian's packages; if it cannot be, the run fails here, loudly — no test is skipped silently.
import type { TestProject } from 'vitest/node';
import { ensureBubblewrap, ensureTestUser, type TestUser } from '../helpers/bubblewrap.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    bubblewrap: string;
    sandboxUser: TestUser;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  let bwrap: string;
  let user: TestUser;
  try {
    bwrap = await ensureBubblewrap({ install: true, log: (line) => process.stderr.write(`[bubblewrap] ${line}\n`) });
    user = await ensureTestUser();
  } catch (error) {
    throw new Error(`The end-to-end tests need bubblewrap and an unprivileged user for the sandbox tests: ${(error as Error).message}`);
  }
  if (Date.now() - started > 1000) process.stderr.write(`[bubblewrap] ready in ${Date.now() - started} ms\n`);
  project.provide('bubblewrap', bwrap);
  project.provide('sandboxUser', user);
}
