import type { Principal } from '../tokens/index.js';
import { CLASSIFICATIONS, classificationRank, isClassification, maxClassification, type Classification } from './classification.js';
import type { ClearanceConfig } from './config-schema.js';

/** How much Gatehouse knows about the OAuth client a token was issued to. */
export type ClientKind = 'none' | 'registered' | 'metadata' | 'dynamic';

/** The client id of tokens an operator issues with `gatehouse token issue` (signed with the gateway's own key). */
const OPERATOR_CLIENT_ID = 'gatehouse-cli';

export function clientKind(clientId: string | undefined, registered: ReadonlySet<string>): ClientKind {
  if (clientId === undefined || clientId === OPERATOR_CLIENT_ID) return 'none';
  if (registered.has(clientId)) return 'registered';
  // Client ID metadata documents: the id is the HTTPS URL of a document its owner serves.
  if (clientId.startsWith('https://')) return 'metadata';
  return 'dynamic';
}

/**
 * A principal's clearance: the highest of the default, their groups' and their clearance
 * claim, capped by what their kind of client may see (an unverified, dynamically registered
 * client gets less than a pre-registered one, whoever uses it).
 */
export function clearanceOf(principal: Principal, config: ClearanceConfig, registeredClients: ReadonlySet<string>): Classification {
  let level: Classification = config.default;
  for (const group of principal.groups) {
    const g = Object.hasOwn(config.groups, group) ? config.groups[group] : undefined;
    if (g !== undefined) level = maxClassification(level, g);
  }
  if (config.claim !== undefined) {
    const claimed = principal.claims[config.claim];
    const value = claimed === 'sensitive' ? 'confidential' : claimed;
    if (isClassification(value)) level = maxClassification(level, value);
  }
  const cap = config.clients[clientKind(principal.clientId, registeredClients)];
  return classificationRank(level) <= classificationRank(cap) ? level : cap;
}

export { CLASSIFICATIONS };
