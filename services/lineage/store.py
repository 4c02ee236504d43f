"""SQL of the lineage service. Built in issue 6 (lineage)."""
