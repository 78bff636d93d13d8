"""Benchmarks: `make bench` (or `python bench/run.py`). See bench/README.md."""
