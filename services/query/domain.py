"""Domain logic of the query service (no gRPC, no SQL). Built in issue 7 (query)."""
