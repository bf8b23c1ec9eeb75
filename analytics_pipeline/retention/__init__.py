"""Retention as code: what is archived, dropped and deleted when, decided against an injected ``now``.

Pure domain code (no Dagster): ``policy`` (periods and cutoffs), ``raw_archive`` (Parquet
archives of raw event days, verified), ``raw_partitions`` (dropping archived partitions),
``warehouse_rows`` (rollups, quarantine), ``export_files`` (finance export files),
``lifecycle`` (the archive's S3 lifecycle rule). ``defs/retention`` runs them daily.
"""
