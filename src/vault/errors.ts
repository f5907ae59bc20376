import { GatehouseError, RpcCode, type GatehouseErrorOptions } from '../errors/index.js';

/**
 * Vault failures. Codes are stable (`vault.*`); messages say what to do and never contain a
 * secret value or key material.
 */
export type VaultErrorCode =
  | 'vault.invalid_name'
  | 'vault.invalid_value'
  | 'vault.not_found'
  | 'vault.key_missing'
  | 'vault.key_invalid'
  | 'vault.key_mismatch'
  | 'vault.key_in_data_dir'
  | 'vault.key_permissions'
  | 'vault.decrypt_failed';

export class VaultError extends GatehouseError {
  declare readonly code: VaultErrorCode;
  constructor(code: VaultErrorCode, message: string, options?: GatehouseErrorOptions) {
    // Agents never see vault detail: to a client this is "credential unavailable" (503).
    super(code, message, 503, RpcCode.UpstreamUnavailable, options);
  }
}
