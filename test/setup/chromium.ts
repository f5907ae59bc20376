// vitest globalSetup for the e2e project: Debian's Chromium for the console's browser test
// (playwright-core drives it). Missing Chromium is installed from Debian's packages; if it
// cannot be, the run fails here, loudly, with the reason — no test is skipped silently.
import type { TestProject } from 'vitest/node';
import { ensureChromium } from '../helpers/chromium.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    chromium: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  let executable: string;
  try {
    executable = await ensureChromium({ install: true, log: (line) => process.stderr.write(`[chromium] ${line}\n`) });
  } catch (error) {
    throw new Error(`The end-to-end tests need Chromium for the console's browser test and it could not be installed: ${(error as Error).message}`);
  }
  if (Date.now() - started > 1000) process.stderr.write(`[chromium] installed in ${Date.now() - started} ms\n`);
  project.provide('chromium', executable);
}
