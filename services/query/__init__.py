"""The query service: run search with Mongo-style filters, history sampling and scans, grouped aggregates.

Layout (the same in every service):
  server.py          wiring: the gRPC handlers and the rollup background job
  handlers.py        proto <-> domain calls, nothing else
  convert.py         protobuf messages <-> the domain's requests and results
  search/            SearchRuns, CountRuns, GroupRuns
    domain.py          validation and orchestration (owns the read transaction)
    store.py           SQL of search, count, group (the ordered-walk plan)
    attrs.py           the attribute-path grammar (config.<path>, summary.<metric>[.agg], escaping)
    filters.py         Mongo-style filter documents -> a validated, typed tree
    sqlgen.py          filter tree / order keys -> parameterised SQL fragments
    cursor.py          keyset positions carried in the shared page-token codec (common/paging.py)
  history/           GetHistory, BatchGetHistory, ScanHistory, AggregateHistory, ListMetricKeys
    domain.py          validation and orchestration (owns the snapshot transaction)
    store.py           SQL of history reads and of the rollup job
    read.py            reading one key's points raw or through rollups
    sampling.py        the deterministic sampling algorithm (numpy)
    scan.py            step-ordered, bounded-memory merge of several keys for ScanHistory
    aggregate.py       AggregateHistory's fold of curves across runs into per-group bands
    rollup.py          the rollup background job
  migrations/        indexes and the query-owned rollup tables
"""
