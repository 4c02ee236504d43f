-- Reports (owned by the reports service): the current content of each report and every saved
-- revision. `content` is the serialized strata.reports.v1.Report holding title, description and
-- blocks (the typed spec); the service validates it before it is written.

CREATE TABLE reports (
    id            bigserial PRIMARY KEY,
    project_id    bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    report_id     text NOT NULL,
    title         text NOT NULL,
    revision      bigint NOT NULL,
    content       bytea NOT NULL,
    creator_name  text NOT NULL,
    creator_kind  smallint NOT NULL,
    create_time   timestamptz NOT NULL DEFAULT now(),
    updater_name  text NOT NULL,
    updater_kind  smallint NOT NULL,
    update_time   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, report_id)
);
CREATE INDEX reports_by_update ON reports (project_id, update_time DESC, id DESC);

CREATE TABLE report_revisions (
    report_pk      bigint NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    revision       bigint NOT NULL,
    title          text NOT NULL,
    content        bytea NOT NULL,
    author_name    text NOT NULL,
    author_kind    smallint NOT NULL,
    create_time    timestamptz NOT NULL DEFAULT now(),
    action         text NOT NULL,                  -- create, update, revert
    reverted_from  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (report_pk, revision)
);
