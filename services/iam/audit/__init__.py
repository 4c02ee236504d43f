"""The audit log, read side: list and export events."""
