"""The console's JSON API and HTML shells over a real keys-mode server: sign-in and sessions, CSRF and
security headers, the error model (gRPC status -> HTTP status + reason), and the outsider's 404s."""

from __future__ import annotations

import json

from tests.web.seed import ENTITY, LOSS_STEPS, LRS, PROJECT

P = f"/api/v1/projects/{ENTITY}/{PROJECT}"


def signed_in(console, key: str):  # type: ignore[no-untyped-def]
    """An httpx client holding a session cookie (and the session's CSRF token)."""
    http = console.http()
    r = http.post("/api/v1/session", json={"api_key": key}, headers={"Origin": console.url})
    assert r.status_code == 200, r.text
    http.headers["X-CSRF-Token"] = r.json()["csrf"]
    http.headers["Origin"] = console.url
    return http


def test_pages_need_a_session_and_api_answers_401(console) -> None:
    with console.http() as http:
        r = http.get(f"/p/{ENTITY}/{PROJECT}")
        assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=")
        r = http.get(f"{P}/runs")
        assert r.status_code == 401 and r.json()["error"]["reason"] == "UNAUTHENTICATED"


def test_bearer_key_reads_the_runs_table(console) -> None:
    with console.http(console.data.alice) as http:
        r = http.get(f"{P}/runs", params={"job_type": "train"})
        assert r.status_code == 200
        runs = r.json()["runs"]
        assert {x["id"] for x in runs} == set(console.data.train_runs)
        assert {x["job_type"] for x in runs} == {"train"}
        count = http.get(f"{P}/runs-count", params={"job_type": "train"}).json()["count"]
        assert count == len(console.data.train_runs)


def test_a_bad_filter_is_invalid_filter_with_400(console) -> None:
    with console.http(console.data.alice) as http:
        r = http.get(f"{P}/runs", params={"filter": json.dumps({"config.lr": {"$bogus": 1}})})
        assert r.status_code == 400
        assert r.json()["error"]["reason"] == "INVALID_FILTER"


def test_history_returns_every_logged_point(console) -> None:
    run = console.data.train_runs[0]
    with console.http(console.data.alice) as http:
        r = http.get(f"{P}/runs/{run}/history", params={"key": "train/loss"})
        (series,) = r.json()["series"]
        assert len(series["steps"]) == LOSS_STEPS


def test_unknown_run_is_a_404_page_and_a_404_answer(console) -> None:
    with console.http(console.data.alice) as http:
        assert http.get(f"{P}/runs/nope").status_code == 404
        page = signed_in(console, console.data.alice).get(f"/p/{ENTITY}/{PROJECT}/runs/nope")
        assert page.status_code == 404 and "Not found" in page.text


def test_outsider_gets_404_for_another_teams_private_project(console) -> None:
    with console.http(console.data.carol) as http:
        for path in (
            f"{P}/runs",
            f"{P}/runs-count",
            f"/api/v1/projects/{ENTITY}/{PROJECT}",
            f"{P}/artifacts",
        ):
            r = http.get(path)
            assert r.status_code == 404, path
            assert r.json()["error"]["reason"] == "NOT_FOUND"
    http = signed_in(console, console.data.carol)
    for page in (f"/p/{ENTITY}/{PROJECT}", f"/p/{ENTITY}/{PROJECT}/runs/{console.data.train_runs[0]}"):
        assert http.get(page).status_code == 404


def test_session_cookie_flags_and_sign_out_revokes(console) -> None:
    http = console.http()
    r = http.post("/api/v1/session", json={"api_key": console.data.bob}, headers={"Origin": console.url})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    csrf = r.json()["csrf"]
    assert http.get(f"{P}/runs").status_code == 200
    r = http.delete("/api/v1/session", headers={"X-CSRF-Token": csrf, "Origin": console.url})
    assert r.status_code == 200
    assert http.get(f"{P}/runs").status_code == 401


def test_a_wrong_key_does_not_sign_in(console) -> None:
    with console.http() as http:
        r = http.post(
            "/api/v1/session", json={"api_key": "strata_nope_nope"}, headers={"Origin": console.url}
        )
        assert r.status_code == 401


def test_writing_requests_need_the_csrf_token_and_same_origin(console) -> None:
    http = signed_in(console, console.data.alice)
    body = {"alias": "dev", "version": "v0"}
    url = f"{P}/artifacts/bert-classifier/aliases"
    r = http.post(url, json=body, headers={"X-CSRF-Token": "wrong"})
    assert r.status_code == 403 and r.json()["error"]["reason"] == "CSRF_FAILED"
    r = http.post(url, json=body, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and r.json()["error"]["reason"] == "CSRF_FAILED"
    assert http.post(url, json=body).status_code == 200


def test_security_headers(console) -> None:
    with console.http() as http:
        r = http.get("/signin")
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"


def test_protected_alias_refused_for_a_member_with_the_servers_reason(console) -> None:
    with console.http(console.data.bob) as http:
        r = http.post(f"{P}/artifacts/bert-classifier/aliases", json={"alias": "production", "version": "v1"})
        assert r.status_code == 403
        assert r.json()["error"]["reason"] == "PROTECTED_ALIAS"


def test_expired_session_goes_to_sign_in(console) -> None:
    http = signed_in(console, console.data.bob)
    sessions = console.web.app.state.sessions
    sessions.expire_now(http.cookies["strata_session"])
    r = http.get(f"/p/{ENTITY}/{PROJECT}")
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")


def test_api_index_lists_every_endpoint(console) -> None:
    with console.http() as http:
        paths = {e["path"] for e in http.get("/api/v1").json()["endpoints"]}
    assert "/api/v1/projects/{entity}/{project}/runs" in paths and "/api/v1/lineage" in paths


def test_compare_lines_per_run_and_one_band_per_group(console) -> None:
    runs = console.data.train_runs
    with console.http(console.data.alice) as http:
        r = http.post(f"{P}/compare", json={"runs": runs, "key": "train/loss"})
        assert r.status_code == 200
        assert sorted(s["run"].rsplit("/", 1)[1] for s in r.json()["series"]) == sorted(runs)
        r = http.post(f"{P}/compare", json={"runs": runs, "key": "train/loss", "group_by": "config.lr"})
        bands = r.json()["bands"]
    assert sorted(float(b["value"]) for b in bands) == sorted(LRS)
    assert all(b["run_count"] == len(runs) // len(LRS) for b in bands)
    for b in bands:
        assert all(
            lo <= m <= hi for lo, m, hi in zip(b["min"], b["mean"], b["max"], strict=True) if m is not None
        )


def test_version_files_download_and_used_by(console) -> None:
    with console.http(console.data.alice) as http:
        v = http.get(f"{P}/artifacts/bert-classifier/versions/v0").json()
        assert [f["path"] for f in v["files"]] == ["model.pth"]
        assert any(n["kind"] == "run" and n["job_type"] == "eval" for n in v["used_by"])
        r = http.get(f"{P}/artifacts/bert-classifier/versions/v0/file", params={"path": "model.pth"})
        assert r.status_code == 200 and r.content == b"weights 0"
        assert "attachment" in r.headers["content-disposition"]
        missing = http.get(f"{P}/artifacts/bert-classifier/versions/v0/file", params={"path": "nope"})
        assert missing.status_code == 404


def test_diff_names_files_metadata_and_producing_config(console) -> None:
    with console.http(console.data.alice) as http:
        d = http.get(f"{P}/artifacts/bert-classifier/diff", params={"old": "v0", "new": "v2"}).json()
    assert d["files_changed"] == 1
    assert {c["key"] for c in d["config"]} >= {"lr", "seed"}
    assert {c["key"] for c in d["metadata"]} == {"lr"}


def test_lineage_graph_and_impact(console) -> None:
    model = f"entities/{ENTITY}/projects/{PROJECT}/artifacts/bert-classifier/versions/v1"
    raw = f"entities/{ENTITY}/projects/{PROJECT}/artifacts/support-tickets/versions/v0"
    with console.http(console.data.alice) as http:
        g = http.get("/api/v1/lineage", params={"node": model}).json()
        assert raw in {n["name"] for n in g["nodes"]}
        assert all(e["source"] in {n["name"] for n in g["nodes"]} for e in g["edges"])
    with console.http(console.data.carol) as http:
        assert http.get("/api/v1/lineage", params={"node": model}).status_code == 404


def impact_pages(http, node: str, page_size: int) -> list[dict]:  # type: ignore[no-untyped-def]
    pages, token = [], ""
    for _ in range(100):
        r = http.get("/api/v1/impact", params={"node": node, "page_size": page_size, "page_token": token})
        assert r.status_code == 200, r.text
        pages.append(r.json())
        token = pages[-1]["next_page_token"]
        if token is None:
            return pages
    raise AssertionError("the impact pages never ended")


def test_impact_pages_follow_the_lineage_service_tokens(console) -> None:
    raw = f"entities/{ENTITY}/projects/{PROJECT}/artifacts/support-tickets/versions/v0"
    with console.http(console.data.alice) as http:
        pages = impact_pages(http, raw, 3)
        whole = impact_pages(http, raw, 10_000)
    assert len(whole) == 1  # one page holds it all: the reference answer
    # a page holds page_size nodes; the first counts the start node, which is the root, not a row
    assert len(pages) > 2 and [len(p["nodes"]) for p in pages[:-1]] == [2] + [3] * (len(pages) - 2)
    assert pages[0]["next_page_token"]  # the first page is the service's first page, not a cut
    names = [n["name"] for p in pages for n in p["nodes"]]
    assert len(names) == len(set(names))  # no node twice across pages
    assert raw not in names  # the start node is the root, not an affected node
    assert names == [n["name"] for n in whole[0]["nodes"]]  # same nodes, same breadth-first order
    depths = [n["depth"] for p in pages for n in p["nodes"]]
    assert depths == sorted(depths)
    versions = sum(p["version_count"] for p in pages)
    assert versions == 1 + len(console.data.train_runs)  # clean dataset + every checkpoint
    assert sum(p["run_count"] for p in pages) >= 1 + len(console.data.train_runs)
    assert versions + sum(p["run_count"] for p in pages) == len(names)


def test_a_forged_impact_token_is_invalid_page_token(console) -> None:
    raw = f"entities/{ENTITY}/projects/{PROJECT}/artifacts/support-tickets/versions/v0"
    model = f"entities/{ENTITY}/projects/{PROJECT}/artifacts/bert-classifier/versions/v1"
    with console.http(console.data.alice) as http:
        token = http.get("/api/v1/impact", params={"node": raw, "page_size": 2}).json()["next_page_token"]
        r = http.get("/api/v1/impact", params={"node": model, "page_size": 2, "page_token": token})
    assert r.status_code == 400
    assert r.json()["error"]["reason"] == "INVALID_PAGE_TOKEN"


def test_runs_count_estimate_is_flagged_and_exact_on_request(console, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from strata_server.query.search import estimate

    # The services run in this process: shrink the sample and the exact cap so that the seeded
    # project (a handful of runs) is "large" and the estimate path answers.
    monkeypatch.setattr(estimate, "SAMPLE_RUNS", 2)
    monkeypatch.setattr(estimate, "EXACT_UP_TO", 1)
    monkeypatch.setattr(estimate, "MIN_SAMPLE_MATCHES", 1)
    with console.http(console.data.alice) as http:
        exact = http.get(f"{P}/runs-count").json()
        guess = http.get(f"{P}/runs-count", params={"estimate": "true"}).json()
        assert http.get(f"{P}/runs-count", params={"estimate": "maybe"}).status_code == 400
    assert exact["estimated"] is False and exact["count"] >= len(console.data.train_runs) + 3
    assert guess["estimated"] is True and guess["count"] >= 2


def test_runs_count_estimate_of_a_small_project_is_exact(console) -> None:
    with console.http(console.data.alice) as http:
        r = http.get(f"{P}/runs-count", params={"job_type": "train", "estimate": "1"}).json()
    assert r == {"count": len(console.data.train_runs), "estimated": False}


def test_run_artifacts_used_and_logged(console) -> None:
    with console.http(console.data.alice) as http:
        a = http.get(f"{P}/runs/{console.data.train_runs[0]}/artifacts").json()
    assert [n["label"] for n in a["used"]] == ["support-tickets-clean:v0"]
    assert [n["label"] for n in a["logged"]] == ["bert-classifier:v0"]


def test_alias_move_and_revert_are_recorded(console) -> None:
    http = signed_in(console, console.data.alice)
    url = f"{P}/artifacts/bert-classifier/aliases"
    r = http.post(f"{url}/golden/revert", json={})
    assert r.status_code == 404 or r.json()["error"]["reason"] in {"NOTHING_TO_REVERT", "ALIAS_NOT_FOUND"}
    for version in ("v0", "v2"):
        assert (
            http.post(url, json={"alias": "golden", "version": version, "reason": "try"}).status_code == 200
        )
    r = http.post(f"{url}/golden/revert", json={"reason": "undo"})
    assert r.status_code == 200 and r.json()["event"]["kind"] == "reverted"
    assert r.json()["event"]["to_version"].endswith("/versions/v0")
    events = http.get(f"{P}/artifacts/bert-classifier/alias-history", params={"alias": "golden"}).json()[
        "events"
    ]
    assert [e["kind"] for e in events] == ["reverted", "set", "set"]
    assert events[0]["actor"].endswith("alice") and events[0]["reason"] == "undo"


def test_the_session_cookie_is_secure_under_tls(console) -> None:
    """Behind a TLS-terminating proxy on the same host (X-Forwarded-Proto: https) the cookie is Secure."""
    with console.http() as http:
        origin = console.url.replace("http://", "https://")
        r = http.post(
            "/api/v1/session",
            json={"api_key": console.data.bob},
            headers={"Origin": origin, "X-Forwarded-Proto": "https"},
        )
    assert r.status_code == 200, r.text
    assert "secure" in r.headers["set-cookie"].lower()
