"""Aliases: set, remove and revert with a complete history, and WatchAlias across replicas."""
