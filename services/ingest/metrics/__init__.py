"""The metric stream: columnar batches committed exactly once, stored as metric_chunks rows, summarized
per key."""
