"""Benchmark suite (`make bench`; never part of `make test`).

- `generate`: builds a throwaway PostgreSQL dataset (province or nation scale) from a seed.
- `baseline`: the practical limit, the same SQL served by raw asyncpg + Starlette.
- `run`: starts the service and the baseline, drives them with wrk, writes BENCHMARKS.md.
"""
