import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

/**
 * Console output for the demo. `styleText` validates the stream, so colour appears only when
 * stdout is a terminal (and honours NO_COLOR / FORCE_COLOR).
 */
export class Ui {
  readonly #out: NodeJS.WriteStream;
  readonly #err: NodeJS.WriteStream;
  /** Everything printed so far, so a step can check what the demo itself showed (no token, say). */
  readonly #printed: string[] = [];

  constructor(out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr) {
    this.#out = out;
    this.#err = err;
  }

  style(format: Style, text: string): string {
    return styleText(format, text, { stream: this.#out });
  }

  line(text = ''): void {
    this.#printed.push(text);
    this.#out.write(`${text}\n`);
  }

  /** The demo's output so far (stdout). */
  printed(): string {
    return this.#printed.join('\n');
  }

  banner(title: string, lines: string[]): void {
    this.line(this.style('bold', title));
    for (const l of lines) this.line(this.style('dim', l));
  }

  /** An unnumbered set-up phase. */
  phase(text: string): void {
    this.line(`${this.style('cyan', '▸')} ${text}`);
  }

  /** A numbered demo step. */
  step(n: number, title: string): void {
    this.line();
    this.line(this.style('bold', `${n}. ${title}`));
  }

  /** Plain detail under a step or phase. */
  say(text: string): void {
    for (const l of text.split('\n')) this.line(`   ${l}`);
  }

  /** A command the demo runs, shown the way a user would type it. */
  cmd(text: string): void {
    this.line(`   ${this.style('dim', '$')} ${this.style('cyan', text)}`);
  }

  /** Output of a command or a response, indented and dimmed. */
  output(text: string): void {
    for (const l of text.replace(/\n+$/, '').split('\n')) this.line(`     ${this.style('dim', l)}`);
  }

  /** An agent request and what came back. */
  request(text: string): void {
    this.line(`   ${this.style('blue', '→')} ${text}`);
  }

  ok(text: string): void {
    this.line(`   ${this.style('green', '✓')} ${text}`);
  }

  /** An expected refusal (denied call, 401): the security outcome the step demonstrates. */
  refused(text: string): void {
    this.line(`   ${this.style('yellow', '✗')} ${text}`);
  }

  fail(text: string): void {
    this.#err.write(`\n${styleText(['bold', 'red'], '✗ demo failed:', { stream: this.#err })} ${text}\n`);
  }

  /** Diagnostics after a failure (stderr). */
  note(text: string): void {
    this.#err.write(`${styleText('dim', text, { stream: this.#err })}\n`);
  }

  /** Progress outside the steps, e.g. shutting down (stdout, dimmed). */
  status(text: string): void {
    this.line(this.style('dim', text));
  }
}

/** Cuts a value to one readable line (JSON is shown compact). */
export function oneLine(text: string, max = 110): string {
  let flat = text;
  try {
    flat = JSON.stringify(JSON.parse(text));
  } catch {
    flat = text.replace(/\s*\n\s*/g, ' ⏎ ').trim();
  }
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
