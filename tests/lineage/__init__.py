"""Tests of the lineage service: traversal, impact, diffs, export, retroactive edges, SDK and CLI."""
