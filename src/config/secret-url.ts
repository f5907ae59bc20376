/** `${VAR}` only (one reference, nothing around it): the variable holds a whole URL with its password. */
export const WHOLE_VARIABLE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** What a literal URL in the configuration file may be, and what to say when it is not. */
export interface LiteralUrlRules {
  /** Accepted protocols, with the colon (`'redis:'`). */
  protocols: readonly string[];
  notUrl: string;
  wrongScheme: string;
  /** The message for a password written in the file, saying where it belongs instead. */
  password: string;
}

/**
 * A literal connection URL written in the configuration file: parsed, of an accepted scheme,
 * and without a password (the file is read by people and tools that must not learn it).
 */
export function checkLiteralUrl(url: string, rules: LiteralUrlRules): { problem: string } | { parsed: URL } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { problem: rules.notUrl };
  }
  if (!rules.protocols.includes(parsed.protocol)) return { problem: rules.wrongScheme };
  if (parsed.password !== '') return { problem: rules.password };
  return { parsed };
}
