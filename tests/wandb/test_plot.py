"""`wandb.plot.*` with `import strata as wandb`: each chart helper logged through a run and read back
as the stored Plotly figure, with its traces checked for a tiny known input; bad input raises
ValueError/TypeError naming the argument, at the call."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import strata as wandb

pytestmark = [pytest.mark.usefixtures("env"), pytest.mark.timeout(120)]


def _logged(charts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Log the charts in one step of a fresh run, and read each back as the stored figure JSON."""
    run = wandb.init(project="plots")
    wandb.log(charts)
    wandb.finish()
    api_run = wandb.Api().run(run.path)
    return {key: api_run.media(key)[0].json() for key in charts}


def _xy(trace: dict[str, Any]) -> list[tuple[Any, Any]]:
    return list(zip(trace["x"], trace["y"], strict=True))


def test_table_charts_round_trip(work: Path) -> None:
    table = wandb.Table(
        columns=["step", "loss", "split", "label"],
        data=[[0, 1.0, "train", "cat"], [1, 0.5, "val", "dog"], [2, 0.25, "train", "cow"]],
    )
    figs = _logged(
        {
            "line": wandb.plot.line(table, "step", "loss", title="Loss"),
            "strokes": wandb.plot.line(table, "step", "loss", stroke="split"),
            "scatter": wandb.plot.scatter(table, "step", "loss"),
            "bar": wandb.plot.bar(table, "label", "loss"),
            "hist": wandb.plot.histogram(table, "loss"),
        }
    )
    (line,) = figs["line"]["data"]
    assert (line["type"], line["mode"], _xy(line)) == ("scatter", "lines", [(0, 1.0), (1, 0.5), (2, 0.25)])
    assert figs["line"]["layout"]["title"]["text"] == "Loss"
    assert figs["line"]["layout"]["xaxis"]["title"]["text"] == "step"
    strokes = {t["name"]: _xy(t) for t in figs["strokes"]["data"]}
    assert strokes == {"train": [(0, 1.0), (2, 0.25)], "val": [(1, 0.5)]}
    (scatter,) = figs["scatter"]["data"]
    assert (scatter["mode"], _xy(scatter)) == ("markers", [(0, 1.0), (1, 0.5), (2, 0.25)])
    (bar,) = figs["bar"]["data"]
    assert (bar["type"], bar["orientation"], bar["y"], bar["x"]) == (
        "bar",
        "h",
        ["cat", "dog", "cow"],
        [1.0, 0.5, 0.25],
    )
    (hist,) = figs["hist"]["data"]
    assert hist["type"] == "bar" and sum(hist["y"]) == 3
    assert hist["y"][0] == 1 and hist["y"][-1] == 1  # 0.25 in the first bin, 1.0 in the last


def test_line_series_shared_and_per_series_xs(work: Path) -> None:
    figs = _logged(
        {
            "shared": wandb.plot.line_series(
                [0, 1, 2], [[1, 2, 3], [3, 2, 1]], keys=["up", "down"], xname="epoch"
            ),
            "own": wandb.plot.line_series([[0, 1], [5, 6, 7]], [np.array([1.0, float("nan")]), [3, 4, 5]]),
        }
    )
    shared = {t["name"]: _xy(t) for t in figs["shared"]["data"]}
    assert shared == {"up": [(0, 1), (1, 2), (2, 3)], "down": [(0, 3), (1, 2), (2, 1)]}
    assert figs["shared"]["layout"]["xaxis"]["title"]["text"] == "epoch"
    own = {t["name"]: _xy(t) for t in figs["own"]["data"]}
    assert own == {"key_0": [(0, 1.0), (1, None)], "key_1": [(5, 3), (6, 4), (7, 5)]}  # NaN is a gap


def test_confusion_matrix_counts_from_preds_and_from_probs(work: Path) -> None:
    y_true = [0, 1, 1, 2, 2, 2]
    preds = [0, 1, 2, 2, 2, 0]
    probs = np.eye(3)[preds] * 0.8 + 0.05
    figs = _logged(
        {
            "preds": wandb.plot.confusion_matrix(
                y_true=y_true, preds=preds, class_names=["cat", "dog", "cow"]
            ),
            "probs": wandb.plot.confusion_matrix(probs=probs, y_true=y_true),
        }
    )
    (heat,) = figs["preds"]["data"]
    expected = [[1, 0, 0], [0, 1, 1], [1, 0, 2]]  # rows actual, columns predicted
    assert (heat["type"], heat["x"], heat["y"], heat["z"]) == (
        "heatmap",
        ["cat", "dog", "cow"],
        ["cat", "dog", "cow"],
        expected,
    )
    assert figs["preds"]["layout"]["title"]["text"] == "Confusion Matrix Curve"
    (heat,) = figs["probs"]["data"]
    assert heat["z"] == expected and heat["x"] == ["Class_1", "Class_2", "Class_3"]


def test_roc_and_pr_of_a_perfect_and_a_known_classifier(work: Path) -> None:
    y_true = [0, 0, 1, 1]
    perfect = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.1, 0.9]]
    figs = _logged(
        {
            "roc": wandb.plot.roc_curve(y_true, perfect, labels=["neg", "pos"], classes_to_plot=[1]),
            "roc_mixed": wandb.plot.roc_curve([0, 1, 0, 1], [0.1, 0.4, 0.6, 0.8]),  # binary: 1-D scores
            "pr": wandb.plot.pr_curve(y_true, perfect, interp_size=5),
        }
    )
    (roc,) = figs["roc"]["data"]
    assert (roc["name"], _xy(roc)) == ("pos (AUC=1.000)", [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0)])
    # scikit-learn's roc_curve gives the same points for class 1: AUC 0.75
    mixed = {t["name"]: _xy(t) for t in figs["roc_mixed"]["data"]}
    assert mixed["1 (AUC=0.750)"] == [(0.0, 0.0), (0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]
    assert len(mixed) == 2
    assert [t["name"] for t in figs["pr"]["data"]] == ["0 (AP=1.000)", "1 (AP=1.000)"]
    for trace in figs["pr"]["data"]:
        assert _xy(trace) == [(0.0, 1.0), (0.25, 1.0), (0.5, 1.0), (0.75, 1.0), (1.0, 1.0)]


def test_pr_curve_of_a_known_ranking() -> None:
    # ranked by score: pos, neg, pos, neg -> precision 1, 1/2, 2/3, 2/4 at recall 1/2, 1/2, 1, 1
    fig = wandb.plot.pr_curve([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.6], classes_to_plot=1, interp_size=3).figure
    (trace,) = fig["data"]
    assert trace["name"] == "1 (AP=0.833)"  # 1/2 * 1 + 1/2 * 2/3
    assert trace["x"] == [0.0, 0.5, 1.0] and trace["y"] == pytest.approx([1.0, 1.0, 2 / 3])


def test_long_curves_are_thinned_to_the_point_limit() -> None:
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 50_000)
    scores = rng.random(50_000)
    (trace, _) = wandb.plot.roc_curve(y_true, scores).figure["data"]
    assert len(trace["x"]) == wandb.plot.MAX_POINTS and trace["x"][0] == 0.0 and trace["x"][-1] == 1.0
    (series,) = wandb.plot.line_series(list(range(20_000)), [list(range(20_000))]).figure["data"]
    assert len(series["x"]) == wandb.plot.MAX_POINTS and series["x"][-1] == 19_999


@pytest.mark.parametrize(
    ("call", "kind", "argument"),
    [
        (lambda: wandb.plot.line({"x": [1]}, "x", "y"), TypeError, "table"),
        (lambda t: wandb.plot.line(t, "nope", "b"), ValueError, "x='nope'"),
        (lambda t: wandb.plot.line(t, "a", "b", stroke="nope"), ValueError, "stroke='nope'"),
        (lambda t: wandb.plot.bar(t, "a", "nope"), ValueError, "value='nope'"),
        (lambda t: wandb.plot.histogram(t, "c"), ValueError, "value="),
        (lambda: wandb.plot.line_series([0, 1], [[1, 2]], keys=["a", "b"]), ValueError, "keys"),
        (lambda: wandb.plot.line_series([0, 1], [1, 2]), TypeError, "ys"),
        (lambda: wandb.plot.line_series([[0, 1], [0]], [[1, 2], [3, 4]]), ValueError, "xs[1]"),
        (lambda: wandb.plot.confusion_matrix(y_true=[0]), ValueError, "preds"),
        (lambda: wandb.plot.confusion_matrix(probs=[[1, 0]], y_true=[0], preds=[0]), ValueError, "probs"),
        (lambda: wandb.plot.confusion_matrix(y_true=[0, 1], preds=[0]), ValueError, "y_true"),
        (
            lambda: wandb.plot.confusion_matrix(y_true=[0, 5], preds=[0, 1], class_names=["a", "b"]),
            ValueError,
            "y_true",
        ),
        (lambda: wandb.plot.confusion_matrix(probs=[0.1, 0.9], y_true=[0, 1]), ValueError, "probs"),
        (lambda: wandb.plot.roc_curve([0, 1, 1], [[0.1, 0.9]]), ValueError, "y_probas"),
        (lambda: wandb.plot.roc_curve([0, 3], [[0.1, 0.9], [0.2, 0.8]]), ValueError, "y_true"),
        (
            lambda: wandb.plot.roc_curve([0, 1], [[0.1, 0.9], [0.2, 0.8]], classes_to_plot=[2]),
            ValueError,
            "classes_to_plot",
        ),
        (lambda: wandb.plot.roc_curve([1, 1], [0.1, 0.9]), ValueError, "y_true"),
        (lambda: wandb.plot.roc_curve([0, 1], [0.1, 0.9], labels=["only"]), ValueError, "labels"),
        (lambda: wandb.plot.pr_curve([0, 1], [0.1, 0.9], interp_size=1), ValueError, "interp_size"),
    ],
)
def test_bad_input_names_the_argument(call: Any, kind: type[Exception], argument: str) -> None:
    table = wandb.Table(columns=["a", "b", "c"], data=[[1, 2, "x"]])
    with pytest.raises(kind, match=re.escape(argument)):
        call(table) if call.__code__.co_argcount else call()
