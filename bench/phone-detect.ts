// Phone detection alone, before and after validation moved to precompiled numbering plans,
// in one process (the machine is shared: compare the ratios, not the absolute numbers).
//
//   node bench/phone-detect.ts [seconds]     (needs `make build`)
//
// Documents: the sanitize-engine bench's realistic JSON (records with a `+1 415 555 dddd`
// phone each), the same records with international numbers of many regions, and the same
// records with no phone numbers at all. Each is scanned as its string leaves, calling the
// phone detector at every digit-run start it would be called at (a run of 7+ digits, or one
// followed by a separator). "reference" is the detector as it was (libphonenumber-js for every
// candidate); "new" is production (precompiled plans, libphonenumber-js for what they leave
// open). The validation cache is emptied before every sample, as for a new tool result.
import { loadavg } from 'node:os';
import { getCountries, getExampleNumber } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/examples.mobile.json';
import { phoneAt, resetPhoneValidationCache } from '../dist/sanitize/detect/pii-numbers.js';
import { PII_KINDS, scanPii } from '../dist/sanitize/detect/pii-scan.js';
import { REFERENCE_PHONE_VALIDATIONS, referencePhoneAt } from '../test/helpers/phone-reference.ts';
import { document, heldValues, percentile, time } from './sanitize-engine.ts';

const seconds = Number(process.argv[2] ?? 2);
const values = heldValues();
const us = document(256 * 1024, values);
const intl = (() => {
  const numbers = getCountries()
    .map((r) => getExampleNumber(r, examples as never)?.formatInternational())
    .filter((n): n is string => n !== undefined);
  let k = 0;
  return us.replace(/\+1 415 555 \d{4}/g, () => numbers[k++ % numbers.length]!);
})();
const none = us.replace(/"phone":"[^"]*",/g, '');

function leaves(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) leaves(v, out);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) leaves(v, out);
  return out;
}

type At = typeof phoneAt;
function phoneScan(strings: readonly string[], at: At): number {
  let found = 0;
  const budget = { left: REFERENCE_PHONE_VALIDATIONS };
  for (const t of strings) {
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c < 0x30 || c > 0x39) continue;
      const b = i > 0 ? t.charCodeAt(i - 1) : -1;
      if (b >= 0x30 && b <= 0x39) continue;
      let e = i + 1;
      while (e < t.length && t.charCodeAt(e) >= 0x30 && t.charCodeAt(e) <= 0x39) e++;
      const next = t.charCodeAt(e);
      const sep = next === 0x20 || next === 0x2d || next === 0x2e || next === 0x2f || next === 0x28 || next === 0x29 || next === 0xa0;
      if (e - i < 7 && !sep) continue;
      if (at(t, i, 0, t.length, 'US', budget) >= 0) found++;
    }
  }
  return found;
}

const all = { kinds: new Set(PII_KINDS), phoneRegion: 'US' as const };
const noPhone = { kinds: new Set(PII_KINDS.filter((k) => k !== 'phone')), phoneRegion: 'US' as const };
const pii = (strings: readonly string[], options: typeof all) => {
  for (const s of strings) scanPii(s, options, () => {});
};

const rows: Record<string, string | number>[] = [];
for (const [label, json] of [
  ['US numbers', us],
  ['international numbers', intl],
  ['no phone numbers', none],
] as const) {
  const strings = leaves(JSON.parse(json));
  const foundRef = phoneScan(strings, referencePhoneAt as At);
  resetPhoneValidationCache();
  const foundNew = phoneScan(strings, phoneAt);
  if (foundRef !== foundNew) throw new Error(`${label}: reference found ${foundRef} phone numbers, new ${foundNew}`);
  // Interleaved, so load changes on the shared machine hit both alike.
  const ref: number[] = [];
  const neu: number[] = [];
  const piiAll: number[] = [];
  const piiNoPhone: number[] = [];
  for (let round = 0; round < 4; round++) {
    ref.push(...time(() => phoneScan(strings, referencePhoneAt as At), seconds / 4).cpu);
    neu.push(...time(() => phoneScan(strings, phoneAt), seconds / 4).cpu);
    piiAll.push(...time(() => pii(strings, all), seconds / 4).cpu);
    piiNoPhone.push(...time(() => pii(strings, noPhone), seconds / 4).cpu);
  }
  for (const s of [ref, neu, piiAll, piiNoPhone]) s.sort((a, b) => a - b);
  const mbps = (ms: number) => Number((json.length / 1e6 / (ms / 1000)).toFixed(1));
  const r = percentile(ref, 50);
  const n = percentile(neu, 50);
  rows.push({
    document: label,
    'JSON bytes': json.length,
    'phones found': foundNew,
    'reference CPU p50 ms': Number(r.toFixed(3)),
    'new CPU p50 ms': Number(n.toFixed(3)),
    'speed-up': Number((r / n).toFixed(2)),
    'phone detection MB/s (ref → new)': `${mbps(r)} → ${mbps(n)}`,
    'scanPii all kinds MB/s': mbps(percentile(piiAll, 50)),
    'scanPii no phone MB/s': mbps(percentile(piiNoPhone, 50)),
  });
}
console.log('Phone detection: reference (libphonenumber-js per candidate) vs precompiled numbering plans, CPU time');
console.table(rows);
console.log(
  `Load average: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} (shared machine: compare ratios within this run).`,
);
