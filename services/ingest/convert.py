"""Protobuf messages <-> ingest domain values: the only module besides handlers.py that builds or reads
strata.ingest.v1 messages."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
from google.protobuf import json_format
from strata.common.v1 import blob_pb2
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import media_pb2, metric_pb2, run_pb2, upload_pb2

from ..common.errors import InvalidArgument, Reason
from ..common.names import parse_project, parse_run
from ..common.runs import run_from_row, ts
from .media.domain import RawEntry
from .metrics.domain import Ack, Batch
from .run_files.domain import RunFileView
from .runs.domain import LoadedRun, NewRun, RunUpdate
from .uploads.domain import Digest, Proof, SessionView
from .uploads.stream import Chunk

# --- runs ---


def new_run(request: pb.CreateRunRequest) -> NewRun:
    return NewRun(
        project=parse_project(request.parent, "parent"),
        run_id=request.run_id,
        display_name=request.display_name,
        job_type=request.job_type,
        group=request.group,
        tags=tuple(request.tags),
        notes=request.notes,
        config_json=request.config_json,
        resume=request.resume,
        allow_out_of_order=request.allow_out_of_order_steps,
        provenance=json_format.MessageToDict(request.provenance, preserving_proto_field_name=True),
    )


def run_update(request: pb.UpdateRunRequest) -> RunUpdate:
    run = request.run
    return RunUpdate(
        run=parse_run(run.name, "run.name"),
        paths=frozenset(request.update_mask.paths),
        display_name=run.display_name,
        tags=tuple(run.tags),
        notes=run.notes,
        config_json=run.config_json,
        overrides=tuple((s.key, s.override_json) for s in run.summary),
    )


def run_pb(loaded: LoadedRun) -> run_pb2.Run:
    row, summary = loaded
    return run_from_row(row, summary)


# --- the metric stream ---


def batch(msg: metric_pb2.MetricBatch) -> Batch:
    return Batch(
        sequence=msg.sequence,
        keys=list(msg.keys),
        key_idx=np.array(msg.key_indices, dtype=np.int64),
        steps=np.array(msg.steps, dtype=np.int64),
        values=np.array(msg.values, dtype=np.float64),
        times=np.array(msg.times, dtype=np.float64),
        last_sequence=msg.last_sequence,
    )


async def batches(requests: AsyncIterator[pb.StreamMetricsRequest]) -> AsyncIterator[Batch]:
    """The batches of a StreamMetrics call after its `open` message."""
    async for request in requests:
        if request.WhichOneof("kind") != "batch":
            raise InvalidArgument(
                "batch", Reason.STREAM_NOT_OPEN, "after `open`, a stream carries only batches"
            )
        yield batch(request.batch)


def ack_pb(ack: Ack) -> pb.StreamMetricsResponse:
    return pb.StreamMetricsResponse(
        ack=metric_pb2.MetricAck(sequence=ack.sequence, committed_points=ack.committed_points)
    )


# --- blobs and upload sessions ---


def digest(d: blob_pb2.BlobDigest) -> Digest:
    return Digest(d.sha256, d.size)


def digest_pb(d: Digest) -> blob_pb2.BlobDigest:
    return blob_pb2.BlobDigest(sha256=d.sha256, size=d.size)


def proof(p: upload_pb2.PossessionProof) -> Proof:
    return Proof(digest(p.digest), p.nonce, p.proof_sha256)


def session_pb(v: SessionView) -> upload_pb2.UploadSession:
    msg = upload_pb2.UploadSession(
        name=v.name,
        expected_size=v.expected_size,
        expected_sha256=v.expected_sha256,
        committed_offset=v.committed_offset,
        max_chunk_size=v.max_chunk_size,
        state=v.state,  # type: ignore[arg-type]  # reason: protoc's .pyi takes only its enum class; any int is valid
        create_time=ts(v.create_time),
        expire_time=ts(v.expire_time),
    )
    if v.blob is not None:
        msg.blob.CopyFrom(digest_pb(v.blob))
    return msg


async def chunks(requests: AsyncIterator[pb.UploadChunksRequest]) -> AsyncIterator[Chunk]:
    """The chunks of an UploadChunks call after its first message (which names the session)."""
    async for req in requests:
        if req.WhichOneof("kind") != "chunk":
            raise InvalidArgument(
                "chunk", Reason.FIELD_REQUIRED, "only the first message may name the session"
            )
        yield Chunk(req.chunk.offset, req.chunk.data, req.chunk.crc32c)


# --- run files ---


def run_file(f: upload_pb2.RunFile) -> RunFileView:
    return RunFileView(f.path, digest(f.blob))


def run_file_pb(f: RunFileView) -> upload_pb2.RunFile:
    return upload_pb2.RunFile(path=f.path, blob=digest_pb(f.blob), create_time=ts(f.create_time))


def media_entry(e: media_pb2.MediaEntry) -> RawEntry:
    return RawEntry(e.key, e.step, e.index, e.type, digest(e.blob), e.metadata_json)
