/** One connector's part of the readiness report. */
export interface UpstreamReadiness {
  ready: boolean;
  detail: Record<string, unknown>;
}

export interface ReadinessDeps<P> {
  /** Throws when storage cannot be written. */
  probeStorage(): Promise<void>;
  auditHealthy(): boolean;
  upstreams(): Iterable<{ name: string; status(): UpstreamReadiness }>;
  /** What is in force: a refused policy reload does not make the node unready (the previous policies still are). */
  policies(): P;
  /** Extra facts reported as they are (process hardening, for one); they do not decide readiness. */
  extra?(): Record<string, unknown>;
}

export interface Readiness<P> {
  [key: string]: unknown;
  ready: boolean;
  storage: boolean;
  audit: boolean;
  upstreams: Record<string, UpstreamReadiness>;
  policies: P;
}

/** `/readyz`: ready when storage takes writes, the audit log is healthy and every upstream is ready. */
export function readinessCheck<P>(deps: ReadinessDeps<P>): () => Promise<Readiness<P>> {
  return async () => {
    let storageOk = true;
    try {
      await deps.probeStorage();
    } catch {
      storageOk = false;
    }
    const upstreams: Record<string, UpstreamReadiness> = {};
    for (const connector of deps.upstreams()) {
      const status = connector.status();
      upstreams[connector.name] = { ready: status.ready, detail: status.detail };
    }
    const audit = deps.auditHealthy();
    return {
      ready: storageOk && audit && Object.values(upstreams).every((u) => u.ready),
      storage: storageOk,
      audit,
      upstreams,
      policies: deps.policies(),
      ...(deps.extra?.() ?? {}),
    };
  };
}
