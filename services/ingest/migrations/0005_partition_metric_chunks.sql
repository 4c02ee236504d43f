-- metric_chunks becomes a declaratively partitioned table: PARTITION BY HASH (run_id), 16 partitions.
-- Every read names one run (or a list of runs), so it touches one partition per run; each partition
-- is vacuumed, indexed and (later) moved to a tablespace or a Citus worker on its own. Rows keep their
-- ids: the id sequence (metric_chunks_id_seq, which the rollup job reads) carries over unchanged.
--
-- Existing rows are copied over inside this migration's transaction (writers wait on the lock).
ALTER TABLE metric_chunks RENAME TO metric_chunks_unpartitioned;
ALTER SEQUENCE metric_chunks_id_seq OWNED BY NONE;
ALTER INDEX metric_chunks_run_key_step RENAME TO metric_chunks_unpartitioned_run_key_step;

CREATE TABLE metric_chunks (
    id          bigint NOT NULL DEFAULT nextval('metric_chunks_id_seq'),
    run_id      bigint NOT NULL,
    key_id      int NOT NULL,
    first_step  bigint NOT NULL,
    last_step   bigint NOT NULL,
    n           int NOT NULL,
    steps       bytea NOT NULL,
    vals        bytea NOT NULL,
    times       bytea NOT NULL
) PARTITION BY HASH (run_id);
ALTER SEQUENCE metric_chunks_id_seq OWNED BY metric_chunks.id;
-- Kept uncompressed and inline, as before (see 0001_init.sql); the storage mode is inherited by the
-- partitions, toast_tuple_target is a per-partition setting.
ALTER TABLE metric_chunks ALTER COLUMN steps SET STORAGE EXTERNAL,
                          ALTER COLUMN vals SET STORAGE EXTERNAL,
                          ALTER COLUMN times SET STORAGE EXTERNAL;

DO $$
BEGIN
    FOR i IN 0..15 LOOP
        EXECUTE format(
            'CREATE TABLE metric_chunks_p%s PARTITION OF metric_chunks
             FOR VALUES WITH (MODULUS 16, REMAINDER %s) WITH (toast_tuple_target = 8160)', i, i);
    END LOOP;
END
$$;

INSERT INTO metric_chunks (id, run_id, key_id, first_step, last_step, n, steps, vals, times)
SELECT id, run_id, key_id, first_step, last_step, n, steps, vals, times FROM metric_chunks_unpartitioned;

CREATE INDEX metric_chunks_run_key_step ON metric_chunks (run_id, key_id, first_step);
-- The query service's rollup job finds new rows by id through a BRIN index; on a database where it
-- exists already (the query migrations ran before this one) it is recreated on the new table. On a new
-- database the query migration creates it afterwards, on the partitioned table.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'metric_chunks_id_brin') THEN
        DROP INDEX metric_chunks_id_brin;
        CREATE INDEX metric_chunks_id_brin ON metric_chunks USING brin (id);
    END IF;
END
$$;

DROP TABLE metric_chunks_unpartitioned;
ANALYZE metric_chunks;
