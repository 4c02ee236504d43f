-- Links of a registry collection: a version of the registry's collection (an ordinary committed
-- version row, whose manifest is a copy of the source's, so resolution, downloads, aliases and their
-- history work unchanged) -> the version of another project it links to.
CREATE TABLE artifact_links (
    version_id        bigint PRIMARY KEY REFERENCES artifact_versions(id) ON DELETE CASCADE,
    source_version_id bigint NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE,
    create_time       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX artifact_links_source ON artifact_links (source_version_id);
