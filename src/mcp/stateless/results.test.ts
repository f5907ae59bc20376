import { describe, expect, it } from 'vitest';
import { modernResult } from './results.js';

describe('modernResult', () => {
  it('marks results complete and lists private with a TTL: per-user lists are never shared', () => {
    expect(modernResult('tools/list', { tools: [] })).toMatchObject({ resultType: 'complete', cacheScope: 'private', ttlMs: 60_000 });
    expect(modernResult('resources/read', { contents: [] })).toMatchObject({ cacheScope: 'private', ttlMs: 0 });
    const call = modernResult('tools/call', { content: [] });
    expect(call.resultType).toBe('complete');
    expect(call.cacheScope).toBeUndefined();
  });
  it('leaves an input_required result without caching hints', () => {
    const result = modernResult('tools/list', { resultType: 'input_required' });
    expect(result.cacheScope).toBeUndefined();
    expect(result.ttlMs).toBeUndefined();
  });
});
