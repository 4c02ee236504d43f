"""The registry service: Artifact versions, aliases with history, WatchAlias, TTL and garbage collection, downloads.

Layout (the same in every service): server.py wires the service into a server, handlers.py converts
proto <-> domain through convert.py, and each feature is a subpackage with domain.py (the logic: no gRPC,
no SQL; it owns its transaction) and store.py (the SQL): versions/ (drafts, commits, reads, edits and
manifests), aliases/ (moves with history, WatchAlias), gc/ (TTL, garbage collection, storage usage),
blobs/ (ReadBlob, BatchReadBlobs). model.py holds the domain objects they share, lookup.py the lookups
they all start with; migrations/ the schema.
"""
