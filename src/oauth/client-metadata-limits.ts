/**
 * Size limits for client metadata that arrives without authentication: RFC 7591 registration
 * requests and fetched Client ID Metadata Documents. They are checked before any other
 * processing of the metadata (oidc-provider's own validation included), so an oversized field
 * costs a JSON parse and nothing else. Over a limit: `invalid_client_metadata` (RFC 7591 §3.2.2).
 */
export const CLIENT_METADATA_LIMITS = {
  /** The whole registration request or document, serialized. */
  documentBytes: 16 * 1024,
  /** Any string field without a tighter limit below. */
  string: 2048,
  /** Any array field without a tighter limit below. */
  entries: 20,
  /** Any object-valued field other than `jwks`, serialized. */
  objectBytes: 2048,
  /** Length of a field name (`client_name#fr-CA` and the like). */
  name: 128,
  /** Number of fields. */
  fields: 64,
  jwksKeys: 10,
  jwksBytes: 8 * 1024,
} as const;

/** A URI field (a redirect, a logo, a policy page, a client id that is a URL). */
const URI = { chars: 2048 };
/** A list of registered names (grant types, ACR values, …): short words, a handful of them. */
const NAMES = { chars: 128, entries: 10 };

const each = (names: readonly string[], limits: { chars: number; entries?: number }) => Object.fromEntries(names.map((name) => [name, limits]));

/** Per field: longest string (or longest entry, for arrays) and most entries. */
const FIELDS: Record<string, { chars: number; entries?: number }> = {
  ...each(['client_uri', 'logo_uri', 'tos_uri', 'policy_uri', 'jwks_uri', 'sector_identifier_uri', 'initiate_login_uri', 'client_id'], URI),
  ...each(['redirect_uris', 'post_logout_redirect_uris'], { ...URI, entries: 20 }),
  request_uris: { ...URI, entries: 10 },
  ...each(['grant_types', 'response_types', 'default_acr_values', 'authorization_details_types'], NAMES),
  client_name: { chars: 256 },
  contacts: { chars: 254, entries: 10 },
  scope: { chars: 1024 },
  software_id: { chars: 256 },
  software_version: { chars: 64 },
  software_statement: { chars: 8192 },
  token_endpoint_auth_method: { chars: 64 },
  application_type: { chars: 32 },
};

/** `client_name#fr` is limited like `client_name` (RFC 7591 §2.2 language tags). */
function fieldLimits(name: string): { chars: number; entries: number } {
  const base = FIELDS[name] ?? FIELDS[name.split('#')[0] as string];
  return { chars: base?.chars ?? CLIENT_METADATA_LIMITS.string, entries: base?.entries ?? CLIENT_METADATA_LIMITS.entries };
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/**
 * The first limit the metadata exceeds, as a description safe to send back, or undefined.
 * Linear in the size of the input; never throws on odd shapes (oidc-provider judges those).
 */
export function clientMetadataProblem(metadata: Readonly<Record<string, unknown>>): string | undefined {
  const L = CLIENT_METADATA_LIMITS;
  const names = Object.keys(metadata);
  if (names.length > L.fields) return `client metadata has more than ${L.fields} fields`;
  const total = jsonBytes(metadata);
  if (total > L.documentBytes) return `client metadata is larger than ${L.documentBytes} bytes`;
  for (const name of names) {
    if (name.length > L.name) return `client metadata field names may be at most ${L.name} characters`;
    const value = metadata[name];
    const { chars, entries } = fieldLimits(name);
    if (typeof value === 'string') {
      if (value.length > chars) return `client metadata field ${name} is longer than ${chars} characters`;
    } else if (Array.isArray(value)) {
      if (value.length > entries) return `client metadata field ${name} has more than ${entries} entries`;
      for (const entry of value) {
        if (typeof entry === 'string' ? entry.length > chars : jsonBytes(entry) > chars)
          return `client metadata field ${name} has an entry longer than ${chars} characters`;
      }
    } else if (name === 'jwks' && typeof value === 'object' && value !== null) {
      const keys = (value as { keys?: unknown }).keys;
      if (Array.isArray(keys) && keys.length > L.jwksKeys) return `client metadata field jwks has more than ${L.jwksKeys} keys`;
      if (jsonBytes(value) > L.jwksBytes) return `client metadata field jwks is larger than ${L.jwksBytes} bytes`;
    } else if (typeof value === 'object' && value !== null) {
      if (jsonBytes(value) > L.objectBytes) return `client metadata field ${name} is larger than ${L.objectBytes} bytes`;
    }
  }
  return undefined;
}
