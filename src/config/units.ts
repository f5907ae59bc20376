import { z } from 'zod';
import { parseBytes } from '../util/bytes.js';
import { parseDuration } from '../util/duration.js';

/** A duration (`30s`, `5m`, or milliseconds as a number), in milliseconds. */
export const DurationSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** A size (`64kb`, `1mb`, or bytes as a number), in bytes. */
export const ByteSizeSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseBytes(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});
