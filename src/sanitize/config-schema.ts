import { z } from 'zod';
import { parseBytes } from '../util/bytes.js';
import { ClassificationSchema, CLASSIFICATIONS } from './classification.js';
import { PII_KINDS, type PiiKind } from './detect/index.js';

/**
 * What happens to a finding: `mask` (`[REDACTED:<type>]`), `hash` (`[HASH:<type>:<hmac>]`, a
 * keyed HMAC so analysts can correlate), `drop` (the field goes), `deny` (the whole message is
 * refused), `allow` (relayed as it is; personal data and secret formats only, never a
 * credential Gatehouse holds).
 */
export const OUTPUT_ACTIONS = ['mask', 'hash', 'drop', 'deny', 'allow'] as const;
export type OutputAction = (typeof OUTPUT_ACTIONS)[number];

/** Defaults of the `sanitize` block (docs/configuration.md mirrors them). */
export const SANITIZE_DEFAULTS = {
  detectors: { secrets: true, pii: true },
  pii: [...PII_KINDS] as PiiKind[],
  phoneRegion: 'US',
  /** Every finding is masked unless a rule says otherwise. */
  action: 'mask' as OutputAction,
  defaultClassification: 'internal' as const,
  maxScanBytes: '4mb',
  maxSegmentBytes: '1mb',
  clearance: {
    default: 'internal' as const,
    /** Caps by kind of OAuth client: an unverified, dynamically registered client gets less. */
    clients: { dynamic: 'internal', metadata: 'confidential', registered: 'secret', none: 'secret' } as const,
  },
};

const ByteSize = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseBytes(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** Finding type (`email`, `aws_access_key`, `vault`), family (`held`, `secret`, `pii`) or `*` → action. */
const ActionTableSchema = z.record(z.string().regex(/^[a-z0-9_*]{1,64}$/, 'a finding type, a family (held, secret, pii) or *'), z.enum(OUTPUT_ACTIONS));

export const ClearanceConfigSchema = z.strictObject({
  /** Clearance of a user no rule names. */
  default: ClassificationSchema.default(SANITIZE_DEFAULTS.clearance.default),
  /** Group → clearance; a user gets the highest of their groups'. */
  groups: z.record(z.string().min(1), ClassificationSchema).default({}),
  /** An identity claim (from the upstream IdP) holding a level; it can raise the clearance like a group. */
  claim: z.string().min(1).optional(),
  /** The most a kind of OAuth client may see, whoever uses it. */
  clients: z
    .strictObject({
      /** RFC 7591 dynamic registration: anyone can register, nothing about the client is verified. */
      dynamic: ClassificationSchema.default(SANITIZE_DEFAULTS.clearance.clients.dynamic),
      /** Client ID metadata documents: the client id is an HTTPS URL its owner controls. */
      metadata: ClassificationSchema.default(SANITIZE_DEFAULTS.clearance.clients.metadata),
      /** Pre-registered in `oauth.clients`. */
      registered: ClassificationSchema.default(SANITIZE_DEFAULTS.clearance.clients.registered),
      /** Tokens with no client (issued with `gatehouse token issue`). */
      none: ClassificationSchema.default(SANITIZE_DEFAULTS.clearance.clients.none),
    })
    .prefault({}),
});

export const SanitizeConfigSchema = z
  .strictObject({
    detectors: z
      .strictObject({
        /** Secret formats (secretlint's recommended rules, JWTs, PEM private keys). */
        secrets: z.boolean().default(SANITIZE_DEFAULTS.detectors.secrets),
        /** Personal data (the kinds in `pii`). */
        pii: z.boolean().default(SANITIZE_DEFAULTS.detectors.pii),
      })
      .prefault({}),
    pii: z.array(z.enum(PII_KINDS as [PiiKind, ...PiiKind[]])).default(SANITIZE_DEFAULTS.pii),
    /** Region for phone numbers written without a country code (ISO 3166 alpha-2). */
    phoneRegion: z
      .string()
      .regex(/^[A-Z]{2}$/, 'an ISO 3166 alpha-2 region such as US or DE')
      .default(SANITIZE_DEFAULTS.phoneRegion),
    /**
     * Actions by classification of the data (`*`: any), then by finding type or family. The most
     * specific rule wins: classification before `*`, type before family before `*`.
     */
    actions: z.partialRecord(z.enum(['*', ...CLASSIFICATIONS, 'sensitive']), ActionTableSchema).default({}),
    /** Key of `hash` placeholders: `vault:NAME` or `${ENV_VAR}`. Without it a random key per process (hashes correlate only until a restart). */
    hashKey: z.string().min(1).optional(),
    /** Classification of data whose server, tool and resource say nothing. */
    defaultClassification: ClassificationSchema.default(SANITIZE_DEFAULTS.defaultClassification),
    /** Most text scanned per message; the rest is cut (and the cut stated), never relayed unscanned. */
    maxScanBytes: ByteSize.prefault(SANITIZE_DEFAULTS.maxScanBytes),
    /** Most text scanned per string. */
    maxSegmentBytes: ByteSize.prefault(SANITIZE_DEFAULTS.maxSegmentBytes),
    clearance: ClearanceConfigSchema.prefault({}),
  })
  .superRefine((s, ctx) => {
    for (const [level, table] of Object.entries(s.actions)) {
      for (const [type, action] of Object.entries(table)) {
        if (action === 'allow' && (type === 'held' || type === 'vault' || type === 'access_token' || type === '*')) {
          ctx.addIssue({
            code: 'custom',
            path: ['actions', level, type],
            message: `"allow" is not possible for ${type === '*' ? 'every finding (credentials Gatehouse holds are always removed; name types or families)' : 'credentials Gatehouse holds'}`,
          });
        }
      }
    }
  });

export type SanitizeConfig = z.infer<typeof SanitizeConfigSchema>;
export type ClearanceConfig = z.infer<typeof ClearanceConfigSchema>;

/** Size and volume limits on one tool's results. */
export const OutputLimitsSchema = z.strictObject({
  /** Text bytes across the result's content (text items and JSON text). */
  maxBytes: ByteSize.optional(),
  /** Content items. */
  maxItems: z.number().int().min(1).optional(),
  /** Rows: elements of arrays in `structuredContent` (and of JSON arrays in text items). */
  maxRows: z.number().int().min(1).optional(),
});
export type OutputLimits = z.infer<typeof OutputLimitsSchema>;

/** Member name → classification (a PostgreSQL column, a structured field). */
export const FieldClassificationSchema = z.record(z.string().min(1).max(256), ClassificationSchema);
