-- The run <-> artifact version graph (owned by the lineage service; written by the registry in the
-- same transaction as log_artifact / use_artifact, so no edge is lost).

CREATE TABLE lineage_edges (
    run_id       bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    version_id   bigint NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE,
    kind         smallint NOT NULL,                    -- strata.lineage.v1.EdgeKind: 1 produced, 2 used
    create_time  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, version_id, kind)
);
CREATE INDEX lineage_edges_version ON lineage_edges (version_id, kind);
