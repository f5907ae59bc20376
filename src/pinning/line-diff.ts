/** Lines compared at most per side; longer inputs are shown whole, removed then added. */
const MAX_LINES = 1_500;

/**
 * A unified-style line diff (`  ` same, `- ` removed, `+ ` added) from the longest common
 * subsequence. Quadratic in lines, so bounded: definitions are a few hundred lines.
 */
export function lineDiff(before: readonly string[], after: readonly string[]): string[] {
  if (before.length > MAX_LINES || after.length > MAX_LINES) return [...before.map((l) => `- ${l}`), ...after.map((l) => `+ ${l}`)];
  const n = before.length;
  const m = after.length;
  // lcs[i][j]: length of the LCS of before[i..] and after[j..], one flat array.
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] =
        before[i] === after[j]
          ? (lcs[(i + 1) * (m + 1) + j + 1] as number) + 1
          : Math.max(lcs[(i + 1) * (m + 1) + j] as number, lcs[i * (m + 1) + j + 1] as number);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (before[i] === after[j]) {
      out.push(`  ${before[i]}`);
      i++;
      j++;
    } else if ((lcs[(i + 1) * (m + 1) + j] as number) >= (lcs[i * (m + 1) + j + 1] as number)) out.push(`- ${before[i++]}`);
    else out.push(`+ ${after[j++]}`);
  }
  while (i < n) out.push(`- ${before[i++]}`);
  while (j < m) out.push(`+ ${after[j++]}`);
  return out;
}
