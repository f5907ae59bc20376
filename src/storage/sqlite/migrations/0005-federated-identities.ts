import type { Migration } from './index.js';

/**
 * Federated users are keyed by the IdP's (issuer, subject), never by a name the IdP lets its
 * users choose. Issuers are stored without trailing slashes (see `issuerKey`).
 *
 * Federated users created before this table existed are linked to the (issuer, subject) that
 * signed in as them last (their `idp` and `idp_sub` attributes), so existing single sign-on
 * keeps working after the upgrade.
 */
export const federatedIdentities: Migration = {
  id: '0005-federated-identities',
  sql: `
CREATE TABLE federated_identities (
  issuer     TEXT NOT NULL,
  subject    TEXT NOT NULL,
  name       TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (issuer, subject)
) STRICT;
CREATE INDEX federated_identities_name ON federated_identities (name);
INSERT OR IGNORE INTO federated_identities (issuer, subject, name, created_at)
  SELECT rtrim(json_extract(attributes, '$.idp'), '/'), json_extract(attributes, '$.idp_sub'), name, updated_at
  FROM users
  WHERE source = 'federated'
    AND json_type(attributes, '$.idp') = 'text' AND json_type(attributes, '$.idp_sub') = 'text'
    AND rtrim(json_extract(attributes, '$.idp'), '/') <> '' AND json_extract(attributes, '$.idp_sub') <> '';
`,
};
