"""Documented limits of a run's fields (README "Runs and metrics", limits table). The limits of the
metric stream and the metric key grammar are in metrics/limits.py."""

from __future__ import annotations

MAX_TAGS, MAX_TAG = 64, 64
MAX_JOB_TYPE, MAX_GROUP, MAX_DISPLAY_NAME = 64, 128, 128
MAX_NOTES_BYTES = 64 * 1024
MAX_CONFIG_BYTES = 1024 * 1024
# summary overrides one UpdateRun may set or clear (written in one statement); more: TOO_LARGE
MAX_SUMMARY_OVERRIDES = 1000
