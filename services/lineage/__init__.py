"""The lineage service: the run <-> artifact graph: traversal, impact analysis, version diffs, export.

Layout (the same in every service):
  server.py      wiring only
  handlers.py    proto <-> domain calls, nothing else
  convert.py     protobuf messages <-> the domain's requests and results
  model.py       the graph's dataclasses and kinds, shared by every feature
  nodes/         the call's transaction, who may see which nodes, resolving the nodes callers name
  trace/         TraceUpstream, TraceDownstream, AnalyzeImpact (the breadth-first walk)
  diff/          DiffArtifactVersions
  export/        ExportLineageGraph (render.py: JSON, DOT, Mermaid)
  edges/         CreateLineageEdge (retroactive links)
  migrations/    the schema
Each feature has domain.py (logic, owns its transaction, no SQL, no protobuf) and store.py (SQL only).
"""
