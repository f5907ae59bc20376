import { InvalidParamsError } from '../../errors/index.js';

/** The connector refused a query or statement on purpose; `reason` is a stable id, e.g. `postgres.multiple_statements`. */
export class QueryRefusedError extends InvalidParamsError {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(reason, message, { data: { reason } });
    this.reason = reason;
  }
}
