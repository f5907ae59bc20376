import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ACTOR_SCHEMA_SQL, ActorBindingError, actorGrantSql } from './actor-binding.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('actor binding', () => {
  it('the example database installs the connector’s schema verbatim, and its RLS uses gatehouse.actor(), not the setting', () => {
    const crm = readFileSync(path.join(root, 'examples/postgres/crm.sql'), 'utf8');
    expect(crm).toContain(ACTOR_SCHEMA_SQL);
    const code = crm.replace(/--.*$/gm, '');
    expect(code).not.toContain("current_setting('gatehouse.actor'");
    expect(code).toContain('USING (assignee = (SELECT gatehouse.actor()))');
  });

  it('looks the actor up by session_user, as its owner, with a pinned search_path, and only while the lease lasts', () => {
    expect(ACTOR_SCHEMA_SQL).toContain('SECURITY DEFINER');
    expect(ACTOR_SCHEMA_SQL).toContain('SET search_path = pg_catalog, pg_temp');
    expect(ACTOR_SCHEMA_SQL).toContain('WHERE role = session_user AND expires_at > now()');
    expect(ACTOR_SCHEMA_SQL).toContain('REVOKE ALL ON gatehouse.lease_actors FROM PUBLIC');
    expect(actorGrantSql('gatehouse_admin')).toBe('GRANT SELECT, INSERT, DELETE ON gatehouse.lease_actors TO gatehouse_admin;');
  });

  it('says what is wrong and where the fix is documented', () => {
    const error = new ActorBindingError('crm', ['the schema gatehouse does not exist']);
    expect(error.message).toBe(
      'PostgreSQL database "crm" cannot bind leased roles to their users: the schema gatehouse does not exist. Install the gatehouse schema as the database owner or a superuser (docs/vault.md, "Database set-up").',
    );
  });
});
