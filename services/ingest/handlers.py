"""gRPC handlers of the ingest service: proto <-> domain calls, nothing else.

One servicer for every RPC of strata.ingest.v1.IngestService. Requests become domain values and
domain results become responses through convert.py; the rules, transactions and SQL live in the
feature subpackages (runs/, metrics/, uploads/, run_files/, media/).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import ingest_service_pb2_grpc
from strata.wire.transfer import encode_read_response

from ..common.context import current_principal
from ..common.db import timeout_from
from ..common.deps import Deps
from ..common.errors import InvalidArgument, Reason
from ..common.names import parse_child, parse_project, parse_run
from . import convert
from .media import domain as media
from .metrics import domain as metrics
from .metrics.group import committers_of
from .metrics.limits import MAX_BATCH_POINTS
from .run_files.domain import RunFiles
from .runs import domain as runs
from .runs.delete import delete_run
from .uploads.domain import BlobAccess, uploads_of

Context = grpc.aio.ServicerContext


class IngestServiceHandlers(ingest_service_pb2_grpc.IngestServiceServicer):
    """Runs, the metric stream, blobs and upload sessions, and run files."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    # --- runs ---

    async def CreateRun(self, request: pb.CreateRunRequest, context: Context) -> pb.CreateRunResponse:
        row, summary, resumed = await runs.create_run(
            self.deps, convert.new_run(request), timeout_from(context)
        )
        return pb.CreateRunResponse(run=convert.run_pb((row, summary)), resumed=resumed)

    async def GetRun(self, request: pb.GetRunRequest, context: Context) -> pb.GetRunResponse:
        loaded = await runs.get_run(self.deps, parse_run(request.name, "name"), timeout_from(context))
        return pb.GetRunResponse(run=convert.run_pb(loaded))

    async def UpdateRun(self, request: pb.UpdateRunRequest, context: Context) -> pb.UpdateRunResponse:
        loaded = await runs.update_run(self.deps, convert.run_update(request), timeout_from(context))
        return pb.UpdateRunResponse(run=convert.run_pb(loaded))

    async def FinishRun(self, request: pb.FinishRunRequest, context: Context) -> pb.FinishRunResponse:
        name = parse_run(request.name, "name")
        loaded = await runs.finish_run(
            self.deps, name, request.state, request.exit_code, timeout_from(context)
        )
        return pb.FinishRunResponse(run=convert.run_pb(loaded))

    async def DeleteRun(self, request: pb.DeleteRunRequest, context: Context) -> pb.DeleteRunResponse:
        await delete_run(self.deps, parse_run(request.name, "name"), timeout_from(context))
        return pb.DeleteRunResponse()

    async def SendHeartbeat(
        self, request: pb.SendHeartbeatRequest, context: Context
    ) -> pb.SendHeartbeatResponse:
        stop = await runs.heartbeat(self.deps, parse_run(request.name, "name"), timeout_from(context))
        return pb.SendHeartbeatResponse(should_stop=stop)

    # --- the metric stream ---

    async def StreamMetrics(
        self, requests: AsyncIterator[pb.StreamMetricsRequest], context: Context
    ) -> AsyncIterator[pb.StreamMetricsResponse]:
        it = requests.__aiter__()
        first = await anext(it, None)
        if first is None or first.WhichOneof("kind") != "open":
            raise InvalidArgument(
                "open", Reason.STREAM_NOT_OPEN, "the first message of a stream must be `open`"
            )
        run = parse_run(first.open.run, "open.run")
        session = await metrics.open_stream(self.deps, run, first.open.stream_id, timeout_from(context))
        yield pb.StreamMetricsResponse(
            opened=pb.StreamOpened(
                committed_sequence=session.committed,
                next_step=session.next_step,
                max_batch_points=MAX_BATCH_POINTS,
            )
        )
        # closed with this handler (not whenever the collector finalizes it): the stream's reader stops
        # and it leaves the open-streams gauge as soon as the call ends
        async with contextlib.aclosing(
            metrics.pump(session, convert.batches(it), committers_of(self.deps))
        ) as acks:
            async for ack in acks:
                yield convert.ack_pb(ack)

    # --- blobs ---

    async def FindMissingBlobs(
        self, request: pb.FindMissingBlobsRequest, context: Context
    ) -> pb.FindMissingBlobsResponse:
        parent = parse_project(request.parent, "parent")
        missing = await BlobAccess(self.deps, timeout_from(context)).find_missing(
            current_principal(), parent, [convert.digest(d) for d in request.digests]
        )
        return pb.FindMissingBlobsResponse(missing=[convert.digest_pb(d) for d in missing])

    async def ProveBlobPossession(
        self, request: pb.ProveBlobPossessionRequest, context: Context
    ) -> pb.ProveBlobPossessionResponse:
        parent = parse_project(request.parent, "parent")
        accepted, rejected = await BlobAccess(self.deps, timeout_from(context)).prove(
            current_principal(), parent, [convert.proof(p) for p in request.proofs]
        )
        return pb.ProveBlobPossessionResponse(
            accepted=[convert.digest_pb(d) for d in accepted],
            rejected=[convert.digest_pb(d) for d in rejected],
        )

    async def BatchUploadBlobs(
        self, request: pb.BatchUploadBlobsRequest, context: Context
    ) -> pb.BatchUploadBlobsResponse:
        parent = parse_project(request.parent, "parent")
        blobs = [(convert.digest(b.digest), b.data) for b in request.blobs]
        stored = await BlobAccess(self.deps, timeout_from(context)).batch_upload(
            current_principal(), parent, blobs, request.ByteSize()
        )
        return pb.BatchUploadBlobsResponse(stored=[convert.digest_pb(d) for d in stored])

    # --- upload sessions ---

    async def CreateUploadSession(
        self, request: pb.CreateUploadSessionRequest, context: Context
    ) -> pb.CreateUploadSessionResponse:
        parent = parse_project(request.parent, "parent")
        view = await uploads_of(self.deps).create(
            current_principal(), parent, request.expected_size, request.expected_sha256
        )
        return pb.CreateUploadSessionResponse(session=convert.session_pb(view))

    async def GetUploadSession(
        self, request: pb.GetUploadSessionRequest, context: Context
    ) -> pb.GetUploadSessionResponse:
        name = parse_child(request.name, "uploads", "name")
        view = await uploads_of(self.deps).get(current_principal(), name)
        return pb.GetUploadSessionResponse(session=convert.session_pb(view))

    async def UploadChunks(
        self, request_iterator: AsyncIterator[pb.UploadChunksRequest], context: Context
    ) -> pb.UploadChunksResponse:
        first = await anext(request_iterator.__aiter__(), None)
        if first is None or first.WhichOneof("kind") != "session":
            raise InvalidArgument("session", Reason.FIELD_REQUIRED, "the first message must name the session")
        name = parse_child(first.session, "uploads", "session")
        view = await uploads_of(self.deps).stream(current_principal(), name, convert.chunks(request_iterator))
        return pb.UploadChunksResponse(session=convert.session_pb(view))

    async def CommitUpload(
        self, request: pb.CommitUploadRequest, context: Context
    ) -> pb.CommitUploadResponse:
        name = parse_child(request.name, "uploads", "name")
        view, digest = await uploads_of(self.deps).commit(current_principal(), name, request.sha256)
        return pb.CommitUploadResponse(session=convert.session_pb(view), blob=convert.digest_pb(digest))

    async def AbortUpload(self, request: pb.AbortUploadRequest, context: Context) -> pb.AbortUploadResponse:
        name = parse_child(request.name, "uploads", "name")
        await uploads_of(self.deps).abort(current_principal(), name)
        return pb.AbortUploadResponse()

    # --- run files ---

    async def AddRunFiles(self, request: pb.AddRunFilesRequest, context: Context) -> pb.AddRunFilesResponse:
        run = parse_run(request.run, "run")
        files = [convert.run_file(f) for f in request.files]
        added = await RunFiles(self.deps, timeout_from(context)).add(run, files)
        return pb.AddRunFilesResponse(files=[convert.run_file_pb(f) for f in added])

    async def ListRunFiles(
        self, request: pb.ListRunFilesRequest, context: Context
    ) -> pb.ListRunFilesResponse:
        run = parse_run(request.run, "run")
        files, token = await RunFiles(self.deps, timeout_from(context)).list(
            run, request.page_size, request.page_token
        )
        return pb.ListRunFilesResponse(files=[convert.run_file_pb(f) for f in files], next_page_token=token)

    async def ReadRunFile(self, request: pb.ReadRunFileRequest, context: Context) -> AsyncIterator[bytes]:
        """Yields encoded ReadRunFileResponse messages (served with the bulk codec, see server.py)."""
        run = parse_run(request.run, "run")
        async for offset, data in RunFiles(self.deps, timeout_from(context)).read(
            run, request.path, request.offset, request.length
        ):
            yield encode_read_response(offset, data)

    # --- media (rich values) ---

    async def AddMediaEntries(
        self, request: pb.AddMediaEntriesRequest, context: Context
    ) -> pb.AddMediaEntriesResponse:
        run = parse_run(request.run, "run")
        entries = [convert.media_entry(e) for e in request.entries]
        added = await media.add_entries(self.deps, run, entries, timeout_from(context))
        return pb.AddMediaEntriesResponse(added=added)
