import type { Connector } from '../connectors/index.js';
import type { Executor } from '../pipeline/index.js';

/**
 * Which executor runs a call: the '*' pseudo-server answers list requests from the catalog;
 * every other server is its connector, wrapped by `wrap` (e.g. provenance marking of results
 * from untrusted servers). An unknown server is a wiring fault, not a client error: the router
 * resolves names against the same connectors before any call gets here.
 */
export function executorFor(
  connectors: ReadonlyMap<string, Connector>,
  lists: Executor,
  wrap: (server: string, executor: Executor) => Executor = (_server, executor) => executor,
): (server: string) => Executor {
  return (server) => {
    if (server === '*') return lists;
    const connector = connectors.get(server);
    if (!connector) throw new Error(`no connector for server "${server}"`);
    return wrap(server, connector);
  };
}
