import path from 'node:path';
import type { GatewayProcess } from './gateway-process.ts';
import type { CliResult } from './cli.ts';
import type { Ui } from './ui.ts';
import type { SignedInClient } from './agent.ts';

/** A demo identity: the subject and groups a token is issued for. */
export interface DemoUser {
  sub: string;
  groups: string[];
  /** Local accounts only (made with `gatehouse users add`); a demo password, never a real one. */
  password?: string;
}

export interface DemoPaths {
  /** The repository root (where `make demo` runs). */
  root: string;
  /** `.demo/`: everything the demo writes; wiped at the start of every run. */
  demoDir: string;
  dataDir: string;
  filesDir: string;
  memoryFile: string;
  /** `.demo/policies/`: the Cedar policies in force (copied from demo/policies/; edit them live). */
  policiesDir: string;
  /** The vault's master key file: outside the data dir, as Gatehouse requires. */
  masterKeyFile: string;
  configPath: string;
  logPath: string;
  /** The built CLI (`gatehouse` = `node dist/cli/main.js`). */
  cli: string;
}

/** What every step sees. Steps share state (tokens) through it, nothing else. */
export interface DemoContext {
  paths: DemoPaths;
  ui: Ui;
  port: number;
  publicUrl: string;
  mcpUrl: string;
  users: {
    /** A local account in group eng: signs in through OAuth and works through her agent. */
    alice: DemoUser;
    /** A local account, the approver for the files server (four-eyes). */
    carol: DemoUser;
    /** A service agent (group reporting): no account, an operator-minted token. */
    reportBot: DemoUser;
    /** In group eng like alice, with an operator-minted token; never connects an Items Cloud account. */
    bob: DemoUser;
  };
  /** Access tokens by subject, issued by the steps that need them. */
  tokens: Map<string, string>;
  /** alice's signed-in MCP client (OAuth), set by the sign-in step; later steps reuse it. */
  signedIn: SignedInClient | undefined;
  /** Set once the gateway is started. */
  gateway: GatewayProcess | undefined;
  /** Runs the gatehouse CLI; fails the demo on an unexpected exit code. */
  gatehouse(args: string[], options?: { expectExit?: number; stdin?: string }): Promise<CliResult>;
  /** Shows a gatehouse command the way a user types it (paths relative), then runs it. */
  show(args: string[], options?: { expectExit?: number; stdin?: string; stdinNote?: string }): Promise<CliResult>;
  /** A path relative to the repository root, for display. */
  rel(file: string): string;
}

/** One numbered (or set-up) step of the demo. Later issues add theirs to the lists in steps/index.ts. */
export interface DemoStep {
  title: string;
  run(ctx: DemoContext): Promise<void>;
}

/** A step failed: `message` says what, `hint` what to look at. */
export class DemoError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'DemoError';
    this.hint = hint;
  }
}

/** Fails the step with `message` unless `condition` holds. */
export function check(condition: unknown, message: string, hint?: string): asserts condition {
  if (!condition) throw new DemoError(message, hint);
}

/** The demo's paths; everything it writes goes under `demoDir` (default `<root>/.demo`). */
export function demoPaths(root: string, demoDir = path.join(root, '.demo')): DemoPaths {
  return {
    root,
    demoDir,
    dataDir: path.join(demoDir, 'data'),
    filesDir: path.join(demoDir, 'files'),
    // A folder of its own: the memory server's sandbox is granted exactly this folder.
    memoryFile: path.join(demoDir, 'memory', 'memory.jsonl'),
    policiesDir: path.join(demoDir, 'policies'),
    masterKeyFile: path.join(demoDir, 'keys', 'master.key'),
    configPath: path.join(demoDir, 'gatehouse.yaml'),
    logPath: path.join(demoDir, 'gatehouse.log'),
    cli: path.join(root, 'dist', 'cli', 'main.js'),
  };
}
