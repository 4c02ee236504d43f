"""Fixtures of the query tests.

Each module loads its own runs and points straight into PostgreSQL through tests/fixtures/query.py
(module-scoped `env` / `client` fixtures next to the tests that read them), so the query service is
tested without depending on the ingest write path. The server itself comes from tests/conftest.py.
"""
