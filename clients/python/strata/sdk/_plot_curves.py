"""One-vs-rest ROC and precision-recall curves computed with numpy, for strata.plot.roc_curve and
strata.plot.pr_curve (no scikit-learn needed).

Scores are sorted once, highest first; at each distinct score the cumulative true and false positives
give one point. Collinear points of the ROC curve are dropped (as scikit-learn's drop_intermediate
does), so a perfect classifier gives exactly (0,0) -> (0,1) -> (1,1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_POINTS = 10_000  # points per drawn curve; longer curves are thinned evenly (first and last kept)


def checked_inputs(y_true: Any, y_probas: Any) -> tuple[np.ndarray, np.ndarray]:
    """y_true as integer class indices and y_probas as an (n, classes) float array, or a ValueError
    naming the bad argument. A 1-D y_probas is the positive class's score of a binary problem."""
    try:
        labels = np.asarray(y_true)
        scores = np.asarray(y_probas, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"y_true and y_probas must be arrays of numbers: {e}") from None
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(
            f"y_true must be a non-empty 1-D sequence of class indices, got shape {labels.shape}"
        )
    if not (np.issubdtype(labels.dtype, np.integer) or _integral_floats(labels)):
        raise ValueError("y_true must hold integer class indices (columns of y_probas)")
    if scores.ndim == 1:
        scores = np.stack([1.0 - scores, scores], axis=1)
    if scores.ndim != 2 or scores.shape[0] != len(labels):
        raise ValueError(
            f"y_probas must have one row per y_true label ({len(labels)}), got shape {scores.shape}"
        )
    if not np.isfinite(scores).all():
        raise ValueError("y_probas holds NaN or infinite values")
    labels = labels.astype(np.int64)
    if labels.min() < 0 or labels.max() >= scores.shape[1]:
        raise ValueError(
            f"y_true holds a class index outside 0..{scores.shape[1] - 1} (the columns of y_probas)"
        )
    return labels, scores


def _integral_floats(values: np.ndarray) -> bool:
    return bool(
        np.issubdtype(values.dtype, np.floating)
        and np.isfinite(values).all()
        and (values == np.round(values)).all()
    )


def classes(labels: np.ndarray, n_columns: int, classes_to_plot: Any) -> list[int]:
    """The class indices to draw: those present in y_true, or classes_to_plot (checked)."""
    if classes_to_plot is None:
        return [int(c) for c in np.unique(labels)]
    chosen: list[Any] = [classes_to_plot] if np.isscalar(classes_to_plot) else list(classes_to_plot)
    for c in chosen:
        if not isinstance(c, (int, np.integer)) or not 0 <= int(c) < n_columns:
            raise ValueError(f"classes_to_plot holds {c!r}, not a class index in 0..{n_columns - 1}")
    return [int(c) for c in chosen]


def class_name(c: int, labels: Any) -> str:
    if labels is None:
        return str(c)
    if c >= len(labels):
        raise ValueError(f"labels has {len(labels)} names, too few for class index {c}")
    return str(labels[c])


def cumulative_counts(positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and false positives when everything scoring at least each distinct score is called positive,
    highest score first."""
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, hits = scores[order], positive[order].astype(np.int64)
    last_of_each = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(sorted_scores) - 1]
    tps = np.cumsum(hits)[last_of_each]
    fps = last_of_each + 1 - tps
    return tps, fps


def roc(positive: np.ndarray, scores: np.ndarray) -> tuple[list[float], list[float], float]:
    """(false positive rates, true positive rates, area under the curve) of one class against the rest."""
    tps, fps = cumulative_counts(positive, scores)
    if tps[-1] == 0 or fps[-1] == 0:
        raise ValueError(
            "y_true needs both examples of the class and examples of other classes for a ROC curve"
        )
    fps, tps = _drop_collinear(np.r_[0, fps], np.r_[0, tps])
    fpr, tpr = fps / fps[-1], tps / tps[-1]
    return _thin(fpr), _thin(tpr), _area(fpr, tpr)


def _drop_collinear(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dx, dy = np.diff(x), np.diff(y)
    turns = dx[:-1] * dy[1:] - dy[:-1] * dx[1:] != 0  # exact: the counts are integers
    keep = np.r_[True, turns, True]
    return x[keep].astype(np.float64), y[keep].astype(np.float64)


def pr(positive: np.ndarray, scores: np.ndarray, interp_size: int) -> tuple[list[float], list[float], float]:
    """(recall grid, interpolated precision, average precision) of one class against the rest. The
    precision at recall r is the best precision reached at a recall of at least r."""
    tps, fps = cumulative_counts(positive, scores)
    if tps[-1] == 0:
        raise ValueError("y_true needs examples of the class for a precision-recall curve")
    precision, recall = tps / (tps + fps), tps / tps[-1]
    average = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    best_from_here = np.maximum.accumulate(precision[::-1])[::-1]  # best precision at recall >= recall[i]
    grid = np.linspace(0.0, 1.0, interp_size)
    at = np.searchsorted(recall, grid, side="left")
    interpolated = np.where(at < len(recall), best_from_here[np.minimum(at, len(recall) - 1)], 0.0)
    return [float(r) for r in grid], [float(p) for p in interpolated], average


def _area(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


def _thin(values: np.ndarray) -> list[float]:
    if len(values) > MAX_POINTS:
        values = values[np.linspace(0, len(values) - 1, MAX_POINTS).round().astype(np.int64)]
    return [float(v) for v in values]
