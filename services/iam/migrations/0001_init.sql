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

CREATE TABLE audit_events (
    id              bigserial PRIMARY KEY,
    create_time     timestamptz NOT NULL DEFAULT now(),
    actor_name      text NOT NULL,
    actor_kind      smallint NOT NULL,               -- strata.common.v1.ActorKind
    source_address  text NOT NULL DEFAULT '',
    request_id      text NOT NULL DEFAULT '',
    action          text NOT NULL,
    project_id      bigint REFERENCES projects(id) ON DELETE SET NULL,
    target          text NOT NULL DEFAULT '',
    before          jsonb,
    after           jsonb
);
CREATE INDEX audit_events_project_time ON audit_events (project_id, create_time);
CREATE INDEX audit_events_actor_time ON audit_events (actor_name, create_time);
CREATE INDEX audit_events_time ON audit_events (create_time);

-- The audit log is append-only: no update or delete, whoever asks.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END $$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
