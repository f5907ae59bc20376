// Imported first by the CLI entry point, so it runs before any other module is evaluated:
// loading the config schema alone grows V8's young generation from 0.5 MB to 14 MB, and a young
// generation never shrinks back on its own. Only `gatehouse start` (the long-running gateway)
// is sized; the short-lived commands keep Node's defaults. The young generation's size is read
// when the isolate is created, so `start` restarts itself once with it on the command line.
import v8 from 'node:v8';
import { applyHeapSizing, canRestartWithFlags, forgetRestartEnvironment, restartWithHeapSizing } from '../util/heap-sizing.js';

if (process.argv[2] === 'start') {
  const canRestart = canRestartWithFlags();
  // The marker (and the allocator settings the restart added) have done their job; nothing the
  // gateway starts inherits them.
  forgetRestartEnvironment(process.env);
  const sizing = applyHeapSizing(process.execArgv, process.env.NODE_OPTIONS ?? '', v8.setFlagsFromString, canRestart);
  if (sizing.restartWith.length > 0) restartWithHeapSizing(sizing.restartWith);
}
