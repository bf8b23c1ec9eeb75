"""Monitoring rules shared by the domains, pure (no Dagster): ``freshness``, how fresh data is by
data time (the ingestion and rollups domains take their readings; the wiring grades its checks
with it)."""
