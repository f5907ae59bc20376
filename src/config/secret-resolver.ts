import { ConfigError } from '../errors/index.js';
import { registerCredential } from '../log/index.js';
import { interpolate, MissingVariableError } from './interpolate.js';

/** Resolves `${VAR}` in a configured value; every resolved secret is a held credential from then on (logs, audit, output). */
export function secretResolver(env: NodeJS.ProcessEnv): (value: string, where: string) => string {
  return (value, where) => {
    try {
      return interpolate(value, { env, onSecret: (s) => registerCredential(s) });
    } catch (error) {
      if (error instanceof MissingVariableError) throw new ConfigError(`${where}: ${error.message}`, [{ path: where, message: error.message }]);
      throw error;
    }
  };
}
