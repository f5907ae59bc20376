import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from '../ratelimit/index.js';
import { SqliteStorage } from '../storage/index.js';
import { MemoryReplayCache } from '../tokens/index.js';
import { PostgresRateLimitStore } from './postgres-rate-limit-store.js';
import { PostgresReplayCache } from './postgres-replay-cache.js';
import { sharedStateFor } from './shared-state.js';

describe('sharedStateFor', () => {
  it('keeps counters and used proofs in memory on embedded SQLite (one gateway process)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-shared-'));
    const storage = SqliteStorage.open(dir);
    try {
      const shared = sharedStateFor(storage);
      expect(shared.rateLimits).toBeInstanceOf(MemoryRateLimitStore);
      expect(shared.dpopReplays).toBeInstanceOf(MemoryReplayCache);
      expect(shared.rateLimits).not.toBeInstanceOf(PostgresRateLimitStore);
      expect(shared.dpopReplays).not.toBeInstanceOf(PostgresReplayCache);
      // The memory cache remembers a proof for the DPoP acceptance window.
      const until = Date.now() + 60_000;
      expect(await shared.dpopReplays.firstUse('k', until)).toBe(true);
      expect(await shared.dpopReplays.firstUse('k', until)).toBe(false);
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
