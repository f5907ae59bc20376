import type { Isolation, McpServerConfig } from '../../config/index.js';
import { UpstreamInstance, type UpstreamEnvironment, type UpstreamHooks } from './upstream-instance.js';

/** Who is asking for an instance; the isolation mode picks which field keys it. */
export interface InstanceOwner {
  sub: string;
  sessionId: string;
}

/**
 * The instances of one configured server. `shared` servers have exactly one, started with the
 * gateway; `per-user` and `per-session` servers get one per user or session, started on first
 * use and stopped when their last session ends.
 */
export class UpstreamPool {
  readonly instances = new Map<string, UpstreamInstance>();

  constructor(
    readonly server: string,
    readonly config: McpServerConfig,
    private readonly env: UpstreamEnvironment,
    private readonly hooks: UpstreamHooks,
  ) {}

  get isolation(): Isolation {
    return this.config.isolation;
  }

  keyFor(owner: InstanceOwner): string {
    switch (this.config.isolation) {
      case 'shared':
        return '*';
      case 'per-user':
        return `user:${owner.sub}`;
      case 'per-session':
        return `session:${owner.sessionId}`;
    }
  }

  /** The instance for `owner`, created (not yet started) if needed. */
  instanceFor(owner: InstanceOwner): UpstreamInstance {
    const key = this.keyFor(owner);
    let instance = this.instances.get(key);
    if (!instance || instance.state === 'stopped') {
      instance = new UpstreamInstance(this.server, key, this.config, this.env, this.hooks);
      this.instances.set(key, instance);
    }
    return instance;
  }

  /** Starts the shared instance, if this pool has one. */
  async startShared(): Promise<void> {
    if (this.config.isolation !== 'shared') return;
    await this.instanceFor({ sub: '', sessionId: '' }).start();
  }

  /** A session ended: detach it, and stop per-user/per-session instances nobody uses any more. */
  async release(owner: InstanceOwner, sessionStillOpenForUser: boolean): Promise<void> {
    const key = this.keyFor(owner);
    const instance = this.instances.get(key);
    if (!instance) return;
    instance.sessions.delete(owner.sessionId);
    instance.inflight.delete(owner.sessionId);
    const unused = this.config.isolation === 'per-session' || (this.config.isolation === 'per-user' && !sessionStillOpenForUser);
    if (unused && instance.sessions.size === 0) {
      this.instances.delete(key);
      await instance.stop();
    }
  }

  /** True when every instance that should be running is ready. */
  get ready(): boolean {
    if (this.config.isolation !== 'shared') return true;
    return this.instances.get('*')?.state === 'ready';
  }

  async stop(): Promise<void> {
    await Promise.all([...this.instances.values()].map((i) => i.stop()));
    this.instances.clear();
  }
}
