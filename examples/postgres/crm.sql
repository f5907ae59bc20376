-- Gatehouse PostgreSQL example: a small CRM with the roles, grants and row-level-security
-- policies the built-in connector is designed for. Run it as a superuser in an empty database:
--   psql -d crm -f examples/postgres/crm.sql
-- then create the admin role Gatehouse manages leased roles with, and let it maintain the
-- actor mapping (see docs/vault.md, "Database set-up"):
--   GRANT SELECT, INSERT, DELETE ON gatehouse.lease_actors TO gatehouse_admin;

-- Who a leased role acts for, recorded by the admin role when it creates the role and
-- removed when it drops it; gatehouse.actor() looks it up by session_user, which a session
-- cannot change. This block is the connector's own schema, verbatim (docs/vault.md).
CREATE SCHEMA IF NOT EXISTS gatehouse;
REVOKE ALL ON SCHEMA gatehouse FROM PUBLIC;
GRANT USAGE ON SCHEMA gatehouse TO PUBLIC;
CREATE TABLE IF NOT EXISTS gatehouse.lease_actors (
  role       name PRIMARY KEY,
  actor      text NOT NULL,
  lease_id   text NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON gatehouse.lease_actors FROM PUBLIC;
CREATE OR REPLACE FUNCTION gatehouse.actor() RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT actor FROM gatehouse.lease_actors WHERE role = session_user AND expires_at > now() $$;
REVOKE ALL ON FUNCTION gatehouse.actor() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gatehouse.actor() TO PUBLIC;

-- Template roles. Nobody logs in as them: Gatehouse mints a short-lived login role per user
-- (gh_<user>_<random>) that is a member of the template mapped from the user's groups.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'crm_reader') THEN
    CREATE ROLE crm_reader NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'crm_support') THEN
    CREATE ROLE crm_support NOLOGIN IN ROLE crm_reader;
  END IF;
END
$$;

CREATE TABLE customers (
  id     integer PRIMARY KEY,
  name   text NOT NULL,
  email  text NOT NULL,
  region text NOT NULL,
  ssn    text NOT NULL
);

CREATE TABLE tickets (
  id          integer PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers (id),
  title       text NOT NULL,
  status      text NOT NULL DEFAULT 'open',
  assignee    text NOT NULL
);

-- Notes on tickets. The database records who wrote the note (gatehouse.actor(), bound to the
-- leased login role) and for which request (the informational gatehouse.request_id setting).
CREATE TABLE annotations (
  id         bigserial PRIMARY KEY,
  ticket_id  integer NOT NULL REFERENCES tickets (id),
  note       text NOT NULL,
  author     text NOT NULL DEFAULT gatehouse.actor(),
  request_id text DEFAULT current_setting('gatehouse.request_id', true),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Column privileges are the boundary: ssn is readable by nobody here. (The connector's
-- query.denyColumns only adds a clear refusal message in front of them.)
GRANT USAGE ON SCHEMA public TO crm_reader;
GRANT SELECT (id, name, email, region) ON customers TO crm_reader;
GRANT SELECT ON tickets, annotations TO crm_reader;
-- Support may add notes (only these two columns: author is the database's to fill in) and close tickets.
GRANT INSERT (ticket_id, note) ON annotations TO crm_support;
GRANT USAGE ON SEQUENCE annotations_id_seq TO crm_support;
GRANT UPDATE (status) ON tickets TO crm_support;

-- Row-level security sees the human behind the agent: gatehouse.actor() maps the leased login
-- role (session_user) to the user it was minted for. Not current_setting('gatehouse.actor'):
-- that setting is informational, and any session can set a setting. (SELECT …) makes the
-- lookup run once per query, not once per row.
ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;
CREATE POLICY tickets_assigned ON tickets FOR SELECT TO crm_reader
  USING (assignee = (SELECT gatehouse.actor()));
CREATE POLICY tickets_support_read ON tickets FOR SELECT TO crm_support USING (true);
CREATE POLICY tickets_support_close ON tickets FOR UPDATE TO crm_support
  USING (true) WITH CHECK (status IN ('open', 'closed'));

ALTER TABLE annotations ENABLE ROW LEVEL SECURITY;
CREATE POLICY annotations_read ON annotations FOR SELECT TO crm_reader USING (true);
CREATE POLICY annotations_write_as_self ON annotations FOR INSERT TO crm_support
  WITH CHECK (author = (SELECT gatehouse.actor()));

INSERT INTO customers (id, name, email, region, ssn) VALUES
  (1, 'Ada Lovelace', 'ada@example.com', 'emea', '078-05-1120'),
  (2, 'Grace Hopper', 'grace@example.com', 'amer', '219-09-9999'),
  (3, 'Katherine Johnson', 'katherine@example.com', 'amer', '457-55-5462');

INSERT INTO tickets (id, customer_id, title, status, assignee) VALUES
  (101, 1, 'Invoice shows the wrong VAT rate', 'open', 'alice'),
  (102, 2, 'Cannot reset password', 'open', 'bob'),
  (103, 3, 'Export to CSV times out', 'open', 'alice'),
  (104, 1, 'Duplicate charge in March', 'closed', 'carol');
