// How each rule of `@secretlint/secretlint-rule-preset-recommend` is run, and what its
// findings are called.
//
// Anchors: literal strings every match of the rule contains, read off the rule's regular
// expressions, in every letter case the expression accepts (all but two rules are
// case-sensitive; for the two `/i` ones the anchor is the case-free `://`). Some anchors are
// common (`://`, `secret`); they carry a `confirm` check, a cheap necessary condition read off
// the same expression (an `@` after `://` for credentials in a URL), so the rule only runs
// when it could match. A rule runs only on text holding one of its confirmed anchors;
// `secret-prefilter.test.ts` proves on secretlint's own fixtures and ours that the prefilter
// loses nothing.
//
// Modes:
// - `window` (every rule but one): the rule runs on bounded windows around each anchor:
//   [anchor − before, anchor + after] plus two characters of context for look-behind and
//   look-ahead. `before` and `after` bound how far a match can reach from the anchor's
//   start, read off the rule's bounded quantifiers. Two rules have unbounded parts, capped
//   here: the whitespace around AWS's `=` (SPACE_CAP) and Slack's dash-separated token list
//   (SLACK_TOKEN_CAP); a match longer than that is not found. Windows are what make a rule
//   safe whatever `recheck` says of its expressions (for several it cannot prove linearity,
//   and its fuzzing verdicts vary from run to run).
// - `segment` (GCP only): the rule parses the whole segment as JSON (a key file); its one
//   expression is proven linear by recheck's automaton check.
//
// Not run: `@secretlint/secretlint-rule-filter-comments`. It lets the scanned text switch
// detection off (`secretlint-disable`); text relayed to the agent is written by upstreams we
// do not trust, so it must not be able to silence the scanner.

export type RuleMode = 'segment' | 'window';

export interface AnchorSpec {
  /** Literal, matched exactly. */
  readonly anchor: string;
  /** How far before the anchor's start a match can begin. */
  readonly before: number;
  /** How far after the anchor's start a match can end. */
  readonly after: number;
  /**
   * A necessary condition for a match around the anchor at `at` in `text[0, end)`. It must
   * look at a bounded stretch only (or use `find`, which remembers its last answer), so that
   * thousands of anchors in one string stay linear.
   */
  readonly confirm?: (text: string, at: number, end: number, find: CharFinder) => boolean;
}

export interface RuleInvocation {
  /** `meta.id` of the rule in the preset. */
  readonly ruleId: string;
  readonly mode: RuleMode;
  readonly anchors: readonly AnchorSpec[];
  readonly options?: Readonly<Record<string, unknown>>;
  /** Source fields the rule reads to pick its checks (never a real file path). */
  readonly source?: { readonly ext?: string; readonly filePath?: string };
  /** Why the anchors and bounds are what they are. */
  readonly note: string;
}

/**
 * The next offset ≥ `from` of a character in the segment, or -1. Queries come in increasing
 * `from` order per segment, so each character's search resumes where the last one stopped
 * (amortized linear over all anchors of a segment).
 */
export interface CharFinder {
  next(c: string, from: number): number;
}

const a = (anchor: string, before: number, after: number, confirm?: AnchorSpec['confirm']): AnchorSpec =>
  confirm === undefined ? { anchor, before, after } : { anchor, before, after, confirm };

/** One of `words` starts at `i`. */
function startsWithAny(text: string, i: number, words: readonly string[]): number {
  for (const w of words) if (text.startsWith(w, i)) return w.length;
  return -1;
}

/** `(?:SECRET|secret|Secret)_?(?:ACCESS|access|Access)`: the access part after the anchor. */
function awsSecretConfirm(text: string, at: number): boolean {
  let i = at + 6;
  if (text.charCodeAt(i) === 0x5f) i++;
  return startsWithAny(text, i, ['ACCESS', 'access', 'Access']) !== -1;
}

/** `(ACCOUNT|account|Account)_?(ID|id|Id)?("|')?\s*(:|=>|=)`: a separator after the anchor. */
function awsAccountConfirm(text: string, at: number, end: number): boolean {
  let i = at + 7;
  if (text.charCodeAt(i) === 0x5f) i++;
  const id = startsWithAny(text, i, ['ID', 'id', 'Id']);
  if (id !== -1) i += id;
  if (text.charCodeAt(i) === 0x22 || text.charCodeAt(i) === 0x27) i++;
  while (
    i < end &&
    /* \s */ (text.charCodeAt(i) === 0x20 ||
      (text.charCodeAt(i) >= 0x09 && text.charCodeAt(i) <= 0x0d) ||
      text.charCodeAt(i) === 0xa0 ||
      text.charCodeAt(i) > 0x1000)
  )
    i++;
  return text.charCodeAt(i) === 0x3a || text.charCodeAt(i) === 0x3d;
}

/** Credentials in a URL (`user:password@`): an `@` within the user and password bounds. */
const atWithin =
  (max: number) =>
  (_text: string, at: number, end: number, find: CharFinder): boolean => {
    const i = find.next('@', at + 3);
    return i !== -1 && i < Math.min(end, at + 3 + max);
  };

/** `startsWith`, ASCII case-insensitively (`lower` is lower case). */
function startsWithFolded(text: string, at: number, lower: string): boolean {
  if (at + lower.length > text.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = text.charCodeAt(at + i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Slack's webhook expression, case-insensitive: `https://hooks.slack.com/services/`. */
function slackConfirm(text: string, at: number): boolean {
  return startsWithFolded(text, at + 3, 'hooks.slack.com/services/');
}

/** `-----BEGIN[ ]?((RSA|DSA|EC|OPENSSH|PGP) )?PRIVATE KEY`: "PRIVATE KEY" where the label puts it. */
function privateKeyConfirm(text: string, at: number): boolean {
  for (let i = at + 10; i <= at + 10 + 1 + 8; i++) if (text.startsWith('PRIVATE KEY', i)) return true;
  return false;
}

/** Cap for the rest-of-line match of `_authToken=`: the token is at its start. */
export const NPMRC_LINE_CAP = 4096;
/** Cap for each `\s*` around the separator of an AWS key or account id. */
export const SPACE_CAP = 1000;
/** Cap for the length of a Slack token (real ones are under 100 characters). */
export const SLACK_TOKEN_CAP = 2048;

/**
 * A rule whose every match starts with one of `prefixes` and ends at most `after` code units
 * past the prefix's start (the prefix included).
 */
function prefixRule(ruleId: string, prefixes: readonly string[], after: number, note: string): RuleInvocation {
  return { ruleId, mode: 'window', anchors: prefixes.map((x) => a(x, 0, after)), note };
}

export const RULE_INVOCATIONS: readonly RuleInvocation[] = [
  {
    ruleId: '@secretlint/secretlint-rule-aws',
    mode: 'window',
    // Access key IDs are scanned too (the preset leaves them off by default).
    options: { enableIDScanRule: true },
    anchors: [
      ...['A3T', 'AKIA', 'AGPA', 'AIDA', 'AROA', 'AIPA', 'ANPA', 'ANVA', 'ASIA'].map((x) => a(x, 1, 4 + 16 + 1)),
      // ["']?(AWS)?_? SECRET _? ACCESS _? KEY ["']? \s* (:|=>|=) \s* ["']? [key]{40} ["']?
      ...['SECRET', 'secret', 'Secret'].map((x) => a(x, 1 + 3 + 1, 6 + 1 + 6 + 1 + 3 + 1 + SPACE_CAP + 2 + SPACE_CAP + 1 + 40 + 1, awsSecretConfirm)),
      // ("|')?(AWS)?_? ACCOUNT _? (ID)? ("|')? \s* (:|=>|=) \s* ("|')? 4-4-4 digits ("|')?
      ...['ACCOUNT', 'account', 'Account'].map((x) => a(x, 1 + 3 + 1, 7 + 1 + 2 + 1 + SPACE_CAP + 2 + SPACE_CAP + 1 + 14 + 1, awsAccountConfirm)),
    ],
    note: 'Access key ID: one of its nine prefixes; secret key: (SECRET|secret|Secret) then _?(ACCESS|access|Access); account ID: (ACCOUNT|account|Account) then _?(ID|id|Id)?["\']?\\s*[:=]. The `\\s*` around the separator is unbounded in the rule, capped at SPACE_CAP here.',
  },
  {
    ruleId: '@secretlint/secretlint-rule-gcp',
    mode: 'segment',
    source: { ext: '.json' },
    anchors: [a('private_key_id', 0, 0)],
    note: 'Service-account key file: the segment parses as JSON with "private_key_id" and "private_key". Only the JSON branch runs (no file path is ever passed, so the .p12 branch that reads files is unreachable).',
  },
  {
    ruleId: '@secretlint/secretlint-rule-privatekey',
    mode: 'window',
    anchors: [a('-----BEGIN', 0, 10 + 1 + 8 + 11 + 6 + 5 + 1 + 10_000 + 1 + 8 + 1 + 8 + 11 + 6 + 5, privateKeyConfirm)],
    note: '-----BEGIN[ ]?(…)?PRIVATE KEY(?: BLOCK)?-----\\n?[…]{100,10000}\\n?-----END…-----; confirmed by PRIVATE KEY right after the label.',
  },
  {
    ruleId: '@secretlint/secretlint-rule-npm',
    mode: 'window',
    anchors: [a(':x-oauth-basic@', 8 + 256, 15 + 11), a('npm_', 0, 4 + 36)],
    note: 'https?://(.{1,256}):x-oauth-basic@github.com/ and npm_[A-Za-z0-9_]{36}.',
  },
  {
    ruleId: '@secretlint/secretlint-rule-npm',
    mode: 'window',
    source: { filePath: '.npmrc' },
    anchors: [a('_authToken=', 0, 11 + NPMRC_LINE_CAP)],
    note: '.npmrc `_authToken=([^$].*)`: the rest of the line, capped at NPMRC_LINE_CAP (the token is at its start).',
  },
  {
    ruleId: '@secretlint/secretlint-rule-basicauth',
    mode: 'window',
    anchors: [a('://', 5, 3 + 256 + 1 + 256 + 1 + 256 + 1 + 6, atWithin(256 + 1 + 256 + 1))],
    note: '(https?|ftp|ftps)://user{1,256}:password{1,256}@host{1,256}.tld{1,6}; confirmed by an @ within the user and password bounds.',
  },
  {
    ruleId: '@secretlint/secretlint-rule-slack',
    mode: 'window',
    anchors: [
      ...['xoxb-', 'xoxp-', 'xapp-', 'xoxa-', 'xoxo-', 'xoxr-'].map((x) => a(x, 1, SLACK_TOKEN_CAP)),
      a('://', 5, 3 + 25 + 41 + 1 + 41 + 1 + 40, slackConfirm),
    ],
    note: 'Tokens: (xoxb|xoxp|xapp|xoxa|xoxo|xoxr)- then an unbounded (…-)+ list, capped at SLACK_TOKEN_CAP here. Webhooks (case-insensitive): https://hooks.slack.com/services/T{1,40}/B{1,40}/{1,40}, found by the case-free :// confirmed by hooks.slack.com/services/ right after it.',
  },
  prefixRule('@secretlint/secretlint-rule-sendgrid', ['SG.'], 3 + 128 + 1 + 128 + 1 + 128, 'SG\\.\\w{1,128}\\.\\w{1,128}[-_]?\\w{1,128}'),
  prefixRule('@secretlint/secretlint-rule-shopify', ['shppa_', 'shpca_', 'shpat_', 'shpss_'], 6 + 64, '(shppa|shpca|shpat|shpss)_[a-zA-Z0-9]{32,64}'),
  prefixRule(
    '@secretlint/secretlint-rule-stripe',
    ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'],
    8 + 99,
    '(sk_live|sk_test|rk_live|rk_test)_[a-zA-Z0-9]{24,99}',
  ),
  {
    ruleId: '@secretlint/secretlint-rule-github',
    mode: 'window',
    anchors: [
      ...['ghp_', 'gho_', 'ghu_', 'ghr_'].map((x) => a(x, 0, 4 + 36)),
      a('ghs_', 0, 4 + 20 + 1 + 1000 + 1 + 10_000 + 1 + 1000),
      a('github_pat_', 0, 11 + 82),
    ],
    note: '(ghp|gho|ghu|ghs|ghr)_[…]{36}; github_pat_[…]{82}; ghs_[0-9]{1,20}_[…]{1,1000}.[…]{1,10000}.[…]{1,1000}',
  },
  prefixRule('@secretlint/secretlint-rule-gitlab', ['glpat-'], 6 + 128, 'glpat-[A-Za-z0-9_-]{20,128}'),
  {
    ruleId: '@secretlint/secretlint-rule-grafana',
    mode: 'window',
    anchors: [a('glc_', 0, 4 + 400 + 2), a('glsa_', 0, 5 + 32 + 1 + 8)],
    note: 'glc_[A-Za-z0-9+/]{32,400}={0,2}; glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}',
  },
  {
    ruleId: '@secretlint/secretlint-rule-openai',
    mode: 'window',
    anchors: [a('T3BlbkFJ', 11 + 74, 8 + 74)],
    note: 'Both alternatives contain T3BlbkFJ: sk-(proj|svcacct|admin)-[…]{74|58}T3BlbkFJ[…]{74|58} and sk-[…]{20}T3BlbkFJ[…]{20}.',
  },
  prefixRule('@secretlint/secretlint-rule-anthropic', ['sk-ant-api0'], 11 + 1 + 1 + 128 + 2, 'sk-ant-api0\\d-[A-Za-z0-9_-]{90,128}AA'),
  prefixRule('@secretlint/secretlint-rule-groq', ['gsk_'], 4 + 52, 'gsk_[a-zA-Z0-9]{52}'),
  prefixRule('@secretlint/secretlint-rule-huggingface', ['hf_'], 3 + 34, 'hf_[a-zA-Z]{34}'),
  prefixRule('@secretlint/secretlint-rule-linear', ['lin_api_'], 8 + 128, 'lin_api_[a-zA-Z0-9_]{32,128}'),
  prefixRule('@secretlint/secretlint-rule-notion', ['ntn_'], 4 + 11 + 35, 'ntn_[0-9]{11}[A-Za-z0-9]{35}'),
  prefixRule('@secretlint/secretlint-rule-1password', ['ops_ey'], 4 + 2 + 1280 + 2 + 2, 'ops_(ey[A-Za-z0-9+/=]{100,1280}fQ={0,2})'),
  {
    ruleId: '@secretlint/secretlint-rule-database-connection-string',
    mode: 'window',
    anchors: [a('://', 11, 3 + 100 + 1 + 200 + 1 + 100 + 1 + 100 + 1 + 500, atWithin(100 + 1 + 200 + 1))],
    note: 'mongodb(+srv)?://, (jdbc:)?mysql(x)?://, postgres(ql)?:// (case-insensitive: the anchor is the case-free ://, the scheme starts at most 11 characters before it), then user{1,100}:password{1,200}@host{1,100}/db{0,100}?options{0,500}. Only matches with a user and a password are reported: confirmed by an @ within their bounds.',
  },
  {
    ruleId: '@secretlint/secretlint-rule-hashicorp-vault',
    mode: 'window',
    anchors: [a('hvs.', 0, 4 + 120), a('hvb.', 0, 4 + 300), a('hvr.', 0, 4 + 120)],
    note: 'hvs.[…]{90,120}; hvb.[…]{138,300}; hvr.[…]{90,120}',
  },
  prefixRule('@secretlint/secretlint-rule-vercel', ['vcp_', 'vci_', 'vca_', 'vcr_', 'vck_'], 4 + 60, '(vcp|vci|vca|vcr|vck)_[A-Za-z0-9]{20,60}'),
  prefixRule('@secretlint/secretlint-rule-databricks', ['dapi'], 4 + 32 + 2, 'dapi[A-Fa-f0-9]{32}(-[0-9])?'),
  prefixRule('@secretlint/secretlint-rule-docker', ['dckr_pat_'], 9 + 27, 'dckr_pat_[a-zA-Z0-9_-]{27}'),
  prefixRule('@secretlint/secretlint-rule-figma', ['figd_'], 5 + 200, 'figd_[A-Za-z0-9_-]{40,200}'),
  prefixRule('@secretlint/secretlint-rule-cloudflare', ['cfk_', 'cfut_', 'cfat_'], 5 + 40 + 8, '(cfk|cfut|cfat)_[A-Za-z0-9]{40}[0-9a-f]{8}'),
  prefixRule('@secretlint/secretlint-rule-tailscale', ['tskey-'], 6 + 20 + 1 + 40 + 1 + 60, 'tskey-[a-z]{2,20}-[0-9A-Za-z_]{8,40}-[0-9A-Za-z_]{16,60}'),
];

/** Rules of the preset deliberately not run (see the module comment). */
export const RULES_NOT_RUN: readonly string[] = ['@secretlint/secretlint-rule-filter-comments'];

/**
 * Stable placeholder types per rule and message id. A message id missing here (a newer
 * preset) is reported as `secret`; a test fails until it is mapped.
 */
export const SECRET_TYPES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  '@secretlint/secretlint-rule-aws': {
    AWSAccessKeyID: 'aws_access_key',
    AWSSecretAccessKey: 'aws_secret_key',
    AWSAccountID: 'aws_account_id',
  },
  '@secretlint/secretlint-rule-gcp': { PrivateKeyJSON: 'gcp_service_account', PrivateKeyP12: 'gcp_service_account' },
  '@secretlint/secretlint-rule-privatekey': { PrivateKey: 'private_key' },
  '@secretlint/secretlint-rule-npm': {
    PackageJSON_xOauthToken: 'github_token',
    Npmrc_authToken: 'npm_token',
    NPM_ACCESS_TOKEN: 'npm_token',
  },
  '@secretlint/secretlint-rule-basicauth': { BasicAuth: 'basic_auth_url' },
  '@secretlint/secretlint-rule-slack': { SLACK_TOKEN: 'slack_token', IncomingWebhook: 'slack_webhook' },
  '@secretlint/secretlint-rule-sendgrid': { SENDGRID_KEY: 'sendgrid_key' },
  '@secretlint/secretlint-rule-shopify': { SHOPIFY_KEY: 'shopify_token' },
  '@secretlint/secretlint-rule-stripe': {
    STRIPE_SECRET_KEY_LIVE: 'stripe_key',
    STRIPE_SECRET_KEY_TEST: 'stripe_key',
    STRIPE_RESTRICTED_KEY_LIVE: 'stripe_key',
    STRIPE_RESTRICTED_KEY_TEST: 'stripe_key',
  },
  '@secretlint/secretlint-rule-github': { GITHUB_TOKEN: 'github_token' },
  '@secretlint/secretlint-rule-gitlab': { GITLAB_PERSONAL_ACCESS_TOKEN: 'gitlab_token' },
  '@secretlint/secretlint-rule-grafana': {
    GRAFANA_CLOUD_API_TOKEN: 'grafana_token',
    GRAFANA_SERVICE_ACCOUNT_TOKEN: 'grafana_token',
  },
  '@secretlint/secretlint-rule-openai': { OPENAI_TOKEN: 'openai_key' },
  '@secretlint/secretlint-rule-anthropic': { ANTHROPIC_API_KEY: 'anthropic_key' },
  '@secretlint/secretlint-rule-groq': { GROQ_API_KEY: 'groq_key' },
  '@secretlint/secretlint-rule-huggingface': { HUGGINGFACE_USER_ACCESS_TOKEN: 'huggingface_token' },
  '@secretlint/secretlint-rule-linear': { LINEAR_API_TOKEN: 'linear_key' },
  '@secretlint/secretlint-rule-notion': { NOTION_INTEGRATION_TOKEN: 'notion_token' },
  '@secretlint/secretlint-rule-1password': { OPS_TOKEN: 'onepassword_token' },
  '@secretlint/secretlint-rule-database-connection-string': {
    MongoDBConnection: 'connection_string',
    MySQLConnection: 'connection_string',
    PostgreSQLConnection: 'connection_string',
  },
  '@secretlint/secretlint-rule-hashicorp-vault': {
    HASHICORP_VAULT_SERVICE_TOKEN: 'hashicorp_vault_token',
    HASHICORP_VAULT_BATCH_TOKEN: 'hashicorp_vault_token',
    HASHICORP_VAULT_RECOVERY_TOKEN: 'hashicorp_vault_token',
  },
  '@secretlint/secretlint-rule-vercel': {
    VERCEL_PERSONAL_ACCESS_TOKEN: 'vercel_token',
    VERCEL_INTEGRATION_TOKEN: 'vercel_token',
    VERCEL_APP_ACCESS_TOKEN: 'vercel_token',
    VERCEL_APP_REFRESH_TOKEN: 'vercel_token',
    VERCEL_AI_GATEWAY_API_KEY: 'vercel_token',
  },
  '@secretlint/secretlint-rule-databricks': { DATABRICKS_PERSONAL_ACCESS_TOKEN: 'databricks_token' },
  '@secretlint/secretlint-rule-docker': { DOCKER_PERSONAL_ACCESS_TOKEN: 'docker_token' },
  '@secretlint/secretlint-rule-figma': { FIGMA_PERSONAL_ACCESS_TOKEN: 'figma_token' },
  '@secretlint/secretlint-rule-cloudflare': {
    CLOUDFLARE_GLOBAL_API_KEY: 'cloudflare_key',
    CLOUDFLARE_USER_API_TOKEN: 'cloudflare_key',
    CLOUDFLARE_ACCOUNT_API_TOKEN: 'cloudflare_key',
  },
  '@secretlint/secretlint-rule-tailscale': {
    TAILSCALE_API_KEY: 'tailscale_key',
    TAILSCALE_AUTH_KEY: 'tailscale_key',
    TAILSCALE_CLIENT_KEY: 'tailscale_key',
    TAILSCALE_SCIM_KEY: 'tailscale_key',
    TAILSCALE_WEBHOOK_KEY: 'tailscale_key',
    TAILSCALE_KEY: 'tailscale_key',
  },
};

/** Types of the detectors written here to fill gaps in the preset. */
export const JWT_TYPE = 'jwt';
export const PRIVATE_KEY_TYPE = 'private_key';
export const UNKNOWN_SECRET_TYPE = 'secret';

export function secretTypeOf(ruleId: string, messageId: string): string {
  return SECRET_TYPES[ruleId]?.[messageId] ?? UNKNOWN_SECRET_TYPE;
}
