"""What every command of ``analytics-pipeline`` shares: parsing a date argument, the warehouse
(migrated before a command uses it) and the S3 client of the standard AWS chain."""

from __future__ import annotations

import argparse
from datetime import date


def parse_date(text: str) -> date:
    """An argument's ``YYYY-MM-DD`` (argparse's ``type=``)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def warehouse_url(settings) -> str:
    """The warehouse of ``settings`` (the embedded server unless ANALYTICS_DATABASE_URL is set), migrated."""
    from analytics_pipeline.warehouse.database import resolve_database_url
    from analytics_pipeline.warehouse.migrate import ensure_migrated

    url = resolve_database_url(settings.database_url, settings.embedded_pgdata)
    ensure_migrated(url)
    return url


def connect_warehouse(*, autocommit: bool = False):
    """A connection to the migrated warehouse of the process's settings."""
    from analytics_pipeline.settings import current_settings
    from analytics_pipeline.warehouse.database import connect

    return connect(warehouse_url(current_settings()), autocommit=autocommit)


def s3_client():
    """An S3 client of the standard AWS chain (AWS_ENDPOINT_URL, AWS_REGION, credentials), 5 attempts a call."""
    from dagster_aws.s3 import S3Resource

    return S3Resource(max_attempts=5).get_client()
