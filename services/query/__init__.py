"""The query service: Run search with Mongo-style filters, history sampling and scans, grouped aggregates.

Layout (the same in every service): server.py wires the service into a server, handlers.py converts
proto <-> domain, domain.py holds the logic (no gRPC, no SQL), store.py holds the SQL, migrations/ the schema.
"""
