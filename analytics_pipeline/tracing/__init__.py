"""Request tracing: where one request id came from and what became of it (accepted, a duplicate of
which line, quarantined with its reason and raw text), the event as stored, the hourly rollup bucket
it counts in and its price. Pure (no Dagster); read by the CLI (``analytics-pipeline trace``), the
API's trace route and the portal."""
