"""Graph export: ExportLineageGraph (JSON, Graphviz DOT, Mermaid)."""
