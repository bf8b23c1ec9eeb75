"""Deterministic synthetic data for the demo, the tests and the benchmarks (pure, no Dagster).

- ``usage_logs``: Firehose-style gzip JSON-lines usage events, with late, duplicate and broken lines;
- ``focus_costs``: FOCUS cost exports that follow that usage, tenant by tenant;
- ``ci_runs``: CI run files, with an optional build-duration regression;
- ``catalog``: the model catalog and the organization ids they share.

Same arguments and seed, same bytes.
"""
