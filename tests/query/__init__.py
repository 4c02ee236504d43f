"""Tests of the query service: search, paging, history, aggregates, SDK and CLI."""
