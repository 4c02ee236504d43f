"""Graph walks: TraceUpstream, TraceDownstream and AnalyzeImpact."""
