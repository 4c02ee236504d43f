-- Bytes of blobs whose rows garbage collection deleted, until the blob store confirms they are gone.
-- Written in the same transaction as the row deletion, so a crash or a blob-store outage between the
-- two leaves a row here for the next pass to retry instead of orphaned bytes. Storage keys are unique
-- per upload, so a later upload of the same digest never collides with a pending deletion.
CREATE TABLE blob_deletions (
    storage_key  text PRIMARY KEY,
    sha256       text NOT NULL,
    size         bigint NOT NULL,
    enqueue_time timestamptz NOT NULL DEFAULT now(),
    attempts     int NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT ''
);
