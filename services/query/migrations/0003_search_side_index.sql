-- Side indexes for the two kinds of runs-table filter that no index on `runs` answers: a numeric range
-- on a config key (`config.lr > 0.01`) and a $regex on a text attribute or a string config value.
-- Both tables only narrow the search to candidate runs; the search still applies the real condition to
-- every candidate (services/query/search/candidates.py), so a stale or colliding entry can add
-- candidates but the tables must never miss one: triggers on `runs` keep them in step in the same
-- transaction as the write (ingest's code does not know about them).

-- The key of one config path within one project: a 64-bit hash (a collision only adds candidates).
CREATE FUNCTION strata_config_key(project_id bigint, path text[]) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT hashtextextended(to_jsonb(path)::text, project_id)
$$;

-- Every number and string reachable from the config's top object through objects only, at most
-- 6 keys deep (the paths a filter's `#>` reads; list elements and deeper values are not indexed:
-- a path with a list index or more than 6 segments gets no side index). One row per deepest
-- key: its path and value (a lateral chain, several times faster than a recursive CTE).
CREATE FUNCTION strata_config_leaves(config jsonb) RETURNS TABLE (path text[], value jsonb)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT l.path, l.value
    FROM jsonb_each(CASE WHEN jsonb_typeof(config) = 'object' THEN config END) AS e1
    LEFT JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(e1.value) = 'object' THEN e1.value END) AS e2 ON true
    LEFT JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(e2.value) = 'object' THEN e2.value END) AS e3 ON true
    LEFT JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(e3.value) = 'object' THEN e3.value END) AS e4 ON true
    LEFT JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(e4.value) = 'object' THEN e4.value END) AS e5 ON true
    LEFT JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(e5.value) = 'object' THEN e5.value END) AS e6 ON true
    CROSS JOIN LATERAL (
        SELECT array_remove(ARRAY[e1.key, e2.key, e3.key, e4.key, e5.key, e6.key], NULL) AS path,
               COALESCE(e6.value, e5.value, e4.value, e3.value, e2.value, e1.value) AS value
    ) AS l
    WHERE jsonb_typeof(l.value) IN ('number', 'string')
$$;

-- A JSON number as float8, monotone (x <= y implies f(x) <= f(y)) and never raising: beyond float8's
-- range it is +-Infinity, below 1e-300 in magnitude it is 0. Queries convert their bound with the same
-- function and compare non-strictly, so rounding can add candidates but never lose one.
CREATE FUNCTION strata_config_number(value jsonb) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value::numeric > 1e308 THEN 'Infinity'::float8
        WHEN value::numeric < -1e308 THEN '-Infinity'::float8
        WHEN abs(value::numeric) < 1e-300 THEN 0::float8
        ELSE value::numeric::float8
    END
$$;

-- One row per (run, numeric config leaf). A range on config.<path> is an index range scan on
-- (key, num); run_id is in the index so the scan reads no table pages.
CREATE TABLE run_config_numbers (
    run_id  bigint NOT NULL,
    key     bigint NOT NULL,
    num     double precision NOT NULL
);
CREATE INDEX run_config_numbers_key_num ON run_config_numbers (key, num, run_id);
CREATE INDEX run_config_numbers_run ON run_config_numbers (run_id);

-- Case folding for trigrams: ASCII letters only, one character to one character, independent of the
-- database locale (so a literal folded alone folds like the same characters inside a longer value).
CREATE FUNCTION strata_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT translate(value, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
$$;

-- Values longer than this many characters are not split into trigrams: they get the field's
-- "long value" code instead, which every regex search on that field takes as a candidate.
CREATE FUNCTION strata_trigram_limit() RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 2000 $$;

-- The code of one trigram of one field of one project: hashtext of "<project> <field> <trigram>".
-- `field` is display_name, run_id, job_type, group, user, tags, or "c" + the config path as JSON.
CREATE FUNCTION strata_trigram_code(project_id bigint, field text, trigram text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT hashtext(project_id::text || ' ' || field || ' ' || trigram) $$;

-- The codes of a value's trigrams: consecutive character triples of the folded value, or the
-- single trigram '<long>' for a value longer than strata_trigram_limit(). The triggers below inline
-- this same expression (a set-returning helper costs more than the rest of indexing a run).
CREATE FUNCTION strata_trigram_codes(project_id bigint, field text, value text) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY(
        SELECT DISTINCT strata_trigram_code(project_id, field,
                                            CASE WHEN f.long THEN '<long>' ELSE substr(f.v, i, 3) END)
        FROM (SELECT strata_fold(value) AS v, length(value) > strata_trigram_limit() AS long) AS f,
             generate_series(1, CASE WHEN f.long THEN 1 ELSE length(f.v) - 2 END) AS i
    )
$$;

-- The trigram field of a config path: "c" + the path as JSON.
CREATE FUNCTION strata_config_field(path text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 'c' || to_jsonb(path)::text $$;

-- The codes a regex's required literals (of one alternative) ask for: all their trigrams, at most 64.
CREATE FUNCTION strata_literal_codes(project_id bigint, field text, literals text[]) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY(
        SELECT DISTINCT c FROM unnest(literals) AS l, unnest(strata_trigram_codes(project_id, field, l)) AS c
        LIMIT 64
    )
$$;

-- The searchable text of a run: its text columns, each tag, and every string config value, each
-- with its trigram field.
CREATE FUNCTION strata_run_texts(
    display_name text, run_id text, job_type text, run_group text, author_name text, tags text[], config jsonb
) RETURNS TABLE (field text, value text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 'display_name', display_name
    UNION ALL SELECT 'run_id', run_id
    UNION ALL SELECT 'job_type', job_type
    UNION ALL SELECT 'group', run_group
    UNION ALL SELECT 'user', author_name
    UNION ALL SELECT 'tags', tag FROM unnest(tags) AS tag
    UNION ALL SELECT strata_config_field(l.path), l.value #>> '{}'
              FROM strata_config_leaves(config) AS l WHERE jsonb_typeof(l.value) = 'string'
$$;

-- One row per run: the trigram codes of all its searchable text. A GIN index (built-in int[] operators:
-- `codes @> ARRAY[...]`) intersects the posting lists of a regex's required trigrams.
CREATE TABLE run_text_trigrams (
    run_id  bigint PRIMARY KEY,
    codes   int[] NOT NULL
);
CREATE INDEX run_text_trigrams_codes ON run_text_trigrams USING gin (codes);

-- Maintenance. Inserts (including COPY) are indexed per statement from the transition table; updates
-- per row, only when a searchable column changed (ingest's frequent heartbeat and metric updates do
-- not name these columns, so they cost nothing here); deletes (also cascaded from projects) per statement.
CREATE FUNCTION strata_search_index_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO run_config_numbers (run_id, key, num)
        SELECT n.id, strata_config_key(n.project_id, l.path), strata_config_number(l.value)
        FROM strata_new_runs AS n, strata_config_leaves(n.config) AS l
        WHERE jsonb_typeof(l.value) = 'number';
    INSERT INTO run_text_trigrams (run_id, codes)
        SELECT n.id, ARRAY(
            SELECT strata_trigram_code(n.project_id, f.field, CASE WHEN f.long THEN '<long>' ELSE substr(f.v, i, 3) END)
            FROM (SELECT x.field, strata_fold(x.value) AS v, length(x.value) > strata_trigram_limit() AS long
                  FROM strata_run_texts(n.display_name, n.run_id, n.job_type, n.run_group,
                                        n.author_name, n.tags, n.config) AS x) AS f,
                 generate_series(1, CASE WHEN f.long THEN 1 ELSE length(f.v) - 2 END) AS i)
        FROM strata_new_runs AS n;
    RETURN NULL;
END $$;

CREATE FUNCTION strata_search_index_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.config IS DISTINCT FROM NEW.config OR OLD.project_id IS DISTINCT FROM NEW.project_id THEN
        DELETE FROM run_config_numbers WHERE run_id = OLD.id;
        INSERT INTO run_config_numbers (run_id, key, num)
            SELECT NEW.id, strata_config_key(NEW.project_id, l.path), strata_config_number(l.value)
            FROM strata_config_leaves(NEW.config) AS l WHERE jsonb_typeof(l.value) = 'number';
    END IF;
    DELETE FROM run_text_trigrams WHERE run_id = OLD.id;
    INSERT INTO run_text_trigrams (run_id, codes)
        SELECT NEW.id, ARRAY(
            SELECT strata_trigram_code(NEW.project_id, f.field, CASE WHEN f.long THEN '<long>' ELSE substr(f.v, i, 3) END)
            FROM (SELECT x.field, strata_fold(x.value) AS v, length(x.value) > strata_trigram_limit() AS long
                  FROM strata_run_texts(NEW.display_name, NEW.run_id, NEW.job_type, NEW.run_group,
                                        NEW.author_name, NEW.tags, NEW.config) AS x) AS f,
                 generate_series(1, CASE WHEN f.long THEN 1 ELSE length(f.v) - 2 END) AS i);
    RETURN NULL;
END $$;

CREATE FUNCTION strata_search_index_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM run_config_numbers WHERE run_id IN (SELECT id FROM strata_old_runs);
    DELETE FROM run_text_trigrams WHERE run_id IN (SELECT id FROM strata_old_runs);
    RETURN NULL;
END $$;

CREATE FUNCTION strata_search_index_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE run_config_numbers, run_text_trigrams;
    RETURN NULL;
END $$;

CREATE TRIGGER runs_search_index_insert AFTER INSERT ON runs
    REFERENCING NEW TABLE AS strata_new_runs
    FOR EACH STATEMENT EXECUTE FUNCTION strata_search_index_insert();
CREATE TRIGGER runs_search_index_update
    AFTER UPDATE OF config, display_name, run_id, job_type, run_group, author_name, tags, project_id ON runs
    FOR EACH ROW
    WHEN (OLD.config IS DISTINCT FROM NEW.config OR OLD.display_name IS DISTINCT FROM NEW.display_name
          OR OLD.run_id IS DISTINCT FROM NEW.run_id OR OLD.job_type IS DISTINCT FROM NEW.job_type
          OR OLD.run_group IS DISTINCT FROM NEW.run_group OR OLD.author_name IS DISTINCT FROM NEW.author_name
          OR OLD.tags IS DISTINCT FROM NEW.tags OR OLD.project_id IS DISTINCT FROM NEW.project_id)
    EXECUTE FUNCTION strata_search_index_update();
CREATE TRIGGER runs_search_index_delete AFTER DELETE ON runs
    REFERENCING OLD TABLE AS strata_old_runs
    FOR EACH STATEMENT EXECUTE FUNCTION strata_search_index_delete();
CREATE TRIGGER runs_search_index_truncate AFTER TRUNCATE ON runs
    FOR EACH STATEMENT EXECUTE FUNCTION strata_search_index_truncate();

-- Backfill the runs that exist when this migration runs.
INSERT INTO run_config_numbers (run_id, key, num)
    SELECT r.id, strata_config_key(r.project_id, l.path), strata_config_number(l.value)
    FROM runs AS r, strata_config_leaves(r.config) AS l
    WHERE jsonb_typeof(l.value) = 'number';
INSERT INTO run_text_trigrams (run_id, codes)
    SELECT r.id, ARRAY(
            SELECT strata_trigram_code(r.project_id, f.field, CASE WHEN f.long THEN '<long>' ELSE substr(f.v, i, 3) END)
            FROM (SELECT x.field, strata_fold(x.value) AS v, length(x.value) > strata_trigram_limit() AS long
                  FROM strata_run_texts(r.display_name, r.run_id, r.job_type, r.run_group,
                                        r.author_name, r.tags, r.config) AS x) AS f,
                 generate_series(1, CASE WHEN f.long THEN 1 ELSE length(f.v) - 2 END) AS i)
    FROM runs AS r;
