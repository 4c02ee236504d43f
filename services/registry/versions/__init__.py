"""Artifact versions: drafts, atomic commits, reads and lists, edits and deletion, and their manifests."""
