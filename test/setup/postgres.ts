// vitest globalSetup for the e2e project: one throwaway PostgreSQL cluster for the whole run.
// Missing PostgreSQL is installed from Debian's packages; if it still cannot start, the run
// fails here, loudly, with the reason — no test is skipped silently.
import type { TestProject } from 'vitest/node';
import { startPostgresCluster, type PostgresConnectionInfo } from '../helpers/postgres-cluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: PostgresConnectionInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  let cluster;
  try {
    cluster = await startPostgresCluster({ install: true, log: (line) => process.stderr.write(`[postgres] ${line}\n`) });
  } catch (error) {
    throw new Error(`The end-to-end tests need a real PostgreSQL and none could be started: ${(error as Error).message}`);
  }
  process.stderr.write(`[postgres] ready in ${Date.now() - started} ms\n`);
  project.provide('postgres', { host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password });
  return () => cluster.stop();
}
