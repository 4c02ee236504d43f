"""The iam service: Users, teams, roles, service accounts, API keys, projects and the audit log.

Layout (the same in every service): server.py wires the service into a server, handlers.py converts
proto <-> domain, domain.py holds the logic (no gRPC, no SQL), store.py holds the SQL, migrations/ the schema.
"""
