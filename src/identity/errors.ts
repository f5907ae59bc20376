import { GatehouseError } from '../errors/index.js';

export type IdentityErrorCode =
  | 'identity.invalid_name'
  | 'identity.user_exists'
  | 'identity.unknown_user'
  | 'identity.weak_password'
  | 'identity.not_local'
  | 'identity.invalid_link'
  | 'identity.link_taken'
  | 'identity.not_linked';

/** A refused identity administration request (users add/disable/...). */
export class IdentityError extends GatehouseError {
  constructor(code: IdentityErrorCode, message: string) {
    super(code, message, 400, -32602);
  }
}
