"""Strata's gRPC services. Installed as the `strata_server` package (source folder: services/)."""

from importlib.metadata import version

# built from clients/python/strata/VERSION, the one version number of both distributions
__version__ = version("strata-ml-server")
