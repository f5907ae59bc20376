import type { ServerProcess } from './processes.ts';

/** One printed table. Cells are preformatted strings (numbers are right-aligned). */
export interface Table {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  /** Lines printed under the table (method, caveats). */
  notes?: string[];
}

/** A target from the issue, checked against this run's numbers. */
export interface Verdict {
  target: string;
  pass: boolean;
  detail: string;
  /** The module that measured it (set by bench/run.ts). */
  module?: string;
}

export interface BenchReport {
  tables: Table[];
  verdicts: Verdict[];
  /** Raw measurements, written to .bench/results.json. */
  data: unknown;
  /** Set when the module could not measure at all (e.g. no PostgreSQL): why. Its targets are then unverified. */
  skipped?: string;
}

export interface BenchOptions {
  /** Interleaved rounds per cell; the median is reported. */
  rounds: number;
  /** Measured seconds per run, after `warmupSeconds`. */
  seconds: number;
  warmupSeconds: number;
  /** Keep the data dirs under .bench/ (they hold every audit record the run wrote). */
  keep: boolean;
  /** Run the slow modules too (memory under 60 s of load). */
  long: boolean;
}

export interface BenchContext {
  root: string;
  /** `.bench/`: logs, data dirs and results.json. */
  benchDir: string;
  options: BenchOptions;
  /** Progress on stderr, so stdout carries only the tables. */
  progress(text: string): void;
  /** Starts a server process that is stopped when the run ends, whatever happens. */
  track<T extends ServerProcess>(process: T): T;
}

/** A benchmark module: `run` measures and returns its tables. bench/run.ts lists the modules. */
export interface BenchModule {
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<BenchReport>;
}
