"""The export API: finance creates export jobs, polls them, downloads their files through
short-lived signed URLs and reads its usage, over HTTP, scoped to its organization.

FastAPI on uvicorn, psycopg with a connection pool; pure (no Dagster): the API writes a job's
``pending`` row and Dagster's ``export_request_sensor`` runs it. Start it with
``analytics-pipeline api``; :func:`analytics_pipeline.api.app.create_app` builds the app.
"""
