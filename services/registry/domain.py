"""Domain logic of the registry service (no gRPC, no SQL). Built in issue 5 (registry) / issue 4 (downloads)."""
