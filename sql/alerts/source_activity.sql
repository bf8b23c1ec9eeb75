-- Per source of the ingestion ledger, the last object loaded since expected_since (sources with none
-- since then are not expected to deliver, and are not listed).
SELECT source, max(ingested_at) AS last_loaded_at, count(*) AS objects
FROM analytics_ingested_objects
WHERE status = 'loaded' AND ingested_at >= %(expected_since)s AND ingested_at < %(now)s
GROUP BY source
ORDER BY source
