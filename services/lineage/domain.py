"""Domain logic of the lineage service (no gRPC, no SQL). Built in issue 6 (lineage)."""
