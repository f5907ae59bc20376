import type { DemoStep } from './context.ts';

/**
 * Adapts a demo section written as `async (log) => void` (e.g. demo/postgres-before-after.ts)
 * into a numbered step: its lines are printed under the step heading.
 */
export function logStep(title: string, run: (log: (line: string) => void) => Promise<void>): DemoStep {
  return {
    title,
    run: (ctx) => run((line) => ctx.ui.say(line)),
  };
}
