/** The label value every value past the cap is counted under. */
export const OTHER_LABEL = '_other';

/**
 * Label values with a cap on how many distinct ones are ever used. Each value becomes its own
 * time series in every scrape for as long as the process lives, so a source that can name
 * without limit (an upstream advertising ever new tool names) must not reach a label as is:
 * the first `max` values keep their names, the rest share `_other`.
 */
export class BoundedLabels {
  readonly #seen = new Set<string>();

  constructor(private readonly max: number) {}

  label(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.max) return OTHER_LABEL;
    this.#seen.add(value);
    return value;
  }

  get size(): number {
    return this.#seen.size;
  }
}
