"""The reports service: documents of headings, Markdown, run tables and charts whose data is computed
from live runs each time a panel is viewed.

Layout (the same in every service):
  server.py          wiring: the gRPC handlers
  handlers.py        proto <-> domain calls, nothing else
  convert.py         protobuf messages <-> the domain's values
  spec.py            validation of a report's typed spec (field paths in every error)
  documents/         CreateReport .. RevertReport: reports and their revisions
    domain.py          rules (revision checks, audit) and the transaction
    store.py           SQL of reports and report_revisions
  panels/            GetPanelData: one grouped query per panel over the query service's tables
    domain.py          runsets -> runs (permission-checked), orchestration in one read snapshot
    lines.py           LinePlot fold: per-group mean/median/min/max and min-max/stddev bands (numpy)
    tables.py          RunsTable / scatter / parallel-coordinates rows and bar / scalar values
  migrations/        the reports and report_revisions tables
"""
