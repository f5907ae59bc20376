export const SEPARATOR = '__';

export interface NamedServer {
  name: string;
  prefix: string;
}

/**
 * Whether `server__name` can be split back unambiguously with this server name or prefix:
 * non-empty, no `_` at either end, no `__` inside (config enforces the same, naming the key).
 */
export function isQualifier(value: string): boolean {
  return value.length > 0 && !value.startsWith('_') && !value.endsWith('_') && !value.includes(SEPARATOR);
}

/**
 * How upstream tool and prompt names appear to the agent. With several servers each name gets
 * its server's prefix (`fs__read_file`); with one server names stay as they are (mode `auto`).
 * Policy and audit always use the qualified `server__name`, whatever the agent sees.
 *
 * Prefixed names are injective for the same reason `qualify` is (prefixes are unique and obey
 * `isQualifier`). Unprefixed names (mode `never`, or `auto` with one server) are not across
 * servers by construction: a name two servers offer is refused as ambiguous when resolved
 * (CatalogView), never guessed.
 */
export class Naming {
  readonly prefixed: boolean;
  #byPrefix = new Map<string, string>();
  #prefixOf = new Map<string, string>();
  readonly #only: string | undefined;

  constructor(servers: readonly NamedServer[], mode: 'auto' | 'always' | 'never') {
    this.prefixed = mode === 'always' || (mode === 'auto' && servers.length > 1);
    for (const s of servers) {
      if (!isQualifier(s.name) || !isQualifier(s.prefix))
        throw new Error(`server "${s.name}" (prefix "${s.prefix}") cannot be qualified unambiguously: no "_" at either end, no "__" inside`);
      if (this.#byPrefix.has(s.prefix)) throw new Error(`prefix "${s.prefix}" is used by two servers`);
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

/**
 * The id policy and audit use: always `server__name` (Cedar `Tool::"server__name"`, rate-limit
 * and approval targets, `tool:` scopes, audit `target.tool`).
 *
 * Injective over server names that satisfy `isQualifier` and any names: in
 * `q = server + "__" + name` the first occurrence of "__" starts exactly at `server.length`.
 * It cannot start earlier: inside `server` there is no "__", and one starting at the last
 * character of `server` would need that character to be "_", which `isQualifier` excludes. So
 * `server = q.slice(0, q.indexOf("__"))` and `name = q.slice(server.length + 2)` recover the
 * pair: distinct pairs give distinct ids. (`ops_` + `restart` and `ops` + `_restart` both gave
 * `ops___restart`; `ops_` is no longer a server name.)
 */
export function qualify(server: string, name: string): string {
  return `${server}${SEPARATOR}${name}`;
}

/** The inverse of `qualify`: split at the first separator. */
export function unqualify(qualified: string): { server: string; name: string } | undefined {
  const at = qualified.indexOf(SEPARATOR);
  return at > 0 ? { server: qualified.slice(0, at), name: qualified.slice(at + SEPARATOR.length) } : undefined;
}
