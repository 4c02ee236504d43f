"""Links of versions from any project into a registry collection."""
