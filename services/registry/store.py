"""SQL of the registry service. Built in issue 5 (registry) / issue 4 (downloads)."""
