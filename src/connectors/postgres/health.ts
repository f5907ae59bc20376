/**
 * Whether the connector can serve calls, and why not. Shared by the connector (start, status)
 * and its credential issuer (a mint that works proves readiness; a failing sweep or lease
 * disproves it), so both report one truth.
 */
export class ConnectorHealth {
  ready = false;
  lastError: string | undefined;

  ok(): void {
    this.ready = true;
    this.lastError = undefined;
  }

  failed(error: unknown): string {
    this.ready = false;
    this.lastError = (error as Error).message;
    return this.lastError;
  }
}
