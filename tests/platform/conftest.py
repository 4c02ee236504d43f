"""Platform tests: packaging, the schema and its lint rules, the polyglot client, smoke and end-to-end
workflows across all services. They use the central fixtures of tests/conftest.py and tests/fixtures/."""
