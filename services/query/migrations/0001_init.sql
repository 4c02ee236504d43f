-- Query service: indexes and derived structures that make run search and history fast.
-- Owned by the query service; the tables it reads (runs, metric_keys, metric_chunks) belong to ingest.

-- The value `summary.<key>` filters and sorts on: the summary override when it is a JSON number, else
-- the last logged value; NaN (and a non-numeric override) count as missing. Never raises: an index
-- expression that could fail would make ingest's metric_keys updates fail.
CREATE FUNCTION strata_summary_value(last double precision, override jsonb) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN override IS NULL THEN NULLIF(last, 'NaN'::double precision)
        WHEN jsonb_typeof(override) = 'number'
             AND abs(override::numeric) <= 1.7976931348623157e308
             AND (override::numeric = 0 OR abs(override::numeric) >= 2.2250738585072014e-308)
            THEN override::double precision
        ELSE NULL
    END
$$;

-- Top-N by a summary metric walks this index (backward for descending order) and stops after a page;
-- run_id last so ties come out in run id order in both directions. Cost to ingest: metric_keys updates
-- that change `last`/`override` are no longer HOT (see README "Performance / Query").
CREATE INDEX metric_keys_key_value ON metric_keys (key, strata_summary_value(last, override), run_id);

-- Default order (-created_at) and created_at ranges within a project.
CREATE INDEX runs_project_created ON runs (project_id, create_time, id);

-- History rollups: for long series, a subsequence of each chunk's points (its first and last point and
-- the minimum and maximum of every ROLLUP_CELL consecutive points) so sampled history reads ~1/8 of
-- the points. Built by the query service's rollup job from metric_chunks; a rollup row covers the
-- chunks listed in chunk_ids. Readers use a rollup only if every chunk it covers still exists (ingest
-- may compact chunks) and read uncovered chunks raw, so what ingest acknowledged is always visible.
CREATE TABLE metric_rollups (
    id          bigserial PRIMARY KEY,
    run_id      bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key_id      int NOT NULL,
    first_step  bigint NOT NULL,
    last_step   bigint NOT NULL,
    chunk_ids   bigint[] NOT NULL,
    n           int NOT NULL,
    steps       bytea NOT NULL,
    vals        bytea NOT NULL,
    times       bytea NOT NULL
);
CREATE INDEX metric_rollups_run_key ON metric_rollups (run_id, key_id, first_step);

-- Per key: points covered by rollups, points seen by the job but not rolled up yet, and whether the
-- key's chunks are in step order (keys logged out of order, or with a step logged twice across chunks,
-- are never rolled up: they are always read raw).
CREATE TABLE metric_rollup_state (
    run_id          bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key_id          int NOT NULL,
    rolled_points   bigint NOT NULL DEFAULT 0,
    pending_points  bigint NOT NULL DEFAULT 0,
    in_order        boolean NOT NULL DEFAULT true,
    update_time     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, key_id)
);

-- How far the job has looked into metric_chunks (by id). It re-reads from previous_chunk_id, one
-- pass back, so chunks whose transaction committed after a higher id was seen are still found.
CREATE TABLE metric_rollup_progress (
    singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    chunk_id           bigint NOT NULL DEFAULT 0,
    previous_chunk_id  bigint NOT NULL DEFAULT 0,
    update_time        timestamptz NOT NULL DEFAULT now()
);

-- Lets the job find new chunks (id > watermark) without scanning metric_chunks. BRIN: a few bytes per
-- 128 pages, and appending rows with growing ids costs ingest next to nothing.
CREATE INDEX metric_chunks_id_brin ON metric_chunks USING brin (id);
