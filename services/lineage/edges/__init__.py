"""Retroactive lineage edges: CreateLineageEdge."""
