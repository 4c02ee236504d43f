"""The iam service: users, teams, roles, service accounts, API keys, projects and the audit log.

Layout (the same in every service): server.py wires the service into a server, handlers.py converts
proto <-> domain, convert.py builds and reads the messages, and one subpackage per feature holds its
domain.py (logic, no gRPC, no SQL) and store.py (SQL): accounts/ (users, teams, service accounts, API
keys), projects/, audit/. migrations/ holds the schema; admin_key.py is the break-glass key tool.
"""
