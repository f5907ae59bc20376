import { RateLimitedError } from '../errors/index.js';
import { CallLimits, type CallKey } from '../ratelimit/index.js';

/** Call limits that also count every refusal, by the limit that refused (`user.burst`, `tool.daily`, …). */
export class MeteredCallLimits extends CallLimits {
  constructor(
    args: ConstructorParameters<typeof CallLimits>,
    private readonly onRefused: (limit: string) => void,
  ) {
    super(...args);
  }

  override takeRequest(key: Pick<CallKey, 'sub' | 'clientId'>): Promise<void> {
    return super.takeRequest(key).catch((error: unknown) => this.#refused(error));
  }

  override takeTarget(key: Pick<CallKey, 'sub' | 'target'>): Promise<void> {
    return super.takeTarget(key).catch((error: unknown) => this.#refused(error));
  }

  override take(key: CallKey): Promise<void> {
    return super.take(key).catch((error: unknown) => this.#refused(error));
  }

  #refused(error: unknown): never {
    if (error instanceof RateLimitedError) this.onRefused(String(error.data?.limit ?? 'unknown'));
    throw error;
  }
}
