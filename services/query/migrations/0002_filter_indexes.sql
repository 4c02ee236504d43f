-- Indexes for the filters of a runs table (quick filters and config equality), so a selective filter
-- finds its few runs without reading every run of the project.

-- Config equality filters (`config.<path> == value`, `$in`): the search adds a containment prefilter
-- (`config @> {"path": value}`) that this index answers, then rechecks the exact condition
-- (services/query/search/containment.py). jsonb_path_ops: one hash per path-to-value, smaller than the
-- default jsonb_ops and enough for @>.
CREATE INDEX runs_config_path ON runs USING gin (config jsonb_path_ops);

-- Quick filters: job_type, group, user (equality and $in) and tags (`tags: "x"` is written as
-- `tags @> ARRAY['x']`, `$in` as `tags && ...`, both served by the GIN index).
CREATE INDEX runs_project_job_type ON runs (project_id, job_type);
CREATE INDEX runs_project_group ON runs (project_id, run_group);
CREATE INDEX runs_project_author ON runs (project_id, author_name);
CREATE INDEX runs_tags ON runs USING gin (tags);

-- Cost to ingest: runs updates are not HOT (runs_running_heartbeat indexes heartbeat_time), so each
-- per-batch update also adds entries to these indexes; bench/bench_query.py measures it.
