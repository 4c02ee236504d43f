"""Strata's gRPC services. Installed as the `strata_server` package (source folder: services/)."""

__version__ = "0.1.0"
