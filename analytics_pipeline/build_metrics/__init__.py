"""CI build telemetry (pure, no Dagster): one JSON file per CI run, validated, loaded exactly
once into ``analytics_ci_runs``, aggregated into daily duration trends and checked for
duration regressions and per-command budgets.

- ``contract``: what a valid run file is, and the quarantine reasons of one that is not;
- ``loader``: exactly-once loading of run files (shared ingest ledger, shared quarantine);
- ``trends``: the daily ``analytics_ci_duration_trends`` (SQL in ``sql/build_metrics``);
- ``regression``: recent-vs-previous median durations, change points and duration budgets.

Finding new files is ``delivery.discovery``'s; synthetic run files are ``generator.ci_runs``'.
"""
