-- Rich values logged with run.log (images, Plotly figures, HTML, tables, histograms, text): one index
-- row per value; the bytes are a content-addressed blob of the run's project.
CREATE TABLE media_entries (
    run_id       bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key          text NOT NULL,
    step         bigint NOT NULL,
    idx          int NOT NULL,                       -- position in a list logged at one step
    media_type   smallint NOT NULL,                  -- strata.ingest.v1.MediaType
    sha256       text NOT NULL REFERENCES blobs(sha256),
    size         bigint NOT NULL,
    metadata     jsonb NOT NULL DEFAULT '{}',        -- image size, table shape, histogram bins
    create_time  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, key, step, idx)
);
CREATE INDEX media_entries_sha256 ON media_entries (sha256);
