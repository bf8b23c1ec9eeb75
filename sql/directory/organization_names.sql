-- The display names of organizations %(ids)s that have a directory entry.
SELECT organization_id, display_name FROM analytics_organizations WHERE organization_id = ANY(%(ids)s::text[])
