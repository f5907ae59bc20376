// Every command's words, help text, options and positional arguments, in one declarative table:
// what `gatehouse --help` lists and what each command's parser accepts. The commands' code, in
// commands/*.ts, binds a run function to its entry (defineCommand).

import { commandSpec as spec } from './command.js';

/** `approvals approve` and `approvals deny` take the same options; deny refuses the approve-only ones. */
const DECIDE_OPTIONS = {
  as: { type: 'string' },
  note: { type: 'string' },
  reason: { type: 'string' },
  'break-glass': { type: 'boolean', default: false },
  'acknowledge-hidden': { type: 'boolean', default: false },
  'any-client': { type: 'boolean', default: false },
} as const;

export const COMMAND_SPECS = {
  // approvals
  approvalsList: spec({
    name: 'approvals list',
    summary: 'Lists approval requests, newest first: pending ones by default.',
    usage: 'approvals list [--status pending|approved|denied|expired|used|all] [--requester SUB] [--limit N] [--config FILE] [--data-dir DIR] [--json]',
    options: { status: { type: 'string' }, requester: { type: 'string' }, limit: { type: 'string' } },
  }),
  approvalsShow: spec({
    name: 'approvals show',
    summary: 'Shows one approval request.',
    usage: 'approvals show ID [--config FILE] [--data-dir DIR] [--json]',
    positionals: [1, 1],
  }),
  approvalsApprove: spec({
    name: 'approvals approve',
    summary:
      "Approves a request as USER: a different person from the requester, holding the approver role for its server (approvals.approvers). USER's groups come from the users store (gatehouse users), else from approvals.directory; a disabled account is refused. Read the exact arguments first (approvals show ID): when some are hidden (held credentials), approving needs --acknowledge-hidden. The approval releases the call from the requesting client only; --any-client releases it from any client of the requester. --break-glass lets the requester approve their own four-eyes request, with a mandatory --reason; it is loudly audited.",
    usage:
      'approvals approve ID --as USER [--acknowledge-hidden] [--any-client] [--break-glass --reason TEXT] [--note TEXT] --config FILE [--data-dir DIR] [--json]',
    options: DECIDE_OPTIONS,
    positionals: [1, 1],
  }),
  approvalsDeny: spec({
    name: 'approvals deny',
    summary:
      "Denies a request as USER (an approver for its server, or the requester withdrawing it). USER's groups come from the users store, else from approvals.directory.",
    usage: 'approvals deny ID --as USER [--note TEXT] --config FILE [--data-dir DIR] [--json]',
    options: DECIDE_OPTIONS,
    positionals: [1, 1],
  }),
  // audit
  auditVerify: spec({
    name: 'audit verify',
    summary:
      'Recomputes the audit hash chain and checks the signed checkpoints (and any anchors kept off-host). Exit 0 when intact; exit 1 naming the first broken record.',
    usage: 'audit verify --data-dir DIR [--anchor FILE]... [--json]',
    options: { anchor: { type: 'string', multiple: true } },
  }),
  auditAnchor: spec({
    name: 'audit anchor',
    summary:
      'Signs the current audit head and prints it as an anchor to keep outside this machine; `audit verify --anchor FILE` later proves history up to it was not rewritten.',
    usage: 'audit anchor --data-dir DIR [--out FILE]',
    options: { out: { type: 'string', short: 'o' } },
  }),
  auditQuery: spec({
    name: 'audit query',
    summary: 'Lists audit records, newest last, filtered by user, tool, kind and time.',
    usage: 'audit query --data-dir DIR [--user SUB] [--tool SERVER__TOOL] [--kind KIND] [--since 1h|ISO] [--limit N] [--json]',
    options: {
      user: { type: 'string' },
      tool: { type: 'string' },
      kind: { type: 'string', multiple: true },
      since: { type: 'string' },
      limit: { type: 'string' },
    },
  }),
  auditExport: spec({
    name: 'audit export',
    summary: 'Writes audit records as JSON Lines (one record per line, with seq, hash and prevHash) to stdout or a file.',
    usage: 'audit export --data-dir DIR [--since 1h|ISO] [--out FILE]',
    options: { since: { type: 'string' }, out: { type: 'string', short: 'o' } },
  }),
  // config
  configSchema: spec({
    name: 'config schema',
    summary: 'Prints the JSON Schema of gatehouse.yaml (for editor completion and validation).',
    usage: 'config schema',
  }),
  configCheck: spec({
    name: 'config check',
    summary: 'Validates gatehouse.yaml and reports every problem with its key path. Exit 0 when valid.',
    usage: 'config check --config FILE',
  }),
  // connections
  connectionsList: spec({
    name: 'connections list',
    summary: "Lists users' connections to downstream providers (server, provider, scopes, since, last refresh). Never shows a token.",
    usage: 'connections list [--user NAME] [--server NAME] [--json] --data-dir DIR [--config FILE]',
    options: { user: { type: 'string' }, server: { type: 'string' } },
  }),
  connectionsRevoke: spec({
    name: 'connections revoke',
    summary:
      "Removes a user's connection to a server's provider at once and revokes its tokens at the provider (RFC 7009) where it offers that. A running gateway stops using it with the next call that needs a new token.",
    usage: 'connections revoke --user NAME --server NAME [--json] --data-dir DIR [--config FILE]',
    options: { user: { type: 'string' }, server: { type: 'string' } },
  }),
  // import-mcp-config
  importMcpConfig: spec({
    name: 'import-mcp-config',
    summary: 'Turns a Claude Desktop / Cursor `mcpServers` JSON file into gatehouse.yaml (secrets become ${VAR} references).',
    usage: 'import-mcp-config FILE [--out gatehouse.yaml] [--force]',
    options: { out: { type: 'string', short: 'o' }, force: { type: 'boolean', default: false } },
    positionals: [1, 1],
  }),
  // keys
  keysRotate: spec({
    name: 'keys rotate',
    summary:
      'Starts signing access tokens with a new key. The old key keeps verifying until the last token it signed has expired (max token lifetime plus a minute), and stays in the JWKS until then. A running gateway switches on its next request.',
    usage: 'keys rotate --data-dir DIR [--config FILE] [--json]',
    options: { use: { type: 'string' } },
  }),
  // migrate
  migrate: spec({
    name: 'migrate',
    summary:
      'Copies a SQLite data dir (users, vault sealed as is, audit chain with its hashes, signing keys, settings, approvals, pins, connections) into an empty PostgreSQL database, verifies it and reports what it did.',
    usage: 'migrate --to-postgres --data-dir DIR [--config FILE (storage.postgres)] [--url-stdin] [--json]',
    options: { 'to-postgres': { type: 'boolean', default: false }, 'url-stdin': { type: 'boolean', default: false } },
  }),
  // policy
  policyExplain: spec({
    name: 'policy explain',
    summary:
      "Explains the decision for one call: allow, deny or require_approval, the deciding policies and the reason. Reads the tool's annotations and input schema from its server's live catalog (starting it briefly) unless --offline.",
    usage:
      'policy explain --config FILE --user U [--groups g1,g2] --tool SERVER__TOOL [--args JSON] [--time ISO] [--ip ADDR] [--mfa-age 5m] [--annotations JSON] [--offline] [--plain] [--data-dir DIR] [--json]',
    options: {
      user: { type: 'string' },
      groups: { type: 'string' },
      tool: { type: 'string' },
      args: { type: 'string' },
      time: { type: 'string' },
      ip: { type: 'string' },
      'mfa-age': { type: 'string' },
      annotations: { type: 'string' },
      offline: { type: 'boolean', default: false },
      plain: { type: 'boolean', default: false },
    },
  }),
  policyTest: spec({
    name: 'policy test',
    summary: 'Runs a table of requests and their expected decisions against a policy folder. Exit 0 when every case matches, 1 on any mismatch. For CI.',
    usage: 'policy test FILE.yaml [--config FILE] [--data-dir DIR] [--json]',
    positionals: [1, 1],
  }),
  policyCheck: spec({
    name: 'policy check',
    summary: 'Loads and validates a policy folder against its schema, as the gateway would at start or reload. Exit 0 when it loads, 1 listing every problem.',
    usage: 'policy check [DIR] [--config FILE] [--data-dir DIR] [--json]',
    positionals: [0, 1],
  }),
  // revoke
  revoke: spec({
    name: 'revoke',
    summary:
      "Revokes at once, without waiting for expiry: a user's tokens, sessions and refresh families (--user), everything issued to a client (--client), one MCP session (--session), one access token by jti (--token), or one authorization (--grant). A running gateway applies it before its next request.",
    usage: 'revoke (--user NAME | --client ID | --session ID | --token JTI | --grant ID) [--reason TEXT] --data-dir DIR [--config FILE]',
    options: {
      user: { type: 'string' },
      client: { type: 'string' },
      session: { type: 'string' },
      token: { type: 'string' },
      grant: { type: 'string' },
      reason: { type: 'string' },
    },
  }),
  // start
  start: spec({
    name: 'start',
    summary: 'Starts the gateway. The port opens once signing keys exist and the public URL is published.',
    usage: 'start --config FILE [--data-dir DIR] [--port N] [--secrets-stdin | --secrets-fd N]',
    options: {
      port: { type: 'string', short: 'p' },
      /** Memory-only secrets: a JSON object or name=value lines, held in memory and gone at exit. */
      'secrets-stdin': { type: 'boolean', default: false },
      'secrets-fd': { type: 'string' },
    },
  }),
  // status
  status: spec({
    name: 'status',
    summary:
      'Asks the running gateway for its readiness: storage, audit log, each upstream, and the policies in force. Exit 0 when ready, 1 otherwise (also when a policy reload was refused).',
    usage: 'status [--config FILE] [--data-dir DIR] [--json]',
  }),
  // stdio
  stdio: spec({
    name: 'stdio',
    summary: 'Bridges an MCP client that speaks only stdio to the running gateway, authenticating with a token from an environment variable.',
    usage: 'stdio (--url URL | --config FILE | --data-dir DIR) --token-env VAR',
    options: { 'token-env': { type: 'string' }, url: { type: 'string' } },
  }),
  // token-issue
  tokenIssue: spec({
    name: 'token issue',
    summary: 'Mints an access token from the local signing key and prints it alone on stdout. For tests and service agents; people sign in through OAuth.',
    usage: 'token issue --data-dir DIR --sub NAME [--ttl 5m] [--groups g1,g2] [--config FILE]',
    options: {
      sub: { type: 'string' },
      ttl: { type: 'string' },
      groups: { type: 'string' },
      scope: { type: 'string' },
    },
  }),
  // tools
  toolsList: spec({
    name: 'tools list',
    summary:
      "Lists the upstream tools Gatehouse has pinned: pin state (approved, or quarantined because it changed, is new, or its description reads like instructions), and the effect the upstream declares next to the effect Gatehouse applies (config decides; an upstream's annotations may only restrict). Reads the data dir; --config adds the configured annotations.",
    usage: 'tools list [--server S] [--quarantined] [--config FILE] [--data-dir DIR] [--json]',
    options: { server: { type: 'string' }, quarantined: { type: 'boolean', default: false } },
  }),
  toolsDiff: spec({
    name: 'tools diff',
    summary:
      'Shows what changed in a quarantined tool: its approved definition next to the one awaiting review (the newest, or --digest), as a line diff of the definitions, with the description-scan findings. Exit 1 when nothing awaits review.',
    usage: 'tools diff SERVER__TOOL [--digest D] [--config FILE] [--data-dir DIR] [--json]',
    options: { digest: { type: 'string' } },
    positionals: [1, 1],
  }),
  toolsApprove: spec({
    name: 'tools approve',
    summary:
      'Approves the definition of a quarantined tool (the newest awaiting review, or --digest) as USER: agents see and may call it again from the next request. Read it first (gatehouse tools diff). Audited as tool.approved.',
    usage: 'tools approve SERVER__TOOL --as USER [--digest D] [--config FILE] [--data-dir DIR] [--json]',
    options: { as: { type: 'string' }, digest: { type: 'string' } },
    positionals: [1, 1],
  }),
  // users
  usersAdd: spec({
    name: 'users add',
    summary: 'Adds a local account. The password is read from stdin (--password-stdin), never from argv.',
    usage: 'users add NAME [--group G]... --password-stdin --data-dir DIR [--config FILE]',
    options: { group: { type: 'string', multiple: true, short: 'g' }, 'password-stdin': { type: 'boolean', default: false } },
    positionals: [1, 1],
  }),
  usersList: spec({
    name: 'users list',
    summary: 'Lists users: source, groups, MFA enrollment, disabled and locked state. Never prints secrets.',
    usage: 'users list --data-dir DIR [--config FILE] [--json]',
  }),
  usersDisable: spec({
    name: 'users disable',
    summary: 'Disables a user: sign-in is refused, and every token, MCP session and refresh-token family they hold ends now.',
    usage: 'users disable NAME [--reason TEXT] --data-dir DIR [--config FILE]',
    options: { reason: { type: 'string' } },
    positionals: [1, 1],
  }),
  usersEnable: spec({
    name: 'users enable',
    summary: 'Re-enables a disabled user (they sign in again; old tokens stay revoked).',
    usage: 'users enable NAME --data-dir DIR [--config FILE]',
    positionals: [1, 1],
  }),
  usersResetMfa: spec({
    name: 'users reset-mfa',
    summary: "Removes a user's TOTP enrollment; they enroll a new authenticator at their next sign-in.",
    usage: 'users reset-mfa NAME --data-dir DIR [--config FILE]',
    positionals: [1, 1],
  }),
  usersSetPassword: spec({
    name: 'users set-password',
    summary: "Sets a local user's password from stdin and clears any lockout.",
    usage: 'users set-password NAME --password-stdin --data-dir DIR [--config FILE]',
    options: { 'password-stdin': { type: 'boolean', default: false } },
    positionals: [1, 1],
  }),
  usersLink: spec({
    name: 'users link',
    summary:
      'Lets a single sign-on identity (IdP issuer and subject) sign in as an existing user. Single sign-on never does this by itself: a new IdP subject whose name is taken is refused.',
    usage: 'users link NAME --issuer ISS --subject SUB --data-dir DIR [--config FILE] [--json]',
    options: { issuer: { type: 'string' }, subject: { type: 'string' } },
    positionals: [1, 1],
  }),
  usersUnlink: spec({
    name: 'users unlink',
    summary:
      'Removes a single sign-on identity from a user: it can no longer sign in as them (their current tokens are not revoked; use `revoke --user` for that).',
    usage: 'users unlink NAME --issuer ISS --subject SUB --data-dir DIR [--config FILE] [--json]',
    options: { issuer: { type: 'string' }, subject: { type: 'string' } },
    positionals: [1, 1],
  }),
  // vault
  vaultPut: spec({
    name: 'vault put',
    summary:
      'Stores a secret, encrypted, reading the value from stdin (never argv). Replacing an existing value counts as a rotation. Refer to it in config as vault:NAME.',
    usage: 'vault put NAME --data-dir DIR [--config FILE] [--json] < value',
    positionals: [1, 2],
  }),
  vaultRotate: spec({
    name: 'vault rotate',
    summary: 'Replaces the value of an existing secret with one read from stdin. A running gateway uses it from the next connection or child start.',
    usage: 'vault rotate NAME --data-dir DIR [--config FILE] [--json] < value',
    positionals: [1, 2],
  }),
  vaultList: spec({
    name: 'vault list',
    summary: 'Lists vault secrets: names and metadata (created, rotated, last used, used by, age), never values. Warns about values older than 90 days.',
    usage: 'vault list --data-dir DIR [--config FILE] [--json]',
  }),
  vaultDelete: spec({
    name: 'vault delete',
    summary: 'Deletes a secret. Servers that reference it fail to start (and say why) until it is added again.',
    usage: 'vault delete NAME --data-dir DIR [--config FILE] [--json]',
    positionals: [1, 1],
  }),
  vaultBackupKey: spec({
    name: 'vault backup-key',
    summary:
      'Exports the vault master key so it can be stored offline (password manager, sealed envelope). Without it the vault cannot be decrypted. Restore by setting GATEHOUSE_MASTER_KEY or writing the key file.',
    usage: 'vault backup-key --data-dir DIR [--config FILE] [--out FILE] [--json]',
    options: { out: { type: 'string' } },
  }),
};
