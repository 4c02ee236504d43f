"""Fixtures of the shared-code tests. PostgreSQL, S3 and the servers are the central, session-scoped
ones of tests/conftest.py and tests/fixtures/; fixtures only one module needs live in that module."""
