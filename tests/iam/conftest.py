"""Fixtures of the iam tests.

The keys-mode server (`keys_server`, with principal helpers) stays central in tests/fixtures/iam.py:
tests of the other services use it too. Fixtures only one module needs live in that module.
"""
