"""Strata as separate service processes behind one gRPC router (nginx)."""
