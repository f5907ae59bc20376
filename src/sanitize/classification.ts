import { z } from 'zod';

/**
 * Data classification, lowest first. A principal's clearance is one of these too: data above
 * the clearance is withheld (a field) or refused (a whole result).
 */
export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'secret'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

/**
 * Config input: the four levels, plus `sensitive`, the earlier name of `confidential`
 * (configs written before the four levels keep working; policies see `confidential`).
 */
export const ClassificationSchema = z
  .enum([...CLASSIFICATIONS, 'sensitive'])
  .transform((c): Classification => (c === 'sensitive' ? 'confidential' : c))
  .describe('public | internal | confidential | secret (sensitive: the former name of confidential)');

export function classificationRank(c: Classification): number {
  return CLASSIFICATIONS.indexOf(c);
}

/** True when data of classification `c` must not reach a principal cleared for `clearance`. */
export function exceeds(c: Classification, clearance: Classification): boolean {
  return classificationRank(c) > classificationRank(clearance);
}

/** The higher of two classifications. */
export function maxClassification(a: Classification, b: Classification): Classification {
  return classificationRank(a) >= classificationRank(b) ? a : b;
}

export function isClassification(value: unknown): value is Classification {
  return typeof value === 'string' && (CLASSIFICATIONS as readonly string[]).includes(value);
}
