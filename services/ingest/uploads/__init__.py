"""Uploads: resumable upload sessions, content-addressed blobs, small-blob batches and proof of
possession (the home of file and blob transfer into Strata)."""
