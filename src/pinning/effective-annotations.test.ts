import { describe, expect, it } from 'vitest';
import { describeEffect, effectiveAnnotations, trustedAnnotations } from './effective-annotations.js';

describe('effectiveAnnotations (upstream annotations are claims)', () => {
  it('ignores claims that would loosen: read-only and idempotent count only when config says so', () => {
    expect(effectiveAnnotations({ readOnlyHint: true, idempotentHint: true, destructiveHint: false, openWorldHint: false }, undefined)).toBeUndefined();
    expect(effectiveAnnotations({ readOnlyHint: false, idempotentHint: false }, undefined)).toEqual({ readOnlyHint: false, idempotentHint: false });
    expect(describeEffect(effectiveAnnotations({ readOnlyHint: true }, undefined))).toBe('unspecified');
  });

  it('keeps claims that restrict: destructive and open-world', () => {
    expect(effectiveAnnotations({ destructiveHint: true, openWorldHint: true, readOnlyHint: true }, undefined)).toEqual({
      destructiveHint: true,
      openWorldHint: true,
    });
  });

  it('lets config decide in both directions wherever it is set', () => {
    expect(effectiveAnnotations({ readOnlyHint: true, destructiveHint: false }, { destructiveHint: true })).toEqual({ destructiveHint: true });
    expect(effectiveAnnotations({ destructiveHint: true }, { destructiveHint: false, readOnlyHint: true })).toEqual({
      destructiveHint: false,
      readOnlyHint: true,
    });
    expect(describeEffect(effectiveAnnotations({ readOnlyHint: true }, { destructiveHint: true }))).toBe('destructive');
  });

  it('keeps the display title and returns undefined when nothing is left', () => {
    expect(effectiveAnnotations({ title: 'Weather' }, undefined)).toEqual({ title: 'Weather' });
    expect(effectiveAnnotations(undefined, undefined)).toBeUndefined();
  });

  it('trusts annotations Gatehouse derived itself, config overriding', () => {
    expect(trustedAnnotations({ readOnlyHint: true }, undefined)).toEqual({ readOnlyHint: true });
    expect(trustedAnnotations({ readOnlyHint: true }, { destructiveHint: true })).toEqual({ readOnlyHint: true, destructiveHint: true });
  });
});
