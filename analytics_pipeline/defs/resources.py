"""Dagster resources: the one warehouse and the one object storage of the project.

Both default to the settings in ``analytics_pipeline.settings`` (environment variables with
embedded defaults) when their fields are left empty, so secrets such as a database URL with
a password are read at run time and never baked into definitions or shown in the UI.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import psycopg
from dagster_aws.s3 import S3Resource
from pydantic import PrivateAttr

from analytics_pipeline.settings import load_settings
from analytics_pipeline.storage.object_store import ObjectStore, open_store
from analytics_pipeline.warehouse.database import connect, ensure_migrated, resolve_database_url


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse (14 or newer). Migrations are applied on first use.

    Leave ``database_url`` empty to use ``ANALYTICS_DATABASE_URL``, or, when that is unset
    too, the embedded PostgreSQL under ``ANALYTICS_HOME``.
    """

    database_url: str = ""

    _url: str | None = PrivateAttr(default=None)

    def url(self) -> str:
        """The resolved URL, with the schema migrated to head."""
        if self._url is None:
            url = self.database_url or resolve_database_url(load_settings())
            ensure_migrated(url)
            self._url = url
        return self._url

    @contextmanager
    def connect(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        with connect(self.url(), autocommit=autocommit) as conn:
            yield conn


class ObjectStorageResource(dg.ConfigurableResource):
    """Where log objects are read and exports and archives written.

    Each location is ``s3://bucket/prefix`` or a local directory; empty fields fall back to
    ``ANALYTICS_LOGS_URL`` / ``ANALYTICS_EXPORTS_URL`` / ``ANALYTICS_ARCHIVE_URL`` /
    ``ANALYTICS_FOCUS_COSTS_URL`` / ``ANALYTICS_BUILD_METRICS_URL`` and then to directories
    under ``ANALYTICS_HOME``. S3 endpoint, region, profile and retry attempts
    are configured on the nested ``s3`` resource (or the standard ``AWS_*`` variables).
    """

    logs_url: str = ""
    exports_url: str = ""
    archive_url: str = ""
    focus_costs_url: str = ""
    build_metrics_url: str = ""
    s3: S3Resource

    _stores: dict[str, ObjectStore] = PrivateAttr(default_factory=dict)

    def _store(self, url: str) -> ObjectStore:
        if url not in self._stores:
            self._stores[url] = open_store(url, s3_client_factory=self.s3.get_client)
        return self._stores[url]

    def logs(self) -> ObjectStore:
        return self._store(self.logs_url or load_settings().logs_url)

    def exports(self) -> ObjectStore:
        return self._store(self.exports_url or load_settings().exports_url)

    def archive(self) -> ObjectStore:
        return self._store(self.archive_url or load_settings().archive_url)

    def focus_costs(self) -> ObjectStore:
        """Cloud cost exports in FOCUS format (``ANALYTICS_FOCUS_COSTS_URL``)."""
        return self._store(self.focus_costs_url or load_settings().focus_costs_url)

    def build_metrics(self) -> ObjectStore:
        """CI run telemetry files (``ANALYTICS_BUILD_METRICS_URL``)."""
        return self._store(self.build_metrics_url or load_settings().build_metrics_url)


def default_resources() -> dict[str, object]:
    """The resources the definitions run with: all from the environment."""
    from analytics_pipeline.defs.costs.resources import CostExplorerResource

    return {
        "warehouse": WarehouseResource(),
        "object_storage": ObjectStorageResource(s3=S3Resource(max_attempts=5)),
        "cost_explorer": CostExplorerResource(),
    }
