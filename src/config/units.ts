import { z } from 'zod';
import { parseBytes } from '../util/bytes.js';
import { parseDuration } from '../util/duration.js';

/** A unit value (a string with a suffix, or a plain number) read by `parse`; its error message becomes the issue. */
const unitSchema = (parse: (value: string | number) => number) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    try {
      return parse(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

/** A duration (`30s`, `5m`, or milliseconds as a number), in milliseconds. */
export const DurationSchema = unitSchema(parseDuration);

/** A size (`64kb`, `1mb`, or bytes as a number), in bytes. */
export const ByteSizeSchema = unitSchema(parseBytes);
