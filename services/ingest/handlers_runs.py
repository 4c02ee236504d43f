"""gRPC handlers for runs and the metric stream: proto <-> domain, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import numpy as np
from google.protobuf import json_format
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import metric_pb2

from ..common.db import timeout_from
from ..common.errors import InvalidArgument, Reason
from ..common.names import parse_project, parse_run
from ..common.runs import run_from_row
from . import domain_metrics, domain_runs
from .limits import MAX_BATCH_POINTS


def _run(row_and_summary: tuple[Any, ...]) -> Any:
    row, summary = row_and_summary[0], row_and_summary[1]
    return run_from_row(row, summary)


def batch_from_proto(msg: metric_pb2.MetricBatch) -> domain_metrics.Batch:
    return domain_metrics.Batch(
        sequence=msg.sequence,
        keys=list(msg.keys),
        key_idx=np.array(msg.key_indices, dtype=np.int64),
        steps=np.array(msg.steps, dtype=np.int64),
        values=np.array(msg.values, dtype=np.float64),
        times=np.array(msg.times, dtype=np.float64),
    )


class RunHandlers:
    """Mixed into IngestServiceHandlers (handlers.py); `self.deps` is the server's Deps."""

    deps: Any

    def _pool(self) -> Any:
        return self.deps.pool

    async def CreateRun(
        self, request: pb.CreateRunRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateRunResponse:
        spec = domain_runs.NewRun(
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
        row, summary, resumed = await domain_runs.create_run(
            self._pool(),
            spec,
            create_entity=self.deps.authorizer.mode == "open-local",
            timeout=timeout_from(context),
        )
        return pb.CreateRunResponse(run=run_from_row(row, summary), resumed=resumed)

    async def GetRun(self, request: pb.GetRunRequest, context: grpc.aio.ServicerContext) -> pb.GetRunResponse:
        result = await domain_runs.get_run(
            self._pool(), parse_run(request.name, "name"), timeout_from(context)
        )
        return pb.GetRunResponse(run=_run(result))

    async def UpdateRun(
        self, request: pb.UpdateRunRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateRunResponse:
        run = request.run
        update = domain_runs.RunUpdate(
            run=parse_run(run.name, "run.name"),
            paths=frozenset(request.update_mask.paths),
            display_name=run.display_name,
            tags=tuple(run.tags),
            notes=run.notes,
            config_json=run.config_json,
            overrides=tuple((s.key, s.override_json) for s in run.summary),
        )
        result = await domain_runs.update_run(self._pool(), update, timeout_from(context))
        return pb.UpdateRunResponse(run=_run(result))

    async def FinishRun(
        self, request: pb.FinishRunRequest, context: grpc.aio.ServicerContext
    ) -> pb.FinishRunResponse:
        result = await domain_runs.finish_run(
            self._pool(),
            parse_run(request.name, "name"),
            request.state,
            request.exit_code,
            timeout_from(context),
        )
        return pb.FinishRunResponse(run=_run(result))

    async def SendHeartbeat(
        self, request: pb.SendHeartbeatRequest, context: grpc.aio.ServicerContext
    ) -> pb.SendHeartbeatResponse:
        stop = await domain_runs.heartbeat(
            self._pool(), parse_run(request.name, "name"), timeout_from(context)
        )
        return pb.SendHeartbeatResponse(should_stop=stop)

    async def StreamMetrics(
        self, requests: AsyncIterator[pb.StreamMetricsRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.StreamMetricsResponse]:
        it = requests.__aiter__()
        first = await anext(it, None)
        if first is None or first.WhichOneof("kind") != "open":
            raise InvalidArgument(
                "open", Reason.STREAM_NOT_OPEN, "the first message of a stream must be `open`"
            )
        run = parse_run(first.open.run, "open.run")
        session = await domain_metrics.open_stream(
            self._pool(), run, first.open.stream_id, timeout_from(context)
        )
        yield pb.StreamMetricsResponse(
            opened=pb.StreamOpened(
                committed_sequence=session.committed,
                next_step=session.next_step,
                max_batch_points=MAX_BATCH_POINTS,
            )
        )
        async for ack in domain_metrics.pump(session, _batches(it)):
            yield pb.StreamMetricsResponse(
                ack=metric_pb2.MetricAck(sequence=ack.sequence, committed_points=ack.committed_points)
            )


async def _batches(requests: AsyncIterator[pb.StreamMetricsRequest]) -> AsyncIterator[domain_metrics.Batch]:
    async for request in requests:
        if request.WhichOneof("kind") != "batch":
            raise InvalidArgument(
                "batch", Reason.STREAM_NOT_OPEN, "after `open`, a stream carries only batches"
            )
        yield batch_from_proto(request.batch)
