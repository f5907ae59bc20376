export { Vault, validateSecretName, SECRET_NAME, MAX_SECRET_BYTES, ROTATE_AFTER_DAYS, type VaultOptions, type SecretListing } from './vault.js';
export { VaultError, type VaultErrorCode } from './errors.js';
export { LocalKeyProvider, localKeyId, KEK_BYTES, type KeyProvider } from './key-provider.js';
export { seal, open, valueContext, keyContext } from './envelope.js';
export {
  loadMasterKey,
  masterKeyLocation,
  withdrawMasterKey,
  defaultKeyFile,
  MASTER_KEY_ENV,
  MASTER_KEY_FILE_ENV,
  type MasterKeySettings,
  type MasterKeyLocation,
  type LoadedMasterKey,
} from './master-key.js';
export { parseSecretsInput } from './memory-secrets.js';
export { secretsDueForRotation, rotationWarning, type RotationDue } from './rotation.js';
export { splitVaultReferences, referencedSecrets, resolveVaultReferences, type ValuePart } from './references.js';
export { findInlineSecrets, type InlineSecretFinding } from './inline-secrets.js';
export { openVault, checkCredentials } from './open-vault.js';
export {
  Broker,
  BrokerError,
  DEFAULT_LEASE_TTL_MS,
  MAX_LEASE_TTL_MS,
  type BrokerOptions,
  type CredentialIssuer,
  type CredentialEntitlement,
  type EntitledCall,
  type Lease,
  type LeaseActor,
  type LeaseRequest,
  type MintPlan,
} from './broker.js';
