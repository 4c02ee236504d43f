"""Run search: SearchRuns, CountRuns and GroupRuns over a project's runs (see ../__init__.py)."""
