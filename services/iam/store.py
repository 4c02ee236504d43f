"""SQL of the iam service. Built in issue 8 (teams and trust)."""
