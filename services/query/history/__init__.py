"""Metric history: GetHistory, BatchGetHistory, ScanHistory, AggregateHistory, ListMetricKeys."""
