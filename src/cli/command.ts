import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, UsageError } from '../errors/index.js';
import { defaultConfig, loadConfigFile, type LoadedConfig } from '../config/index.js';

export const ExitCode = { Ok: 0, Failed: 1, Usage: 2 } as const;

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  config: { type: 'string', short: 'c' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies OptionSpec;

export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

export interface CommandContext<V> {
  values: V & { config?: string; 'data-dir'?: string; json: boolean; help: boolean };
  positionals: string[];
  io: CommandIo;
  /** The configuration: from --config, or defaults (with --data-dir applied either way). */
  config(options?: { checkVariables?: boolean }): LoadedConfig;
  out(text: string): void;
  err(text: string): void;
  /** Prints `data` as JSON with --json, else `text`. */
  print(data: unknown, text: string): void;
}

/** What a command is called, says about itself, and accepts: one entry of COMMAND_SPECS. */
export interface CommandSpec<O extends OptionSpec = OptionSpec> {
  /** Words that select the command, e.g. `token issue`. */
  name: string;
  summary: string;
  usage: string;
  /** Options beyond COMMON_OPTIONS, if any. */
  options?: O;
  /** Positional arguments accepted: [min, max]. */
  positionals?: [number, number];
}

export interface Command<O extends OptionSpec = OptionSpec> extends CommandSpec<O> {
  run(ctx: CommandContext<ParsedValues<O>>): Promise<number>;
}

type ParsedValues<O extends OptionSpec> = {
  [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { multiple: true } ? string[] : string;
};

// biome-ignore lint/complexity/noBannedTypes: `{}` is "no options of its own", the default when a command declares none.
export function commandSpec<O extends OptionSpec = {}>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

/** A command: its entry in COMMAND_SPECS and the function that runs it. */
export function defineCommand<O extends OptionSpec>(spec: CommandSpec<O>, run: Command<O>['run']): Command<O> {
  return { ...spec, run };
}

/** Runs one command with argv (after the command words). Usage problems exit 2. */
export async function runCommand(command: Command, argv: string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr.write(`gatehouse ${command.name}: ${(error as Error).message}\nusage: gatehouse ${command.usage}\n`);
    return ExitCode.Usage;
  }
  const values = parsed.values as CommandContext<Record<string, unknown>>['values'];
  if (values.help) {
    io.stdout.write(`gatehouse ${command.usage}\n\n${command.summary}\n`);
    return ExitCode.Ok;
  }
  const [min, max] = command.positionals ?? [0, 0];
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    io.stderr.write(
      `gatehouse ${command.name}: expected ${min === max ? min : `${min}-${max}`} argument(s), got ${parsed.positionals.length}\nusage: gatehouse ${command.usage}\n`,
    );
    return ExitCode.Usage;
  }
  let cachedConfig: LoadedConfig | undefined;
  const ctx: CommandContext<Record<string, unknown>> = {
    values,
    positionals: parsed.positionals,
    io,
    config(options = {}) {
      const load = { dataDir: values['data-dir'], env: io.env, ...options };
      cachedConfig ??= values.config ? loadConfigFile(values.config, load) : defaultConfig(load);
      return cachedConfig;
    },
    out: (text) => io.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => io.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    print(data, text) {
      if (values.json) io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      else this.out(text);
    },
  };
  try {
    return await command.run(ctx as never);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`gatehouse ${command.name}: ${error.message}\nusage: gatehouse ${command.usage}\n`);
      return ExitCode.Usage;
    }
    if (error instanceof ConfigError) {
      if (values.json) io.stdout.write(`${JSON.stringify({ ok: false, code: error.code, issues: error.issues }, null, 2)}\n`);
      else io.stderr.write(`gatehouse: ${error.message}\n`);
      return ExitCode.Failed;
    }
    throw error;
  }
}

/** Reads all of stdin (secrets come from here, never from argv). */
export async function readStdin(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
