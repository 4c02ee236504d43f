"""Tests of the registry service: versions, aliases, WatchAlias, GC, downloads, SDK and CLI."""
