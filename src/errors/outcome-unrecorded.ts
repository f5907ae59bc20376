import { RpcCode } from './codes.js';
import { GatehouseError, type GatehouseErrorOptions } from './gatehouse-error.js';

/**
 * The call ran (its intent is recorded, the tool answered) but its outcome record could not be
 * committed, so the answer is withheld. Unlike `store.unavailable` this does not say "nothing
 * happened, retry": the tool may have acted, and a blind retry could act twice.
 */
export class OutcomeUnrecordedError extends GatehouseError {
  constructor(options: GatehouseErrorOptions = {}) {
    super(
      'audit.outcome_unrecorded',
      'The call ran, but its outcome could not be recorded, so its result is withheld. The tool may have acted: check before retrying.',
      500,
      RpcCode.AuditUnavailable,
      options,
    );
  }
}
