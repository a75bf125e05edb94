"""Benchmarks of the run store and the run API: `python -m bench.store_bench`."""
