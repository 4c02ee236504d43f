"""Bad input is INVALID_ARGUMENT naming its field, with a stable reason, and writes nothing: free text
past its bound or holding U+0000, JSON nested too deep, non-finite or out-of-range numbers, U+0000 or
lone surrogates in JSON strings, forged page tokens, and bytes that are not a valid message. List
responses are bounded in bytes as well as in items."""

from __future__ import annotations

import json
import uuid

import grpc
import pytest
from google.protobuf import duration_pb2, field_mask_pb2, timestamp_pb2
from strata.errors import Reason, StrataError
from strata.iam.v1 import iam_pb2
from strata.iam.v1 import iam_service_pb2 as iam
from strata.ingest.v1 import ingest_service_pb2 as ingest
from strata.ingest.v1 import run_pb2
from strata.lineage.v1 import lineage_service_pb2 as lineage
from strata.query.v1 import query_service_pb2 as query
from strata.registry.v1 import registry_service_pb2 as registry
from strata_server.common import paging

from tests.hardening.bad_input_helpers import error_info, forged_token, nested, raw_call, refused
from tests.registry.helpers import log_version

ENTITY, PROJECT = "admin", "bad-input"
PARENT = f"entities/{ENTITY}/projects/{PROJECT}"
BIG = "x" * 5000  # past every 4,096-character bound
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def srv(keys_server):  # type: ignore[no-untyped-def]
    keys_server.project(ENTITY, PROJECT)
    return keys_server


@pytest.fixture(scope="module")
def c(srv):  # type: ignore[no-untyped-def]
    with srv.client() as client:
        yield client


@pytest.fixture(scope="module")
def run_name(c) -> str:  # type: ignore[no-untyped-def]
    return c.ingest.CreateRun(ingest.CreateRunRequest(parent=PARENT, config_json='{"lr": 1}')).run.name


@pytest.fixture(scope="module")
def version(srv, c) -> str:  # type: ignore[no-untyped-def]
    return log_version(srv.thread, c, ENTITY, PROJECT, "model", {"m.bin": b"m"}).version.name


# --- free text: bounds and U+0000 ---


@pytest.mark.parametrize(("text", "reason"), [(BIG, Reason.TOO_LARGE), ("a\x00b", Reason.INVALID_TEXT)])
def test_project_description(srv, c, text, reason) -> None:  # type: ignore[no-untyped-def]
    project = iam_pb2.Project(description=text)
    req = iam.CreateProjectRequest(
        parent=f"entities/{ENTITY}", project_id="p" + uuid.uuid4().hex[:8], project=project
    )
    refused(srv, lambda: c.iam.CreateProject(req), "project.description", reason)
    project.name = PARENT
    update = iam.UpdateProjectRequest(
        project=project, update_mask=field_mask_pb2.FieldMask(paths=["description"])
    )
    refused(srv, lambda: c.iam.UpdateProject(update), "project.description", reason)


@pytest.mark.parametrize(("text", "reason"), [("t" * 129, Reason.TOO_LARGE), ("a\x00", Reason.INVALID_TEXT)])
def test_team_and_user_display_names(srv, c, text, reason) -> None:  # type: ignore[no-untyped-def]
    team = iam_pb2.Team(name="entities/t" + uuid.uuid4().hex[:8], display_name=text)
    refused(srv, lambda: c.iam.CreateTeam(iam.CreateTeamRequest(team=team)), "team.display_name", reason)
    user = iam_pb2.User(name="entities/u" + uuid.uuid4().hex[:8], display_name=text)
    refused(srv, lambda: c.iam.CreateUser(iam.CreateUserRequest(user=user)), "user.display_name", reason)


@pytest.mark.parametrize(("text", "reason"), [(BIG, Reason.TOO_LARGE), ("\x00", Reason.INVALID_TEXT)])
def test_service_account_and_key_descriptions(srv, c, text, reason) -> None:  # type: ignore[no-untyped-def]
    req = iam.CreateServiceAccountRequest(parent="entities/admin", service_account_id="sa", description=text)
    refused(srv, lambda: c.iam.CreateServiceAccount(req), "description", reason)
    key = iam.CreateApiKeyRequest(description=text)
    refused(srv, lambda: c.iam.CreateApiKey(key), "description", reason)


def test_run_texts(srv, c, run_name) -> None:  # type: ignore[no-untyped-def]
    for fields, field, reason in [
        ({"notes": "n\x00"}, "notes", Reason.INVALID_TEXT),
        ({"notes": "n" * (64 * 1024 + 1)}, "notes", Reason.TOO_LARGE),
        ({"display_name": "d\x00"}, "display_name", Reason.INVALID_TEXT),
        ({"job_type": "j\x00"}, "job_type", Reason.INVALID_TEXT),
    ]:
        req = ingest.CreateRunRequest(parent=PARENT, **fields)
        refused(srv, lambda req=req: c.ingest.CreateRun(req), field, reason)
    mask = field_mask_pb2.FieldMask(paths=["notes"])
    upd = ingest.UpdateRunRequest(run=run_pb2.Run(name=run_name, notes="\x00"), update_mask=mask)
    refused(srv, lambda: c.ingest.UpdateRun(upd), "run.notes", Reason.INVALID_TEXT)


def test_artifact_description_and_alias_note(srv, c, version) -> None:  # type: ignore[no-untyped-def]
    req = registry.CreateArtifactVersionRequest(
        parent=PARENT, artifact="ds", type="dataset", description="\x00"
    )
    refused(srv, lambda: c.registry.CreateArtifactVersion(req), "description", Reason.INVALID_TEXT)
    big = registry.CreateArtifactVersionRequest(
        parent=PARENT, artifact="ds", type="dataset", description="d" * 70000
    )
    refused(srv, lambda: c.registry.CreateArtifactVersion(big), "description", Reason.TOO_LARGE)
    alias = registry.SetAliasRequest(version=version, alias="best", reason="why\x00")
    refused(srv, lambda: c.registry.SetAlias(alias), "reason", Reason.INVALID_TEXT)


def test_audit_filter(srv, c) -> None:  # type: ignore[no-untyped-def]
    bad = iam.ListAuditEventsRequest(filter=iam.AuditFilter(actor="a\x00"))
    refused(srv, lambda: c.iam.ListAuditEvents(bad), "filter.actor", Reason.INVALID_TEXT)
    many = iam.ListAuditEventsRequest(filter=iam.AuditFilter(actions=["x"] * 101))
    refused(srv, lambda: c.iam.ListAuditEvents(many), "filter.actions", Reason.TOO_LARGE)


def test_lineage_type_filters(srv, c, version) -> None:  # type: ignore[no-untyped-def]
    for options, field, reason in [
        (lineage.TraversalOptions(job_types=["train\x00"]), "options.job_types[0]", Reason.INVALID_TEXT),
        (lineage.TraversalOptions(artifact_types=["t"] * 101), "options.artifact_types", Reason.TOO_LARGE),
    ]:
        req = lineage.TraceUpstreamRequest(node=version, options=options)
        refused(srv, lambda req=req: c.lineage.TraceUpstream(req), field, reason)


# --- JSON: depth, numbers, strings ---


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ('{"a": ' + nested(5000) + "}", Reason.TOO_LARGE),
        ('{"a": ' + nested(65) + "}", Reason.TOO_LARGE),
        ('{"a": NaN}', Reason.INVALID_JSON),
        ('{"a": Infinity}', Reason.INVALID_JSON),
        ('{"a": -Infinity}', Reason.INVALID_JSON),
        ('{"a": 1e400}', Reason.OUT_OF_RANGE),
        ('{"a": ' + "9" * 30 + "}", Reason.OUT_OF_RANGE),
        ('{"a": ' + "9" * 5000 + "}", Reason.OUT_OF_RANGE),
        ('{"a": "x\\u0000"}', Reason.INVALID_JSON),
        ('{"a\\u0000": 1}', Reason.INVALID_JSON),
        ('{"a": "\\ud800"}', Reason.INVALID_JSON),
        ('{"\\udfff": 1}', Reason.INVALID_JSON),
    ],
)
def test_config_json(srv, c, run_name, config, reason) -> None:  # type: ignore[no-untyped-def]
    req = ingest.CreateRunRequest(parent=PARENT, config_json=config)
    refused(srv, lambda: c.ingest.CreateRun(req), "config_json", reason)
    mask = field_mask_pb2.FieldMask(paths=["config_json"])
    upd = ingest.UpdateRunRequest(run=run_pb2.Run(name=run_name, config_json=config), update_mask=mask)
    refused(srv, lambda: c.ingest.UpdateRun(upd), "run.config_json", reason)


def test_config_at_the_depth_limit_is_kept(c) -> None:  # type: ignore[no-untyped-def]
    config = '{"a": ' + nested(63) + "}"
    run = c.ingest.CreateRun(ingest.CreateRunRequest(parent=PARENT, config_json=config)).run
    assert json.loads(run.config_json) == json.loads(config)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("NaN", Reason.INVALID_JSON),
        ("Infinity", Reason.INVALID_JSON),
        ("1e400", Reason.OUT_OF_RANGE),
        ('"\\u0000"', Reason.INVALID_JSON),
        (nested(3000), Reason.TOO_LARGE),
    ],
)
def test_summary_override_json(srv, c, run_name, value, reason) -> None:  # type: ignore[no-untyped-def]
    entry = run_pb2.MetricSummary(key="loss", override_json=value)
    mask = field_mask_pb2.FieldMask(paths=["summary"])
    upd = ingest.UpdateRunRequest(run=run_pb2.Run(name=run_name, summary=[entry]), update_mask=mask)
    refused(srv, lambda: c.ingest.UpdateRun(upd), "run.summary[0].override_json", reason)


@pytest.mark.parametrize(
    "metadata", ['{"a": ' + nested(4000) + "}", '{"a": NaN}', '{"a": 1e400}', '{"a": "\\ud800"}']
)
def test_metadata_json(srv, c, metadata) -> None:  # type: ignore[no-untyped-def]
    req = registry.CreateArtifactVersionRequest(
        parent=PARENT, artifact="ds", type="dataset", metadata_json=metadata
    )
    with pytest.raises(Exception) as e:
        c.registry.CreateArtifactVersion(req)
    assert e.value.field == "metadata_json"  # type: ignore[attr-defined]
    refused(srv, lambda: c.registry.CreateArtifactVersion(req), "metadata_json", e.value.reason)  # type: ignore[attr-defined]
    assert e.value.reason in (Reason.TOO_LARGE, Reason.INVALID_JSON, Reason.OUT_OF_RANGE)  # type: ignore[attr-defined]


def test_filter_json_too_deep_or_non_finite(srv, c) -> None:  # type: ignore[no-untyped-def]
    for doc in ['{"config.a": ' + nested(3000) + "}", '{"config.a": 1e400}']:
        req = query.SearchRunsRequest(parent=PARENT, filter_json=doc)
        refused(srv, lambda req=req: c.query.SearchRuns(req), "filter_json", Reason.INVALID_FILTER)


# --- page tokens ---

# The query a ListAuditEvents page token with an empty filter is bound to.
AUDIT_QUERY = {
    "list": "audit",
    "filter": {"project": "", "entity": "", "actor": "", "start_time": None, "end_time": None, "actions": []},
}


@pytest.mark.parametrize("position", [nested(1500), "9" * 400, "1e400", "NaN", '"\\u0000"'])
def test_forged_page_tokens(srv, c, position) -> None:  # type: ignore[no-untyped-def]
    token = forged_token(position, {"list": "projects", "parent": ENTITY})
    req = iam.ListProjectsRequest(parent=f"entities/{ENTITY}", page_token=token)
    refused(srv, lambda: c.iam.ListProjects(req), "page_token", Reason.INVALID_PAGE_TOKEN)
    audit = iam.ListAuditEventsRequest(page_token=forged_token(position, AUDIT_QUERY))
    refused(srv, lambda: c.iam.ListAuditEvents(audit), "page_token", Reason.INVALID_PAGE_TOKEN)


def test_an_oversized_integer_position_is_refused(srv, c) -> None:  # type: ignore[no-untyped-def]
    req = iam.ListAuditEventsRequest(page_token=forged_token(str(2**64), AUDIT_QUERY))
    refused(srv, lambda: c.iam.ListAuditEvents(req), "page_token", Reason.INVALID_PAGE_TOKEN)


# --- malformed protobuf ---

INVALID_UTF8 = b"\x0a\x03\xff\xfe\xfd"  # field 1 (a string) holding bytes that are not UTF-8
TRUNCATED = b"\x0a\x20abc"  # field 1 announces 32 bytes, 3 follow
WRONG_WIRE_TYPE = b"\x0d\x00"  # field 1 as a fixed32 cut short


@pytest.mark.parametrize("body", [INVALID_UTF8, TRUNCATED, WRONG_WIRE_TYPE])
@pytest.mark.parametrize(
    "method",
    [
        "/strata.iam.v1.IamService/GetProject",
        "/strata.ingest.v1.IngestService/CreateRun",
        "/strata.registry.v1.RegistryService/ListArtifacts",
        "/strata.query.v1.QueryService/SearchRuns",
    ],
)
def test_malformed_unary_request(srv, body, method) -> None:  # type: ignore[no-untyped-def]
    from tests.hardening.bad_input_helpers import snapshot

    before = snapshot(srv.thread)
    err = raw_call(srv.addr, method, body, srv.admin_key)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err
    info = error_info(err)
    assert info is not None and info.reason == Reason.MALFORMED_REQUEST
    assert info.metadata["field"] == "request"
    assert snapshot(srv.thread) == before


def test_malformed_stream_message(srv) -> None:  # type: ignore[no-untyped-def]
    err = raw_call(
        srv.addr, "/strata.ingest.v1.IngestService/StreamMetrics", INVALID_UTF8, srv.admin_key, stream=True
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err
    info = error_info(err)
    assert info is not None and info.reason == Reason.MALFORMED_REQUEST


# --- list responses are bounded in bytes ---


def test_list_pages_stop_at_the_byte_budget(srv, c, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for i in range(6):
        project = iam_pb2.Project(description=f"{i}" * 4000)
        c.iam.CreateProject(
            iam.CreateProjectRequest(parent="entities/admin", project_id=f"big{i}", project=project)
        )
    monkeypatch.setattr(paging, "MAX_PAGE_BYTES", 10_000)
    names, token, pages = [], "", 0
    while True:
        resp = c.iam.ListProjects(
            iam.ListProjectsRequest(parent="entities/admin", page_size=100, page_token=token)
        )
        assert resp.ByteSize() <= 10_000 + 5_000  # at most one item past the budget
        names += [p.name for p in resp.projects]
        pages, token = pages + 1, resp.next_page_token
        if not token:
            break
    assert pages >= 3
    assert [n for n in names if "/big" in n] == [f"entities/admin/projects/big{i}" for i in range(6)]


def test_search_pages_stop_at_the_byte_budget(c, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    parent = f"entities/{ENTITY}/projects/budget"
    for i in range(5):
        config = json.dumps({"blob": str(i) * 4000})
        c.ingest.CreateRun(ingest.CreateRunRequest(parent=parent, run_id=f"r{i}", config_json=config))
    monkeypatch.setattr(paging, "MAX_PAGE_BYTES", 10_000)
    seen, token, pages = [], "", 0
    while True:
        resp = c.query.SearchRuns(query.SearchRunsRequest(parent=parent, page_size=100, page_token=token))
        seen += [r.name for r in resp.runs]
        pages, token = pages + 1, resp.next_page_token
        if not token:
            break
    assert pages >= 2 and len(seen) == len(set(seen)) == 5


# --- found by the fuzzer ---


def test_an_error_quoting_huge_input_is_still_delivered(c) -> None:  # type: ignore[no-untyped-def]
    """A status quoting a huge name must fit the client's metadata limit (8 KiB) and keep its
    ErrorInfo; a client would otherwise see RESOURCE_EXHAUSTED without details."""
    for name in ["\u00e9" * 5000, "x" * 70_000]:
        with pytest.raises(StrataError) as e:
            c.iam.GetProject(iam.GetProjectRequest(name=name))
        assert e.value.code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)
        assert e.value.reason in (Reason.INVALID_NAME, Reason.NOT_FOUND)


@pytest.mark.parametrize(
    ("seconds", "nanos"), [(2**62, 0), (-(2**62), 0), (10**12, 0), (1, -5), (0, 2_000_000_000)]
)
def test_durations_out_of_range(srv, c, seconds, nanos) -> None:  # type: ignore[no-untyped-def]
    ttl = duration_pb2.Duration(seconds=seconds, nanos=nanos)
    project = iam_pb2.Project(name=PARENT, default_ttl=ttl)
    req = iam.UpdateProjectRequest(
        project=project, update_mask=field_mask_pb2.FieldMask(paths=["default_ttl"])
    )
    refused(srv, lambda: c.iam.UpdateProject(req), "project.default_ttl", Reason.OUT_OF_RANGE)


@pytest.mark.parametrize(("seconds", "nanos"), [(2**62, 0), (-(2**40), 0), (253_402_300_800, 0), (0, -1)])
def test_timestamps_out_of_range(srv, c, seconds, nanos) -> None:  # type: ignore[no-untyped-def]
    when = timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)
    key = iam.CreateApiKeyRequest(expire_time=when)
    refused(srv, lambda: c.iam.CreateApiKey(key), "expire_time", Reason.OUT_OF_RANGE)
    audit = iam.ListAuditEventsRequest(filter=iam.AuditFilter(start_time=when))
    refused(srv, lambda: c.iam.ListAuditEvents(audit), "start_time", Reason.OUT_OF_RANGE)


@pytest.mark.parametrize(
    ("sql", "arg", "reason"),
    [
        ("SELECT $1::text", "a\x00b", Reason.INVALID_TEXT),
        ("SELECT $1::jsonb", '{"a": "\\u0000"}', Reason.INVALID_TEXT),
        ("SELECT $1::int8", 2**64, Reason.OUT_OF_RANGE),
        ("SELECT $1::int4 * 100000", 2**30, Reason.OUT_OF_RANGE),
    ],
)
def test_data_postgresql_refuses_is_invalid_argument(srv, sql, arg, reason) -> None:  # type: ignore[no-untyped-def]
    """The safety net under the checks: what PostgreSQL or asyncpg refuse as data is the caller's
    INVALID_ARGUMENT, never INTERNAL or a retryable UNAVAILABLE."""
    from strata_server.common.errors import InvalidArgument, classify

    async def go() -> BaseException:
        async with srv.deps.pool.acquire() as conn:
            try:
                await conn.fetchval(sql, arg)
            except Exception as e:
                return e
        raise AssertionError(f"{sql} accepted {arg!r}")

    err = classify(srv.run(go()))
    assert isinstance(err, InvalidArgument) and err.reason == reason, err
