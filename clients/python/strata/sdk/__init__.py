"""The high-level, W&B-shaped SDK built on strata.client: runs (run.py), artifacts (artifact.py),
the public query API (api.py) and file transfers (transfer.py)."""
