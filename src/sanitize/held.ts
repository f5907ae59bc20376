import type { SecretRedactor } from '../log/index.js';
import { HeldValues } from './detect/index.js';
import { HELD_TYPE } from './output-sanitizer.js';

const mirrored = new WeakSet<SecretRedactor>();

/**
 * Keeps `held` in step with a redactor's registrations. The log redactor is where every
 * component registers a credential it resolves (vault values, lease passwords, config
 * literals); it only scrubs and cannot list its values, so the sanitizer observes
 * registrations here instead. `changed` runs after each change (the automaton is rebuilt
 * off the request path).
 */
export function mirrorRegistrations(redactor: SecretRedactor, held: HeldValues, changed: () => void = () => {}): void {
  if (mirrored.has(redactor)) return;
  mirrored.add(redactor);
  const register = redactor.register.bind(redactor);
  const unregister = redactor.unregister.bind(redactor);
  // Held before the redactor registers it, so the redactor can match it with the held set's
  // automaton (useHeldSpans) instead of one of its own; released after the redactor's own hold.
  redactor.register = (value: string) => {
    if (value.length >= held.minLength && !held.has(value)) {
      held.add({ value, type: HELD_TYPE });
      changed();
    }
    register(value);
  };
  redactor.unregister = (value: string) => {
    unregister(value);
    if (held.remove(value)) changed();
  };
}

/** The credentials Gatehouse holds, as the outbound sanitizer sees them: everything `registerCredential` registers. */
export const heldValues = new HeldValues();
