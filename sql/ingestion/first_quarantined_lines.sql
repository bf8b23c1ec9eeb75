-- The first quarantined lines of a ledger entry, in line order: the reasons a batch's answer shows.
SELECT line_number, reason, detail
FROM analytics_quarantine
WHERE object_id = %(object_id)s
ORDER BY line_number
LIMIT %(limit)s
