/**
 * Schema migrations, applied in `id` order and recorded in `schema_migrations`. Each room
 * adds its own file; ids are `NNNN-room` so parallel work never collides on a number.
 */
export interface Migration {
  id: string;
  sql: string;
}

import { core } from './0001-core.js';
import { vault } from './0002-vault.js';
import { identity } from './0002-identity.js';
import { policy } from './0003-policy.js';
import { changeCounter } from './0004-change-counter.js';
import { federatedIdentities } from './0005-federated-identities.js';
import { approvalClient } from './0006-approval-client.js';
import { toolPins } from './0007-tool-pins.js';
import { connections } from './0008-connections.js';
import { mcpSessions } from './0009-mcp-sessions.js';

export const MIGRATIONS: readonly Migration[] = [
  core,
  vault,
  identity,
  policy,
  changeCounter,
  federatedIdentities,
  approvalClient,
  toolPins,
  connections,
  mcpSessions,
].sort((a, b) => a.id.localeCompare(b.id));
