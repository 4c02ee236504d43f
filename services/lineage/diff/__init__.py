"""Version diffs: DiffArtifactVersions (manifest, metadata, producer config and upstream lineage)."""
