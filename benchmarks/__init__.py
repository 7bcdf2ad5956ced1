"""Benchmarks of the service: the runner (``make bench``), the floor application, k6 scripts."""
