import { describe, expect, it } from 'vitest';
import { discoverResult } from './discover.js';
import { MODERN_METHODS } from './methods.js';

const LISTEN = MODERN_METHODS.has('subscriptions/listen');

describe('discoverResult', () => {
  const sessionEra = {
    tools: { listChanged: true },
    resources: { subscribe: true, listChanged: true },
    prompts: { listChanged: true },
    completions: {},
    logging: {},
  };

  it('claims only what the stateless revision serves: no logging; list changes and subscriptions only with subscriptions/listen', () => {
    const result = discoverResult(sessionEra, '') as { capabilities: Record<string, unknown>; supportedVersions: string[] };
    expect(result.capabilities).toEqual(
      LISTEN
        ? { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true }, prompts: { listChanged: true }, completions: {} }
        : { tools: {}, resources: {}, prompts: {}, completions: {} },
    );
    expect(result.supportedVersions).toEqual(['2026-07-28']);
    // The session era's capabilities are not changed by it.
    expect(sessionEra.resources).toEqual({ subscribe: true, listChanged: true });
  });

  it('keeps other capability fields and names Gatehouse; instructions only when there are some', () => {
    const result = discoverResult({ tools: { listChanged: true, extra: 1 } }, 'be nice') as Record<string, any>;
    expect(result.capabilities).toEqual({ tools: LISTEN ? { listChanged: true, extra: 1 } : { extra: 1 } });
    expect(result.instructions).toBe('be nice');
    expect(result._meta['io.modelcontextprotocol/serverInfo'].name).toBe('gatehouse');
    expect('instructions' in (discoverResult({}, '') as object)).toBe(false);
  });
});
