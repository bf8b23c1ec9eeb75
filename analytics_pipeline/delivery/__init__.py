"""Objects delivered into object storage, whatever they hold: date-bounded key prefixes, and
the discovery of objects the shared ingest ledger does not hold yet.

Domain-neutral: the usage-log and the CI-run loaders both build on it (pure, no Dagster).
"""
