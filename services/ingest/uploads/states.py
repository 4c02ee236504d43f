"""Upload session states, named once from the generated strata.ingest.v1.UploadState enum.

The upload_sessions table stores these numbers; the store binds them as SQL parameters.
"""

from __future__ import annotations

from strata.ingest.v1 import upload_pb2

OPEN = upload_pb2.UPLOAD_STATE_OPEN
COMMITTED = upload_pb2.UPLOAD_STATE_COMMITTED
ABORTED = upload_pb2.UPLOAD_STATE_ABORTED
EXPIRED = upload_pb2.UPLOAD_STATE_EXPIRED
