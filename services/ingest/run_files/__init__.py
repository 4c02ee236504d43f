"""Run files: blobs attached to a run by path (checkpoints, logs, output.log), listed and read through
the run."""
