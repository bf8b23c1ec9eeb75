-- Every feature's adoption on one day, the most widely adopted first.
SELECT feature_kind, feature, organizations, users, request_count, active_organizations, organization_share
FROM analytics_feature_adoption_daily
WHERE day = %(day)s
ORDER BY organization_share DESC, users DESC, feature_kind, feature
