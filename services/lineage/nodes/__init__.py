"""Resolving the nodes callers name, deciding who may see them, and the call's transaction."""
