"""Users, teams and their members, service accounts and API keys."""
