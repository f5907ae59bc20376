/**
 * `${VAR}` references in server values (command, args, env, cwd, url, headers) are resolved
 * from the gateway's environment at the moment of use, never at load: the resolved text
 * exists only where it is consumed and is registered with the log redactor first.
 * `$${` is a literal `${`.
 */
const REFERENCE = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export interface InterpolationContext {
  env: NodeJS.ProcessEnv;
  /** Called with every resolved value so logs and audit can scrub it. */
  onSecret?: (value: string) => void;
}

export class MissingVariableError extends Error {
  readonly variable: string;
  constructor(variable: string) {
    super(`environment variable ${variable} is not set`);
    this.variable = variable;
  }
}

export function referencedVariables(value: string): string[] {
  const names: string[] = [];
  for (const match of value.matchAll(REFERENCE)) if (!match[1]) names.push(match[2] as string);
  return names;
}

export function interpolate(value: string, ctx: InterpolationContext): string {
  if (!value.includes('${')) return value;
  return value.replace(REFERENCE, (_whole, escaped: string | undefined, name: string) => {
    if (escaped) return `\${${name}}`;
    const resolved = ctx.env[name];
    if (resolved === undefined) throw new MissingVariableError(name);
    if (resolved.length > 0) ctx.onSecret?.(resolved);
    return resolved;
  });
}

export function interpolateRecord(record: Record<string, string>, ctx: InterpolationContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record)) out[key] = interpolate(value, ctx);
  return out;
}
