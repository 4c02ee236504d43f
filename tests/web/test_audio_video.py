"""Audio and video logged with run.log, W&B-shaped (`strata.Audio`, `strata.Video`): a numpy waveform
stored as WAV, numpy frames as an animated GIF, files as their own bytes; read back through the Api,
served by the console with the type their first bytes say, played in a real headless Chromium on the
run page, and inlined in a report's HTML export. Bad input is refused in run.log, naming the key."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import strata
from PIL import Image as PILImage

from tests.web.seed import ENTITY, PROJECT
from tests.web.test_browser import css, severe_logs, sign_in, wait

pytestmark = pytest.mark.timeout(180)
RATE = 8000
TONE = (0.5 * np.sin(2 * np.pi * 440 * np.arange(RATE // 2) / RATE)).astype(np.float32)  # 0.5 s
FRAMES = np.stack([np.full((3, 16, 16), 40 * t, np.uint8) for t in range(6)])  # time, channel, h, w
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


@dataclass
class AvRun:
    run_id: str
    page: str
    api: str
    report: strata.Report


@pytest.fixture(scope="module")
def av_run(console, tmp_path_factory: pytest.TempPathFactory) -> AvRun:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("av")
    movie = tmp / "clip.mp4"
    movie.write_bytes(MP4_HEAD + bytes(64))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STRATA_ADDR", console.keys_server.addr)
        mp.setenv("STRATA_API_KEY", console.data.alice)
        mp.setenv("STRATA_SPOOL_DIR", str(tmp / "spool"))
        with strata.init(project=PROJECT, entity=ENTITY, job_type="av", name="sounds") as run:
            for step in range(2):
                run.log(
                    {"speech": strata.Audio(TONE * (step + 1) / 2, sample_rate=RATE, caption="a tone")},
                    step=step,
                )
            run.log(
                {"clip": strata.Video(FRAMES, fps=3, caption="six frames"), "movie": strata.Video(movie)},
                step=2,
            )
            run_id = run.id
        report = strata.Report(project=PROJECT, entity=ENTITY, title="Sounds")
        runset = strata.report.Runset(filters={"job_type": "av"})
        report.blocks = [
            strata.report.PanelGrid(runsets=[runset], panels=[strata.report.MediaPanel("speech")])
        ]
        report.save()
    page = f"/p/{ENTITY}/{PROJECT}/runs/{run_id}"
    return AvRun(run_id, page, f"/api/v1/projects/{ENTITY}/{PROJECT}/runs/{run_id}/media", report)


def test_audio_and_video_are_stored_and_read_back(console, av_run: AvRun, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    api = strata.Api(addr=console.keys_server.addr, api_key=console.data.alice)
    r = api.run(f"{ENTITY}/{PROJECT}/{av_run.run_id}")
    speech = r.media("speech")
    assert [(v.type, v.step) for v in speech] == [("audio", 1), ("audio", 0)]
    meta = speech[0].metadata
    assert (meta["format"], meta["sample_rate"], meta["channels"], meta["caption"]) == (
        "wav",
        RATE,
        1,
        "a tone",
    )
    assert meta["seconds"] == pytest.approx(0.5)
    with wave.open(io.BytesIO(speech[1].read_bytes())) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2)
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert np.array_equal(pcm, (np.clip(TONE / 2, -1, 1) * 32767).round().astype(np.int16))
    assert speech[0].download(tmp_path).suffix == ".wav"
    [clip] = r.media("clip")
    assert clip.type == "video" and {
        k: clip.metadata[k] for k in ("format", "frames", "width", "height")
    } == {
        "format": "gif",
        "frames": 6,
        "width": 16,
        "height": 16,
    }
    gif = PILImage.open(io.BytesIO(clip.read_bytes()))
    assert gif.n_frames == 6 and gif.info["duration"] == 330  # 1/3 s, in the centiseconds GIF keeps
    [movie] = r.media("movie")
    assert movie.metadata["format"] == "mp4" and movie.read_bytes() == MP4_HEAD + bytes(64)


def test_bad_audio_and_video_are_refused_in_run_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATA_SPOOL_DIR", str(tmp_path / "spool"))
    text = tmp_path / "notes.txt"
    text.write_text("not a sound")
    run = strata.init(project="av-errors", entity="tester", mode="offline")
    cases = [
        (strata.Audio(TONE), ValueError, "sample_rate"),
        (strata.Audio(np.array([0.1, np.nan]), sample_rate=RATE), ValueError, "NaN"),
        (strata.Audio(np.zeros((4, 4, 4)), sample_rate=RATE), ValueError, "shape"),
        (strata.Audio(str(text)), ValueError, "not a format"),
        (strata.Audio(str(tmp_path / "missing.wav")), ValueError, "missing.wav"),
        (strata.Video(FRAMES[:, :2]), ValueError, "channel 1, 3 or 4"),
        (strata.Video(FRAMES, format="mp4"), ValueError, "gif"),
        (strata.Video(FRAMES, fps=0), ValueError, "fps"),
        (strata.Video(str(text)), ValueError, "not a format"),
    ]
    for value, error, words in cases:
        with pytest.raises(error, match=words) as raised:
            run.log({"bad": value})
        assert "'bad'" in str(raised.value)
    run.finish()


def test_the_console_serves_and_plays_them(console, browser, av_run: AvRun) -> None:  # type: ignore[no-untyped-def]
    with console.http(console.data.alice) as http:
        values = {
            v["key"]: v
            for k in ("speech", "clip", "movie")
            for v in http.get(f"{av_run.api}/values", params={"key": k}).json()["values"]
        }
        for key, kind, mime in (
            ("speech", "audio", "audio/wav"),
            ("clip", "video", "image/gif"),
            ("movie", "video", "video/mp4"),
        ):
            got = http.get(f"{av_run.api}/blob/{values[key]['sha256']}", params={"type": kind})
            assert got.status_code == 200 and got.headers["content-type"] == mime, key
            assert got.headers["x-content-type-options"] == "nosniff"
    d = browser
    sign_in(d, console, console.data.alice, av_run.page)
    wait(
        d,
        lambda d: (
            css(d, '.media-panel[data-key="speech"] audio') and css(d, '.media-panel[data-key="clip"] img')
        ),
    )
    duration = wait(
        d,
        lambda d: d.execute_script(
            "const a = document.querySelector('.media-panel[data-key=\"speech\"] audio');"
            "return a && a.readyState >= 1 ? a.duration : null;"
        ),
        timeout=30,
    )
    assert duration == pytest.approx(0.5, abs=0.01)
    assert wait(d, lambda d: d.execute_script(
        "const i = document.querySelector('.media-panel[data-key=\"clip\"] img'); return i.complete && i.naturalWidth;"
    )) == 16  # fmt: skip
    assert css(d, '.media-panel[data-key="movie"] video'), "a video file plays in <video>"
    assert css(d, "#no-charts")[0].text == "no metrics logged"  # a run with media only says so
    assert not severe_logs(d)
    d.save_screenshot("/tmp/console-audio-video.png")


def test_the_report_export_inlines_audio_that_plays_offline(
    av_run: AvRun, console, browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("STRATA_ADDR", console.keys_server.addr)
    monkeypatch.setenv("STRATA_API_KEY", console.data.alice)
    page = av_run.report.export_html()
    assert page.count('<audio controls preload="metadata" src="data:audio/wav;base64,') == 2  # both steps
    assert "media-src data:" in page
    out = tmp_path / "sounds.html"
    out.write_text(page, encoding="utf-8")
    d = browser
    d.get(out.as_uri())
    duration = wait(
        d,
        lambda d: d.execute_script(
            "const a = document.querySelector('audio'); return a && a.readyState >= 1 ? a.duration : null;"
        ),
        timeout=30,
    )
    assert duration == pytest.approx(0.5, abs=0.01)
    assert not severe_logs(d)
