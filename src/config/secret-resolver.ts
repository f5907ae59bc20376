import { ConfigError } from '../errors/index.js';
import { secrets } from '../log/index.js';
import { interpolate, MissingVariableError } from './interpolate.js';

/** Resolves `${VAR}` in a configured value; every resolved secret is redacted from logs from then on. */
export function secretResolver(env: NodeJS.ProcessEnv): (value: string, where: string) => string {
  return (value, where) => {
    try {
      return interpolate(value, { env, onSecret: (s) => secrets.register(s) });
    } catch (error) {
      if (error instanceof MissingVariableError) throw new ConfigError(`${where}: ${error.message}`, [{ path: where, message: error.message }]);
      throw error;
    }
  };
}
