/**
 * The built-in Cedar schema: Gatehouse's entity model. Used when the policy folder has no
 * `*.cedarschema` file. A folder's own schema must declare at least these entity types and
 * actions (it may add attributes, tool arguments in `Args`, and IdP attributes on `User`).
 * The names are part of Gatehouse's interface: policies that use them stay valid across
 * releases.
 */
export const DEFAULT_SCHEMA = `// Gatehouse policy schema (built-in default).
entity Group;
entity User in [Group] {
  email?: String,
  name?: String,
  // public | internal | confidential | secret, from sanitize.clearance (groups, claim, client kind).
  clearance?: String,
};
entity Client;
entity Server;
entity Tool in [Server] {
  name: String,
  server: String,
  destructive: Bool,
  readOnly: Bool,
  idempotent: Bool,
  openWorld: Bool,
  classification: String, // public | internal | confidential | secret (config; sanitize.defaultClassification when unset)
};
entity Prompt in [Server] { name: String, server: String };
entity Resource in [Server] { uri: String, server: String };

// Tool arguments policies may read (context.args.<name>). Declare the ones your policies use;
// a call whose argument has another type is refused before policy.
type Args = {};

type Time = { hour: Long, minute: Long, weekday: String, day: Long, date: String, zone: String };
type Mfa = { verified: Bool, ageSeconds?: Long, methods: Set<String> };
type Approval = { granted: Bool, breakGlass: Bool };
type AuthorizationDetail = { type: String, server?: String, tool?: String };
type Context = {
  args: Args,
  method: String,
  time: Time,
  sourceIp?: ipaddr,
  mfa: Mfa,
  scopes: Set<String>,
  authorizationDetails: Set<AuthorizationDetail>,
  client?: Client,
  clientName?: String,
  actors: Set<String>,
  approval: Approval,
};

action call appliesTo { principal: [User], resource: [Tool], context: Context };
action get appliesTo { principal: [User], resource: [Prompt], context: Context };
action read appliesTo { principal: [User], resource: [Resource], context: Context };
action list appliesTo { principal: [User], resource: [Server, Tool, Prompt, Resource], context: Context };
`;

/** Entity types and actions every policy schema must declare. */
export const REQUIRED_ENTITY_TYPES = ['User', 'Group', 'Client', 'Server', 'Tool', 'Prompt', 'Resource'] as const;
export const REQUIRED_ACTIONS = ['call', 'read', 'get', 'list'] as const;
