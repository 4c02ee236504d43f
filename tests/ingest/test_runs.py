"""Runs over a real channel: create (generated ids, validation, provenance, author, project on first
use), resume semantics, updates (field mask, JSON merge patch, summary overrides), idempotent finish,
heartbeats, crashed-run detection, and the audit record of each mutation."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import field_mask_pb2
from strata.common.v1 import actor_pb2
from strata.errors import Reason, StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import run_pb2

from tests.fixtures.ingest import batch, stream
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.servers import ServerThread, make_settings
from tests.fixtures.wait import poll_until

PARENT = "entities/alice/projects/runs-test"


def create(server: ServerThread, **kwargs: object) -> pb.CreateRunResponse:
    kwargs.setdefault("parent", PARENT)
    return server.client().ingest.CreateRun(pb.CreateRunRequest(**kwargs))


def audit(server: ServerThread, action: str, target: str) -> list[dict[str, object]]:
    async def go():  # type: ignore[no-untyped-def]
        return await server.deps.pool.fetch(
            "SELECT actor_name, before::text, after::text FROM audit_events WHERE action = $1 AND target = $2 ORDER BY id",
            action,
            target,
        )

    return [dict(r) for r in server.run(go())]


def test_create_generates_id_and_name_records_author_provenance_and_creates_the_project(
    server: ServerThread,
) -> None:
    prov = actor_pb2.Provenance(
        os_user="alice", hostname="gpu-7", git_commit="abc123", command=["train.py", "--lr=3"]
    )
    resp = create(
        server,
        parent="entities/alice/projects/brand-new",
        job_type="train",
        group="ablation",
        tags=["bert", "bert", "v2"],
        notes="first try",
        config_json='{"lr": 0.0003, "layers": [1, 2], "opt": {"name": "adam"}}',
        provenance=prov,
    )
    run = resp.run
    assert not resp.resumed
    assert len(run.run_id) == 8 and run.run_id.isalnum() and run.display_name
    assert run.name == f"entities/alice/projects/brand-new/runs/{run.run_id}"
    assert run.state == run_pb2.RUN_STATE_RUNNING and run.job_type == "train" and run.group == "ablation"
    assert list(run.tags) == ["bert", "v2"] and run.notes == "first try"
    assert json.loads(run.config_json) == {"lr": 0.0003, "layers": [1, 2], "opt": {"name": "adam"}}
    assert run.provenance == prov
    assert run.author.kind == actor_pb2.ACTOR_KIND_LOCAL and run.author.name
    got = server.client().ingest.GetRun(pb.GetRunRequest(name=run.name)).run
    assert got.run_id == run.run_id and got.create_time.seconds > 0
    [event] = audit(server, "run.create", run.name)
    assert event["actor_name"] == run.author.name


@pytest.mark.parametrize(
    ("kwargs", "field", "reason"),
    [
        ({"parent": "entities/alice"}, "parent", Reason.INVALID_NAME),
        ({"parent": "entities/a b/projects/p"}, "parent", Reason.INVALID_NAME),
        ({"run_id": "bad/id"}, "run_id", Reason.INVALID_NAME),
        ({"config_json": "[1, 2]"}, "config_json", Reason.INVALID_JSON),
        ({"config_json": "{nope"}, "config_json", Reason.INVALID_JSON),
        ({"tags": [""]}, "tags", Reason.INVALID_NAME),
        ({"tags": [f"t{i}" for i in range(65)]}, "tags", Reason.OUT_OF_RANGE),
        ({"job_type": "x" * 65}, "job_type", Reason.OUT_OF_RANGE),
        ({"resume": run_pb2.RESUME_MODE_MUST}, "run_id", Reason.FIELD_REQUIRED),
    ],
)
def test_create_rejects_bad_input_with_field_and_reason(
    server: ServerThread, kwargs: dict, field: str, reason: str
) -> None:
    with pytest.raises(StrataError) as e:
        create(server, **kwargs)
    assert (e.value.code, e.value.field, e.value.reason) == (grpc.StatusCode.INVALID_ARGUMENT, field, reason)


def test_resume_never_allow_must(server: ServerThread) -> None:
    run_id = uuid.uuid4().hex[:10]
    with pytest.raises(StrataError) as e:
        create(server, run_id=run_id, resume=run_pb2.RESUME_MODE_MUST)
    assert e.value.code == grpc.StatusCode.NOT_FOUND and e.value.reason == Reason.RUN_NOT_FOUND_FOR_RESUME
    first = create(server, run_id=run_id, config_json='{"a": 1, "b": {"c": 2}}').run
    assert stream(server.client(), first.name, [batch(1, {"loss": [(0, 1.0), (41, 0.5)]})])[1] is None
    with pytest.raises(StrataError) as e:
        create(server, run_id=run_id)  # default: never
    assert e.value.code == grpc.StatusCode.ALREADY_EXISTS and e.value.reason == Reason.RUN_ALREADY_EXISTS
    server.client().ingest.FinishRun(
        pb.FinishRunRequest(name=first.name, state=run_pb2.RUN_STATE_FAILED, exit_code=3)
    )
    resumed = create(server, run_id=run_id, resume=run_pb2.RESUME_MODE_ALLOW, config_json='{"b": {"d": 3}}')
    assert resumed.resumed and resumed.run.state == run_pb2.RUN_STATE_RUNNING and resumed.run.exit_code == 0
    assert resumed.run.next_step == 42  # the step counter continues where the run stopped
    assert json.loads(resumed.run.config_json) == {"a": 1, "b": {"c": 2, "d": 3}}
    must = create(server, run_id=run_id, resume=run_pb2.RESUME_MODE_MUST)
    assert must.resumed and must.run.point_count == 2
    assert len(audit(server, "run.resume", first.name)) == 2


def test_update_applies_the_field_mask_merge_patch_and_summary_overrides(server: ServerThread) -> None:
    run = create(server, config_json='{"lr": 0.1, "opt": {"name": "sgd", "momentum": 0.9}}', tags=["a"]).run
    ingest = server.client().ingest
    assert stream(server.client(), run.name, [batch(1, {"acc": [(0, 0.5), (1, 0.7)]})])[1] is None
    update = run_pb2.Run(
        name=run.name,
        display_name="renamed",
        tags=["b", "c"],
        notes="ignored: not in the mask",
        config_json='{"opt": {"momentum": null, "nesterov": true}, "bs": 32}',
        summary=[
            run_pb2.MetricSummary(key="acc", override_json="0.99"),
            run_pb2.MetricSummary(key="best/model", override_json='{"name": "m1"}'),
        ],
    )
    mask = field_mask_pb2.FieldMask(paths=["display_name", "tags", "config_json", "summary"])
    got = ingest.UpdateRun(pb.UpdateRunRequest(run=update, update_mask=mask)).run
    assert got.display_name == "renamed" and list(got.tags) == ["b", "c"] and got.notes == ""
    assert json.loads(got.config_json) == {"lr": 0.1, "bs": 32, "opt": {"name": "sgd", "nesterov": True}}
    summary = {s.key: s for s in got.summary}
    assert json.loads(summary["acc"].override_json) == 0.99 and summary["acc"].last == 0.7
    assert (
        json.loads(summary["best/model"].override_json) == {"name": "m1"} and summary["best/model"].count == 0
    )
    clear = run_pb2.Run(name=run.name, summary=[run_pb2.MetricSummary(key="acc", override_json="null")])
    got = ingest.UpdateRun(
        pb.UpdateRunRequest(run=clear, update_mask=field_mask_pb2.FieldMask(paths=["summary"]))
    ).run
    assert {s.key: s.override_json for s in got.summary}["acc"] == ""
    [first, _] = audit(server, "run.update", run.name)
    assert json.loads(first["before"])["display_name"] == run.display_name
    assert json.loads(first["after"])["display_name"] == "renamed"


@pytest.mark.parametrize(
    ("paths", "reason"),
    [
        ([], Reason.FIELD_REQUIRED),
        (["state"], Reason.INVALID_UPDATE_MASK),
        (["config_json"], Reason.INVALID_JSON),
    ],
)
def test_update_rejects_bad_masks_and_json(server: ServerThread, paths: list[str], reason: str) -> None:
    run = create(server).run
    request = pb.UpdateRunRequest(
        run=run_pb2.Run(name=run.name, config_json="[not json"),
        update_mask=field_mask_pb2.FieldMask(paths=paths),
    )
    with pytest.raises(StrataError) as e:
        server.client().ingest.UpdateRun(request)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT and e.value.reason == reason


def test_finish_is_idempotent_for_the_same_state_and_refuses_another(server: ServerThread) -> None:
    run = create(server).run
    ingest = server.client().ingest
    done = ingest.FinishRun(pb.FinishRunRequest(name=run.name, state=run_pb2.RUN_STATE_FINISHED)).run
    again = ingest.FinishRun(pb.FinishRunRequest(name=run.name, state=run_pb2.RUN_STATE_FINISHED)).run
    assert done.state == again.state == run_pb2.RUN_STATE_FINISHED and done.finish_time == again.finish_time
    with pytest.raises(StrataError) as e:
        ingest.FinishRun(pb.FinishRunRequest(name=run.name, state=run_pb2.RUN_STATE_FAILED, exit_code=1))
    assert e.value.code == grpc.StatusCode.FAILED_PRECONDITION and e.value.reason == Reason.RUN_FINISHED
    with pytest.raises(StrataError) as e:
        ingest.FinishRun(pb.FinishRunRequest(name=run.name, state=run_pb2.RUN_STATE_RUNNING))
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT and e.value.field == "state"
    with pytest.raises(StrataError) as e:
        ingest.SendHeartbeat(pb.SendHeartbeatRequest(name=run.name))
    assert e.value.reason == Reason.RUN_FINISHED
    assert len(audit(server, "run.finish", run.name)) == 1
    with pytest.raises(StrataError) as e:
        ingest.GetRun(pb.GetRunRequest(name=f"{PARENT}/runs/nope"))
    assert e.value.code == grpc.StatusCode.NOT_FOUND


def test_a_killed_run_tells_its_heartbeat_to_stop(server: ServerThread) -> None:
    run = create(server).run
    ingest = server.client().ingest
    assert not ingest.SendHeartbeat(pb.SendHeartbeatRequest(name=run.name)).should_stop
    ingest.FinishRun(pb.FinishRunRequest(name=run.name, state=run_pb2.RUN_STATE_KILLED))
    assert ingest.SendHeartbeat(pb.SendHeartbeatRequest(name=run.name)).should_stop


@pytest.fixture(scope="module")
def fast_crash_server(
    postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerThread]:
    settings = make_settings(
        tmp_path_factory.mktemp("crash"), postgres.create_database(), run_crash_timeout=1.0
    )
    srv = ServerThread(settings).start()
    yield srv
    srv.stop()


def _wait_state(server: ServerThread, name: str, state: int) -> run_pb2.Run:
    def reached() -> run_pb2.Run | None:
        run = server.client().ingest.GetRun(pb.GetRunRequest(name=name)).run
        return run if run.state == state else None

    return poll_until(reached, interval=0.1, what=f"run state {state}")


def test_a_run_without_heartbeats_becomes_crashed_and_a_sign_of_life_revives_it(
    fast_crash_server: ServerThread,
) -> None:
    silent = create(fast_crash_server).run
    alive = create(fast_crash_server).run
    ingest = fast_crash_server.client().ingest
    stop = threading.Event()

    def beat() -> None:  # keep one run alive (until every check is done) while the other goes silent
        while not stop.is_set():
            ingest.SendHeartbeat(pb.SendHeartbeatRequest(name=alive.name))
            stop.wait(0.2)

    beating = threading.Thread(target=beat, daemon=True)
    beating.start()
    try:
        crashed = _wait_state(fast_crash_server, silent.name, run_pb2.RUN_STATE_CRASHED)
        assert crashed.state == run_pb2.RUN_STATE_CRASHED
        assert crashed.finish_time == crashed.heartbeat_time  # finish time is the last sign of life
        assert ingest.GetRun(pb.GetRunRequest(name=alive.name)).run.state == run_pb2.RUN_STATE_RUNNING
        assert audit(fast_crash_server, "run.crash", alive.name) == [], "a run with heartbeats never crashed"
    finally:
        stop.set()
        beating.join(timeout=10)
    [event] = audit(fast_crash_server, "run.crash", silent.name)
    assert event["actor_name"] == "strata-system"
    # a heartbeat (or a metric batch) from the run proves it is alive: RUNNING again
    assert not ingest.SendHeartbeat(pb.SendHeartbeatRequest(name=silent.name)).should_stop
    assert ingest.GetRun(pb.GetRunRequest(name=silent.name)).run.state == run_pb2.RUN_STATE_RUNNING


def test_every_ingest_rpc_is_implemented_by_the_one_servicer() -> None:
    """IngestServiceHandlers defines every RPC of the service itself: none falls through to the
    generated base class, which answers UNIMPLEMENTED."""
    from strata.ingest.v1 import ingest_service_pb2
    from strata_server.ingest.handlers import IngestServiceHandlers

    service = ingest_service_pb2.DESCRIPTOR.services_by_name["IngestService"]
    missing = [m.name for m in service.methods if m.name not in IngestServiceHandlers.__dict__]
    assert missing == []
