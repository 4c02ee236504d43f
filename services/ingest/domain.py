"""Domain logic of the ingest service (no gRPC, no SQL). Built in issue 3 (runs and metrics) / issue 4 (uploads)."""
