INSERT INTO analytics_api_audit (at, key_id, organization_id, action, job_id, client_address, status_code, outcome)
VALUES (%(at)s, %(key_id)s, %(organization_id)s, %(action)s, %(job_id)s, %(client_address)s, %(status_code)s,
        %(outcome)s)
