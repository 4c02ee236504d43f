"""The ingest service: runs, the metric stream, uploads (blobs and upload sessions) and run files.

Layout (the same in every service): server.py wires the service into a server, handlers.py is the one
servicer (proto <-> domain calls), convert.py turns messages into domain values and back, and each
feature is a subpackage with domain.py (the rules; it owns its transactions; no gRPC, no SQL) and
store.py (the SQL). migrations/ holds the schema.

Where each feature lives:
  runs/       the run lifecycle: create, resume, update, finish, heartbeat, crash detection
              (domain.py, store.py; states.py names the RunState numbers; limits.py the field limits)
  metrics/    the metric stream: batch validation, exactly-once group commit, metric_chunks rows and
              per-key summaries (domain.py, store.py, chunks.py, limits.py)
  uploads/    files and blobs: resumable upload sessions, content addressing, small-blob batches and
              proof of possession (domain.py, store.py, stream.py for one UploadChunks stream,
              resumable_hash.py, possession.py, states.py)
  run_files/  blobs attached to a run by path: add, list, read (domain.py, store.py)
"""
