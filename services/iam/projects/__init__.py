"""Projects as the iam service manages them: create, get, list, update settings."""
