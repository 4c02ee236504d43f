"""W&B's chart helpers under `wandb.plot`: each returns a `strata.Plotly` figure to log.

    import strata as wandb
    table = wandb.Table(columns=["step", "loss"], data=[[0, 0.9], [1, 0.5]])
    wandb.log({
        "loss_curve": wandb.plot.line(table, "step", "loss", title="Loss"),
        "roc": wandb.plot.roc_curve(y_true, y_probas, labels=class_names),
        "cm": wandb.plot.confusion_matrix(probs=y_probas, y_true=y_true, class_names=class_names),
    })

The figures are plain Plotly figure dicts (plotly itself is not needed), stored and drawn like any
`strata.Plotly`. Bad input raises ValueError or TypeError naming the argument, at the call. Line,
scatter, series, ROC and PR curves keep at most 10,000 points per trace (longer ones are thinned
evenly, first and last point kept); `split_table` is accepted and has no effect (no table is logged
beside the chart).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from strata.sdk import _plot_curves as curves
from strata.sdk.media import Plotly, Table

__all__ = ["bar", "confusion_matrix", "histogram", "line", "line_series", "pr_curve", "roc_curve", "scatter"]

MAX_POINTS = curves.MAX_POINTS
MAX_SERIES = 100  # traces of one line_series or one stroke-grouped line chart
HISTOGRAM_BINS = 30


def line(
    table: Table, x: str, y: str, stroke: str | None = None, title: str = "", split_table: bool = False
) -> Plotly:
    """A line of column `y` against column `x`, one line per value of column `stroke` when given."""
    del split_table
    cols = _columns(table, x=x, y=y, stroke=stroke)
    if stroke is None:
        traces = [_xy_trace(cols["x"], cols["y"], "lines", y)]
    else:
        traces = [_xy_trace(xs, ys, "lines", name) for name, xs, ys in _grouped(cols)]
    return _figure(traces, title, x, y)


def scatter(table: Table, x: str, y: str, title: str = "", split_table: bool = False) -> Plotly:
    """One marker per row: column `y` against column `x`."""
    del split_table
    cols = _columns(table, x=x, y=y)
    return _figure([_xy_trace(cols["x"], cols["y"], "markers", y)], title, x, y)


def bar(table: Table, label: str, value: str, title: str = "", split_table: bool = False) -> Plotly:
    """One horizontal bar per row: its `label` column on the y axis, its `value` column as the length
    (every row is drawn; the table's own limit bounds the size)."""
    del split_table
    cols = _columns(table, label=label, value=value)
    trace = {
        "type": "bar",
        "orientation": "h",
        "name": value,
        "x": [_json_value(v) for v in cols["value"]],
        "y": [_json_value(v) for v in cols["label"]],
    }
    return _figure([trace], title, value, label)


def histogram(table: Table, value: str, title: str = "", split_table: bool = False) -> Plotly:
    """The distribution of column `value`, binned here (numpy, 30 equal bins over the finite values;
    empty cells and NaN are left out) and drawn as bars, so the stored figure stays small."""
    del split_table
    values = _numbers(_columns(table, value=value)["value"], "value")
    values = values[np.isfinite(values)]
    counts, edges = np.histogram(values, bins=HISTOGRAM_BINS) if len(values) else (np.zeros(0), np.zeros(1))
    trace = {
        "type": "bar",
        "name": value,
        "x": [float(a + b) / 2 for a, b in itertools.pairwise(edges)],
        "y": [int(c) for c in counts],
        "width": [float(b - a) for a, b in itertools.pairwise(edges)],
    }
    return _figure([trace], title, value, "count")


def line_series(
    xs: Any,
    ys: Any,
    keys: Sequence[str] | None = None,
    title: str = "",
    xname: str = "x",
    split_table: bool = False,
) -> Plotly:
    """Several lines on one chart: `ys` is a list of series; `xs` one list shared by every series or one
    list per series; `keys` names the lines (key_0, key_1, ... by default)."""
    del split_table
    series = _series_list(ys, "ys")
    if len(series) > MAX_SERIES:
        raise ValueError(f"ys has {len(series)} series; at most {MAX_SERIES} are drawn on one chart")
    xs_list = _series_list(xs, "xs") if _is_nested(xs) else [list(_sequence(xs, "xs"))] * len(series)
    if len(xs_list) != len(series):
        raise ValueError(f"xs has {len(xs_list)} series for {len(series)} series in ys")
    names = [f"key_{i}" for i in range(len(series))] if keys is None else [str(k) for k in keys]
    if len(names) != len(series):
        raise ValueError(f"keys has {len(names)} names for {len(series)} series in ys")
    traces = []
    for i, (x, y, name) in enumerate(zip(xs_list, series, names, strict=True)):
        if len(x) != len(y):
            raise ValueError(f"xs[{i}] has {len(x)} values for {len(y)} values in ys[{i}]")
        traces.append(_xy_trace(x, y, "lines", name))
    return _figure(traces, title, xname, "y")


def confusion_matrix(
    probs: Any = None,
    y_true: Any = None,
    preds: Any = None,
    class_names: Sequence[str] | None = None,
    title: str = "Confusion Matrix Curve",
    split_table: bool = False,
) -> Plotly:
    """A heatmap of counts: rows the actual class, columns the predicted one. Give `preds` (class
    indices) or `probs` (one row of class scores per example; the prediction is its argmax), not both.
    With `class_names`, labels are indices into it; without, the distinct labels seen, sorted, are the
    classes (named Class_1, Class_2, ...)."""
    del split_table
    predicted = _predictions(probs, preds)
    pred_arg = "preds" if preds is not None else "probs"
    actual = list(_sequence(y_true, "y_true"))
    if len(predicted) != len(actual):
        raise ValueError(f"y_true has {len(actual)} labels for {len(predicted)} predictions")
    index, names = _class_index(actual, predicted, class_names, pred_arg)
    counts = np.zeros((len(names), len(names)), dtype=np.int64)
    for a, p in zip(actual, predicted, strict=True):
        counts[index[_hashable(a)], index[_hashable(p)]] += 1
    matrix = counts.tolist()
    trace = {
        "type": "heatmap",
        "x": names,
        "y": names,
        "z": matrix,
        "text": matrix,
        "texttemplate": "%{text}",
        "colorscale": "Blues",
        "hovertemplate": "Actual %{y}<br>Predicted %{x}<br>Count %{z}<extra></extra>",
    }
    figure = _figure([trace], title, "Predicted", "Actual")
    figure.figure["layout"]["yaxis"]["autorange"] = "reversed"
    return figure


def roc_curve(
    y_true: Any,
    y_probas: Any,
    labels: Sequence[str] | None = None,
    classes_to_plot: Any = None,
    title: str = "ROC",
    split_table: bool = False,
) -> Plotly:
    """One ROC curve per class, one against the rest: `y_true` holds class indices, `y_probas` one row of
    class scores per example (a 1-D array is the positive score of a binary problem). Each curve is
    named with its area under the curve; `labels` names the classes, `classes_to_plot` picks them."""
    del split_table
    truth, scores = curves.checked_inputs(y_true, y_probas)
    traces = []
    for c in curves.classes(truth, scores.shape[1], classes_to_plot):
        fpr, tpr, auc = curves.roc(truth == c, scores[:, c])
        name = f"{curves.class_name(c, labels)} (AUC={auc:.3f})"
        traces.append({"type": "scatter", "mode": "lines", "name": name, "x": fpr, "y": tpr})
    figure = _figure(traces, title, "False positive rate", "True positive rate")
    figure.figure["layout"]["xaxis"]["range"] = [0, 1]
    figure.figure["layout"]["yaxis"]["range"] = [0, 1.05]
    return figure


def pr_curve(
    y_true: Any,
    y_probas: Any,
    labels: Sequence[str] | None = None,
    classes_to_plot: Any = None,
    interp_size: int = 21,
    title: str = "Precision v. Recall",
    split_table: bool = False,
) -> Plotly:
    """One precision-recall curve per class, one against the rest, at `interp_size` evenly spaced recall
    values (2..10,000; the precision at recall r is the best reached at a recall of at least r). Each
    curve is named with its average precision. Arguments as in roc_curve."""
    del split_table
    if (
        isinstance(interp_size, bool)
        or not isinstance(interp_size, int)
        or not 2 <= interp_size <= MAX_POINTS
    ):
        raise ValueError(f"interp_size must be an integer in 2..{MAX_POINTS}, got {interp_size!r}")
    truth, scores = curves.checked_inputs(y_true, y_probas)
    traces = []
    for c in curves.classes(truth, scores.shape[1], classes_to_plot):
        recall, precision, ap = curves.pr(truth == c, scores[:, c], interp_size)
        name = f"{curves.class_name(c, labels)} (AP={ap:.3f})"
        traces.append({"type": "scatter", "mode": "lines", "name": name, "x": recall, "y": precision})
    figure = _figure(traces, title, "Recall", "Precision")
    figure.figure["layout"]["xaxis"]["range"] = [0, 1]
    figure.figure["layout"]["yaxis"]["range"] = [0, 1.05]
    return figure


# --- helpers ---------------------------------------------------------------------------------------


def _figure(traces: list[dict[str, Any]], title: str, xtitle: str, ytitle: str) -> Plotly:
    layout = {
        "title": {"text": str(title)},
        "xaxis": {"title": {"text": str(xtitle)}},
        "yaxis": {"title": {"text": str(ytitle)}},
        "showlegend": len(traces) > 1,
    }
    return Plotly({"data": traces, "layout": layout})


def _columns(table: Any, **wanted: str | None) -> dict[str, list[Any]]:
    """The cells of each named column, keyed by the argument that named it."""
    if not isinstance(table, Table):
        raise TypeError(f"table must be a strata.Table, got {type(table).__name__}")
    if table.dataframe is not None:
        names = [str(c) for c in table.dataframe.columns]
    elif table.columns is None or isinstance(table.columns, str):
        raise ValueError("table has no columns= (a list of names)")
    else:
        names = [str(c) for c in table.columns]
    out = {}
    for arg, name in wanted.items():
        if name is None:
            continue
        if name not in names:
            raise ValueError(f"{arg}={name!r} is not a column of the table (columns: {', '.join(names)})")
        try:
            out[arg] = table.get_column(name)
        except (IndexError, TypeError):
            raise ValueError(f"table has rows without a cell for column {name!r}") from None
    return out


def _grouped(cols: dict[str, list[Any]]) -> list[tuple[str, list[Any], list[Any]]]:
    groups: dict[Any, tuple[list[Any], list[Any]]] = {}
    for x, y, key in zip(cols["x"], cols["y"], cols["stroke"], strict=True):
        xs, ys = groups.setdefault(_hashable(key), ([], []))
        xs.append(x)
        ys.append(y)
    if len(groups) > MAX_SERIES:
        raise ValueError(
            f"stroke column has {len(groups)} distinct values; at most {MAX_SERIES} lines are drawn"
        )
    return [(str(k), xs, ys) for k, (xs, ys) in groups.items()]


def _xy_trace(xs: Sequence[Any], ys: Sequence[Any], mode: str, name: str) -> dict[str, Any]:
    keep = _thinned(len(xs))
    return {
        "type": "scatter",
        "mode": mode,
        "name": str(name),
        "x": [_json_value(xs[i]) for i in keep],
        "y": [_json_value(ys[i]) for i in keep],
    }


def _thinned(n: int) -> Sequence[int]:
    if n <= MAX_POINTS:
        return range(n)
    return [int(i) for i in np.linspace(0, n - 1, MAX_POINTS).round()]


def _json_value(value: Any) -> Any:
    """A cell as JSON: numpy scalars as Python values, NaN and infinity as null (a gap in the line)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _numbers(values: Sequence[Any], arg: str) -> np.ndarray:
    try:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"column {arg}= must hold numbers") from None


def _hashable(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _is_nested(values: Any) -> bool:
    if isinstance(values, np.ndarray):
        return values.ndim == 2
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        return False
    first = values[0]
    return isinstance(first, (Sequence, np.ndarray)) and not isinstance(first, (str, bytes))


def _sequence(values: Any, arg: str) -> Sequence[Any]:
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"{arg} must be 1-D, got shape {values.shape}")
        return list(values.tolist())
    if values is None or isinstance(values, (str, bytes, dict)) or not hasattr(values, "__len__"):
        raise TypeError(f"{arg} must be a list of values, got {type(values).__name__}")
    return list(values)


def _series_list(values: Any, arg: str) -> list[Sequence[Any]]:
    if not _is_nested(values):
        raise TypeError(f"{arg} must be a list of lists (one per series)")
    return [_sequence(v, f"{arg}[{i}]") for i, v in enumerate(values)]


def _predictions(probs: Any, preds: Any) -> list[Any]:
    if probs is not None and preds is not None:
        raise ValueError("give only one of probs or preds, not both")
    if preds is not None:
        return list(_sequence(preds, "preds"))
    if probs is None:
        raise ValueError("give probs or preds (neither was given)")
    try:
        scores = np.asarray(probs, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("probs must be an array of numbers (one row of class scores per example)") from None
    if scores.ndim != 2 or scores.shape[1] == 0:
        raise ValueError(f"probs must be 2-D (examples x classes), got shape {scores.shape}")
    return [int(i) for i in np.argmax(scores, axis=1)]


def _class_index(
    actual: list[Any], predicted: list[Any], class_names: Sequence[str] | None, pred_arg: str
) -> tuple[dict[Any, int], list[str]]:
    """Label -> row/column of the matrix, and the class names."""
    if class_names is None:
        seen = {_hashable(v) for v in [*actual, *predicted]}
        try:
            ordered = sorted(seen)
        except TypeError:
            ordered = sorted(seen, key=str)
        return {v: i for i, v in enumerate(ordered)}, [f"Class_{i + 1}" for i in range(len(ordered))]
    names = [str(n) for n in _sequence(class_names, "class_names")]
    for arg, values in (("y_true", actual), (pred_arg, predicted)):
        for v in values:
            if isinstance(v, bool) or not isinstance(_hashable(v), int) or not 0 <= _hashable(v) < len(names):
                raise ValueError(f"{arg} holds {v!r}, not a class index in 0..{len(names) - 1} (class_names)")
    return {i: i for i in range(len(names))}, names
