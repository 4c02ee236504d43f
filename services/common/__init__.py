"""Code every service shares: configuration, logging, errors, database, blob storage, auth, the server chassis."""
