"""The query service: run search with Mongo-style filters, history sampling and scans, grouped aggregates.

Layout (server.py / handlers.py / domain*.py / store*.py / migrations/ as in every service):
  server.py          wiring: the gRPC handlers and the rollup background job
  handlers.py        proto <-> domain, nothing else
  attrs.py           the attribute-path grammar (config.<path>, summary.<metric>[.agg], escaping)
  filters.py         Mongo-style filter documents -> a validated, typed tree
  cursor.py          opaque keyset page tokens bound to their query
  domain.py          SearchRuns, CountRuns, GroupRuns, ListMetricKeys
  domain_history.py  GetHistory, BatchGetHistory, ScanHistory (validation and orchestration)
  history_read.py    reading one key's points raw or through rollups
  sampling.py        the deterministic sampling algorithm (numpy)
  scan.py            step-ordered, bounded-memory merge of several keys for ScanHistory
  aggregate.py       AggregateHistory (curves across runs, grouped)
  rollup.py          the rollup job
  sqlgen.py          filter tree / order keys -> parameterised SQL fragments
  store.py           SQL of search, count, group (the ordered-walk plan)
  store_history.py   SQL of history reads and of the rollup job
  migrations/        indexes and the query-owned rollup tables
"""
