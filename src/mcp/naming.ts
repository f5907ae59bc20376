export const SEPARATOR = '__';

export interface NamedServer {
  name: string;
  prefix: string;
}

/**
 * How upstream tool and prompt names appear to the agent. With several servers each name gets
 * its server's prefix (`fs__read_file`); with one server names stay as they are (mode `auto`).
 * Policy and audit always use the qualified `server__name`, whatever the agent sees.
 */
export class Naming {
  readonly prefixed: boolean;
  #byPrefix = new Map<string, string>();
  #prefixOf = new Map<string, string>();
  readonly #only: string | undefined;

  constructor(servers: readonly NamedServer[], mode: 'auto' | 'always' | 'never') {
    this.prefixed = mode === 'always' || (mode === 'auto' && servers.length > 1);
    for (const s of servers) {
      this.#byPrefix.set(s.prefix, s.name);
      this.#prefixOf.set(s.name, s.prefix);
    }
    this.#only = servers.length === 1 ? servers[0]?.name : undefined;
  }

  /** The name the agent sees. */
  expose(server: string, name: string): string {
    return this.prefixed ? `${this.#prefixOf.get(server) ?? server}${SEPARATOR}${name}` : name;
  }

  /**
   * The server and upstream name behind an exposed name, when the name alone decides it.
   * Unprefixed names with several servers (mode `never`) need a catalog lookup instead.
   */
  parse(exposed: string): { server: string; name: string } | undefined {
    if (this.prefixed) {
      const at = exposed.indexOf(SEPARATOR);
      if (at <= 0) return undefined;
      const server = this.#byPrefix.get(exposed.slice(0, at));
      const name = exposed.slice(at + SEPARATOR.length);
      return server && name ? { server, name } : undefined;
    }
    return this.#only ? { server: this.#only, name: exposed } : undefined;
  }
}

/** The id policy and audit use: always `server__name`. */
export function qualify(server: string, name: string): string {
  return `${server}${SEPARATOR}${name}`;
}
