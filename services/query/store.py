"""SQL of the query service. Built in issue 7 (query)."""
