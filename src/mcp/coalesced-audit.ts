import type { AuditBody, AuditKindName, AuditLog } from '../audit/index.js';

/** How long repeated events of one kind from one session share a record. */
export const COALESCE_WINDOW_MS = 5_000;
/** Open windows kept at most; beyond it the oldest is written early (memory stays bounded). */
const MAX_OPEN = 10_000;

export interface CoalescedEvent {
  kind: AuditKindName;
  /** What makes two events "the same": session, method, outcome code. */
  key: readonly (string | undefined)[];
  /** The record body of the first event of a window; the count and time span are added. */
  body: AuditBody;
}

interface Window {
  kind: AuditKindName;
  body: AuditBody;
  count: number;
  firstAt: number;
  lastAt: number;
}

/**
 * Records for events that are cheap to cause and worthless one by one — list requests, and
 * requests refused before they did anything (over a rate limit) — as one record per session,
 * kind, method and outcome per window, carrying `count` and the window's first and last time.
 * A flood of such requests writes O(1) records per window however large it is; a single one
 * is recorded at the end of its window (at most `COALESCE_WINDOW_MS` later) or at shutdown.
 * Calls keep one record each: their write-ahead intent is the contract.
 */
export class CoalescedAudit {
  readonly #open = new Map<string, Window>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly audit: AuditLog,
    private readonly windowMs = COALESCE_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.#timer = setInterval(() => this.#expire(), Math.max(250, Math.floor(windowMs / 2)));
    this.#timer.unref();
  }

  record(event: CoalescedEvent): void {
    const key = JSON.stringify([event.kind, ...event.key]);
    const now = this.now();
    const open = this.#open.get(key);
    if (open && now - open.firstAt < this.windowMs) {
      open.count++;
      open.lastAt = now;
      return;
    }
    if (open) this.#write(key, open);
    if (this.#open.size >= MAX_OPEN) {
      const [oldestKey, oldest] = this.#open.entries().next().value as [string, Window];
      this.#write(oldestKey, oldest);
    }
    this.#open.set(key, { kind: event.kind, body: event.body, count: 1, firstAt: now, lastAt: now });
  }

  #expire(): void {
    const now = this.now();
    for (const [key, window] of this.#open) if (now - window.firstAt >= this.windowMs) this.#write(key, window);
  }

  #write(key: string, window: Window): void {
    this.#open.delete(key);
    void this.audit
      .append(
        window.kind,
        { ...window.body, count: window.count, window: { from: new Date(window.firstAt).toISOString(), to: new Date(window.lastAt).toISOString() } },
        { durable: false },
      )
      .catch(() => undefined);
  }

  /** Writes every open window now (shutdown). */
  flush(): void {
    for (const [key, window] of [...this.#open]) this.#write(key, window);
  }

  close(): void {
    clearInterval(this.#timer);
    this.flush();
  }
}
