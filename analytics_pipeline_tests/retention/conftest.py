import pytest

from analytics_pipeline.storage.object_store import S3ObjectStore
from analytics_pipeline.warehouse.database import connect


@pytest.fixture
def conn(warehouse_url):
    """An autocommit connection to a fresh migrated warehouse (retention runs one transaction per item)."""
    with connect(warehouse_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def archive_store(s3_client, s3_bucket):
    """The archive on moto's S3, under a prefix like ANALYTICS_ARCHIVE_URL=s3://bucket/archive."""
    return S3ObjectStore(s3_client, s3_bucket, prefix="archive")
