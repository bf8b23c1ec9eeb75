-- One evaluation at a time (a sensor tick and a manual `alerts evaluate` must not both fire an alert).
SELECT pg_advisory_xact_lock(hashtext('analytics_alerts evaluation'))
