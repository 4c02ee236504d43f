"""Domain logic of the iam service (no gRPC, no SQL). Built in issue 8 (teams and trust)."""
