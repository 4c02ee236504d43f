-- Identities, projects and the audit log (owned by the iam service).

CREATE TABLE entities (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    kind          text NOT NULL CHECK (kind IN ('user', 'team')),
    display_name  text NOT NULL DEFAULT '',
    email         text NOT NULL DEFAULT '',
    server_admin  boolean NOT NULL DEFAULT false,
    create_time   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE team_members (
    team_id      bigint NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    user_id      bigint NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    role         smallint NOT NULL CHECK (role BETWEEN 1 AND 3),   -- strata.iam.v1.Role
    create_time  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE service_accounts (
    id           bigserial PRIMARY KEY,
    team_id      bigint NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    role         smallint NOT NULL DEFAULT 2 CHECK (role BETWEEN 1 AND 3),
    project_ids  bigint[] NOT NULL DEFAULT '{}',    -- empty: all the team's projects
    create_time  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (team_id, name)
);

CREATE TABLE api_keys (
    id                  text PRIMARY KEY,             -- public key id (part of the secret's prefix)
    user_id             bigint REFERENCES entities(id) ON DELETE CASCADE,
    service_account_id  bigint REFERENCES service_accounts(id) ON DELETE CASCADE,
    secret_hash         bytea NOT NULL,               -- keyed hash of the secret, never the secret
    prefix              text NOT NULL,
    description         text NOT NULL DEFAULT '',
    create_time         timestamptz NOT NULL DEFAULT now(),
    expire_time         timestamptz,
    last_use_time       timestamptz,
    revoke_time         timestamptz,
    CHECK ((user_id IS NULL) <> (service_account_id IS NULL))
);
CREATE INDEX api_keys_user ON api_keys (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX api_keys_service_account ON api_keys (service_account_id) WHERE service_account_id IS NOT NULL;

-- Server-wide settings of the iam service, e.g. the fingerprint of the API-key pepper (so a process
-- started with a different pepper refuses to start instead of rejecting every key).
CREATE TABLE iam_settings (
    key    text PRIMARY KEY,
    value  bytea NOT NULL
);

CREATE TABLE projects (
    id                 bigserial PRIMARY KEY,
    entity_id          bigint NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    name               text NOT NULL,
    description        text NOT NULL DEFAULT '',
    visibility         smallint NOT NULL DEFAULT 1,   -- strata.iam.v1.ProjectVisibility
    default_ttl        interval,
    protected_aliases  text[] NOT NULL DEFAULT '{}',
    create_time        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (entity_id, name)
);

-- No foreign keys: the log outlives what it describes, and the append-only trigger below would refuse
-- the UPDATE an ON DELETE SET NULL performs. entity_id is the owning entity of project_id, or the entity
-- a global action concerns (the team of a member change, the owner of an API key).
CREATE TABLE audit_events (
    id              bigserial PRIMARY KEY,
    create_time     timestamptz NOT NULL DEFAULT now(),
    actor_name      text NOT NULL,
    actor_kind      smallint NOT NULL,               -- strata.common.v1.ActorKind
    source_address  text NOT NULL DEFAULT '',
    request_id      text NOT NULL DEFAULT '',
    action          text NOT NULL,
    project_id      bigint,
    entity_id       bigint,
    target          text NOT NULL DEFAULT '',
    before          jsonb,
    after           jsonb
);
CREATE INDEX audit_events_project ON audit_events (project_id, id);
CREATE INDEX audit_events_entity ON audit_events (entity_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor_name, id);
CREATE INDEX audit_events_time ON audit_events (create_time);

-- The audit log is append-only: no update or delete, whoever asks.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END $$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Every process caches verified API keys and roles for a few seconds (STRATA_AUTH_CACHE_SECONDS); a
-- change that narrows access notifies them all at commit so they drop their caches at once.
CREATE FUNCTION strata_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('strata_auth', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER api_keys_auth_changed AFTER UPDATE OF revoke_time, expire_time OR DELETE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION strata_auth_changed();
CREATE TRIGGER team_members_auth_changed AFTER INSERT OR UPDATE OR DELETE ON team_members
    FOR EACH STATEMENT EXECUTE FUNCTION strata_auth_changed();
CREATE TRIGGER service_accounts_auth_changed AFTER UPDATE OR DELETE ON service_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION strata_auth_changed();
CREATE TRIGGER entities_auth_changed AFTER UPDATE OR DELETE ON entities
    FOR EACH STATEMENT EXECUTE FUNCTION strata_auth_changed();
CREATE TRIGGER projects_auth_changed AFTER UPDATE OF visibility OR DELETE ON projects
    FOR EACH STATEMENT EXECUTE FUNCTION strata_auth_changed();
