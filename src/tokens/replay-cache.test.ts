import { describe, expect, it } from 'vitest';
import { dpopReplayKey, MemoryReplayCache } from './replay-cache.js';

describe('MemoryReplayCache', () => {
  it('admits a key once until it expires, then again', async () => {
    let now = 1_000_000;
    const cache = new MemoryReplayCache(10, () => now);
    expect(await cache.firstUse('k', now + 100)).toBe(true);
    expect(await cache.firstUse('k', now + 100)).toBe(false);
    now += 50;
    expect(await cache.firstUse('k', now + 100)).toBe(false);
    now += 51;
    expect(await cache.firstUse('k', now + 100)).toBe(true);
  });

  it('prunes expired keys so memory stays bounded by the window', async () => {
    let now = 0;
    const cache = new MemoryReplayCache(10, () => now);
    for (let i = 0; i < 100; i++) await cache.firstUse(`k${i}`, now + 5);
    expect(cache.size).toBe(100);
    now = 20;
    await cache.firstUse('fresh', now + 5);
    expect(cache.size).toBe(1);
  });

  it('scopes a jti to the signing key and hashes it to a fixed size', () => {
    expect(dpopReplayKey('a', 'j')).not.toBe(dpopReplayKey('b', 'j'));
    // Look-alike pairs across the boundary stay apart.
    expect(dpopReplayKey('a', 'b\nc')).not.toBe(dpopReplayKey('a\nb', 'c'));
    expect(dpopReplayKey('a', 'x'.repeat(1_000_000))).toHaveLength(43);
  });
});
