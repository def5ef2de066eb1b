"""Benchmark: `make bench` builds the project on generated data at several sizes and writes
docs/benchmarks.md. `bench` drives the runs; `baseline_notebook` is the pandas notebook the
project replaces; `limit_query` is the fastest the same answer can be had in one query.
For people judging or changing the project's performance.
"""
