-- Artifacts, versions, manifests and aliases (owned by the registry service).

CREATE TABLE artifacts (
    id              bigserial PRIMARY KEY,
    project_id      bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name            text NOT NULL,
    type            text NOT NULL,
    description     text NOT NULL DEFAULT '',
    next_version    int NOT NULL DEFAULT 0,           -- next vN to assign at commit (gap-free)
    alias_revision  bigint NOT NULL DEFAULT 0,        -- last alias event revision
    create_time     timestamptz NOT NULL DEFAULT now(),
    update_time     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, name)
);

CREATE TABLE artifact_versions (
    id               bigserial PRIMARY KEY,
    artifact_id      bigint NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    version          int,                             -- NULL while a draft
    draft_id         text NOT NULL UNIQUE,
    state            smallint NOT NULL DEFAULT 1,     -- strata.registry.v1.ArtifactVersionState
    description      text NOT NULL DEFAULT '',
    metadata         jsonb NOT NULL DEFAULT '{}',
    manifest_digest  text NOT NULL DEFAULT '',
    file_count       bigint NOT NULL DEFAULT 0,
    total_size       bigint NOT NULL DEFAULT 0,
    ttl              interval,
    ttl_disabled     boolean NOT NULL DEFAULT false,
    expire_time      timestamptz,
    producer_run_id  bigint REFERENCES runs(id) ON DELETE SET NULL,
    base_version_id  bigint REFERENCES artifact_versions(id) ON DELETE SET NULL,
    author_name      text NOT NULL DEFAULT '',
    author_kind      smallint NOT NULL DEFAULT 0,
    provenance       jsonb NOT NULL DEFAULT '{}',
    create_time      timestamptz NOT NULL DEFAULT now(),
    commit_time      timestamptz,
    update_time      timestamptz NOT NULL DEFAULT now(),
    delete_time      timestamptz,
    UNIQUE (artifact_id, version)
);
CREATE INDEX artifact_versions_expiry ON artifact_versions (expire_time) WHERE state = 2;

CREATE TABLE manifest_entries (
    version_id    bigint NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE,
    path          text NOT NULL,
    sha256        text,                                -- NULL for external references
    size          bigint NOT NULL DEFAULT 0,
    ref_uri       text,
    ref_etag      text,
    ref_size      bigint,
    ref_checksum  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (version_id, path)
);
CREATE INDEX manifest_entries_sha256 ON manifest_entries (sha256);

CREATE TABLE aliases (
    artifact_id  bigint NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    alias        text NOT NULL,
    version_id   bigint NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE,
    revision     bigint NOT NULL,
    update_time  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (artifact_id, alias)
);
CREATE INDEX aliases_version ON aliases (version_id);

CREATE TABLE alias_events (
    id               bigserial PRIMARY KEY,
    artifact_id      bigint NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    alias            text NOT NULL,
    revision         bigint NOT NULL,
    kind             smallint NOT NULL,                -- strata.registry.v1.AliasEventKind
    from_version_id  bigint REFERENCES artifact_versions(id) ON DELETE SET NULL,
    to_version_id    bigint REFERENCES artifact_versions(id) ON DELETE SET NULL,
    actor_name       text NOT NULL DEFAULT '',
    actor_kind       smallint NOT NULL DEFAULT 0,
    reason           text NOT NULL DEFAULT '',
    create_time      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (artifact_id, revision)
);
CREATE INDEX alias_events_alias ON alias_events (artifact_id, alias, revision);
