"""SQL of the ingest service. Built in issue 3 (runs and metrics) / issue 4 (uploads)."""
