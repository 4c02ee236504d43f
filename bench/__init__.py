"""Benchmarks: each bench_*.py module has main(argv) and prints its figures next to a baseline
measured in the same run. Run all with `make bench`, or some with `make bench BENCH_ARGS="ingest"`."""
