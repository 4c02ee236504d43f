-- Runs, metrics, blobs, uploads and run files (owned by the ingest service).

CREATE TABLE runs (
    id                 bigserial PRIMARY KEY,
    project_id         bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    run_id             text NOT NULL,
    display_name       text NOT NULL DEFAULT '',
    state              smallint NOT NULL DEFAULT 1,   -- strata.ingest.v1.RunState
    job_type           text NOT NULL DEFAULT '',
    run_group          text NOT NULL DEFAULT '',
    tags               text[] NOT NULL DEFAULT '{}',
    notes              text NOT NULL DEFAULT '',
    config             jsonb NOT NULL DEFAULT '{}',
    exit_code          int NOT NULL DEFAULT 0,
    author_name        text NOT NULL DEFAULT '',
    author_kind        smallint NOT NULL DEFAULT 0,
    provenance         jsonb NOT NULL DEFAULT '{}',
    allow_out_of_order boolean NOT NULL DEFAULT false,
    next_step          bigint NOT NULL DEFAULT 0,
    point_count        bigint NOT NULL DEFAULT 0,
    create_time        timestamptz NOT NULL DEFAULT now(),
    update_time        timestamptz NOT NULL DEFAULT now(),
    heartbeat_time     timestamptz NOT NULL DEFAULT now(),
    finish_time        timestamptz,
    UNIQUE (project_id, run_id)
);
CREATE INDEX runs_running_heartbeat ON runs (heartbeat_time) WHERE state = 1;

-- Per-run key dictionary and server-maintained summary (one row per run and metric key).
CREATE TABLE metric_keys (
    run_id        bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key_id        int NOT NULL,
    key           text NOT NULL,
    count         bigint NOT NULL DEFAULT 0,
    finite_count  bigint NOT NULL DEFAULT 0,
    last          double precision,
    last_step     bigint NOT NULL DEFAULT -1,
    min           double precision,
    min_step      bigint,
    max           double precision,
    max_step      bigint,
    sum           double precision NOT NULL DEFAULT 0,
    override      jsonb,
    PRIMARY KEY (run_id, key_id),
    UNIQUE (run_id, key)
);

-- Compact point storage: one row holds many points of one key as packed little-endian arrays
-- (steps int64, values float64, times float64). Reads of one run never touch other runs' rows.
CREATE TABLE metric_chunks (
    id          bigserial,
    run_id      bigint NOT NULL,
    key_id      int NOT NULL,
    first_step  bigint NOT NULL,
    last_step   bigint NOT NULL,
    n           int NOT NULL,
    steps       bytea NOT NULL,
    vals        bytea NOT NULL,
    times       bytea NOT NULL
);
CREATE INDEX metric_chunks_run_key_step ON metric_chunks (run_id, key_id, first_step);
-- Rows are written with at most 320 points (3 x 8 x 320 bytes): with toast_tuple_target at its maximum
-- they stay inline in the heap page, never compressed nor moved to TOAST (float data hardly
-- compresses, and pglz would cost more CPU than the whole COPY). EXTERNAL keeps any larger row from a
-- future writer uncompressed too.
ALTER TABLE metric_chunks SET (toast_tuple_target = 8160);
ALTER TABLE metric_chunks ALTER COLUMN steps SET STORAGE EXTERNAL,
                          ALTER COLUMN vals SET STORAGE EXTERNAL,
                          ALTER COLUMN times SET STORAGE EXTERNAL;

-- Exactly-once: a stream's high-water mark, committed in the same transaction as its batches.
CREATE TABLE metric_streams (
    run_id       bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    stream_id    text NOT NULL,
    sequence     bigint NOT NULL DEFAULT 0,
    update_time  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, stream_id)
);

-- Content-addressed blobs: stored once per sha256 (hex) under storage_key (unique per upload, so
-- garbage collection never deletes bytes a concurrent re-upload just wrote). touch_time is set
-- whenever a client is told it need not upload the blob; GC spares blobs touched within its grace.
CREATE TABLE blobs (
    sha256       text PRIMARY KEY,
    size         bigint NOT NULL,
    storage_key  text NOT NULL,
    create_time  timestamptz NOT NULL DEFAULT now(),
    touch_time   timestamptz NOT NULL DEFAULT now()
);

-- Which projects have uploaded (or proven possession of) a blob: the basis of access checks on
-- digests and of per-project storage accounting.
CREATE TABLE project_blobs (
    project_id   bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    sha256       text NOT NULL REFERENCES blobs(sha256) ON DELETE CASCADE,
    create_time  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, sha256)
);
CREATE INDEX project_blobs_sha256 ON project_blobs (sha256);

-- A resumable upload. `parts` lists the durable blob-store parts ({number, offset, size, etag}) in
-- offset order; committed_offset is where they end. hash_state is the sha256 state after those bytes
-- (an OpenSSL SHA256_CTX, see services/ingest/resumable_hash.py), so any process can continue the
-- hash after a restart; NULL means "re-hash the stored bytes at commit". Each UploadChunks stream
-- bumps writer_epoch (the newest stream wins; an older one can no longer record parts) and reserves
-- part numbers from next_part, so two streams never write the same S3 part number. multipart_id is
-- cleared once the blob-store upload was completed or aborted.
CREATE TABLE upload_sessions (
    id               text PRIMARY KEY,
    project_id       bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    owner_name       text NOT NULL DEFAULT '',
    expected_size    bigint NOT NULL,
    expected_sha256  text NOT NULL DEFAULT '',
    committed_offset bigint NOT NULL DEFAULT 0,
    state            smallint NOT NULL DEFAULT 1,     -- strata.ingest.v1.UploadState
    storage_key      text NOT NULL,
    multipart_id     text NOT NULL DEFAULT '',
    parts            jsonb NOT NULL DEFAULT '[]',
    hash_state       bytea,
    writer_epoch     bigint NOT NULL DEFAULT 0,
    next_part        int NOT NULL DEFAULT 1,
    blob_sha256      text,
    create_time      timestamptz NOT NULL DEFAULT now(),
    update_time      timestamptz NOT NULL DEFAULT now(),
    expire_time      timestamptz NOT NULL
);
CREATE INDEX upload_sessions_open_expiry ON upload_sessions (expire_time) WHERE state = 1;
CREATE INDEX upload_sessions_cleanup ON upload_sessions (update_time) WHERE state <> 1;

-- Proof-of-possession challenges issued by FindMissingBlobs for blobs stored for other projects:
-- single use, short-lived (the nonce is server-chosen so a client cannot pick easy ranges).
CREATE TABLE blob_challenges (
    project_id   bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    sha256       text NOT NULL,
    nonce        bytea NOT NULL,
    expire_time  timestamptz NOT NULL,
    PRIMARY KEY (project_id, sha256, nonce)
);
CREATE INDEX blob_challenges_expiry ON blob_challenges (expire_time);

CREATE TABLE run_files (
    run_id       bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    path         text NOT NULL,
    sha256       text NOT NULL REFERENCES blobs(sha256),
    size         bigint NOT NULL,
    create_time  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, path)
);
CREATE INDEX run_files_sha256 ON run_files (sha256);
