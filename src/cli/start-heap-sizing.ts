// Imported first by the CLI entry point, so it runs before any other module is evaluated:
// loading the config schema alone grows V8's young generation from 0.5 MB to 14 MB, and a young
// generation never shrinks back on its own. Only `gatehouse start` (the long-running gateway)
// is sized; the short-lived commands keep Node's defaults.
import { applyHeapSizing } from '../util/heap-sizing.js';

if (process.argv[2] === 'start') applyHeapSizing();
