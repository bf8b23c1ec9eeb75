"""The resources every domain shares: the one warehouse, the one object storage, the clock,
and the retention periods (ingestion, its checks and the retention job all honour them).

Each domain's own settings are resources of that domain (``defs/<domain>/resources.py``);
``analytics_pipeline.definitions`` builds them all from the settings, once. Secrets (a
database URL with a password, the alert webhook) are passed as ``dg.EnvVar``, so the UI's
resource page names the variable and never shows the value.
"""

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import dagster as dg
import psycopg
from dagster_aws.s3 import S3Resource
from pydantic import Field, PrivateAttr

from analytics_pipeline.retention.policy import RetentionPolicy
from analytics_pipeline.settings import Settings
from analytics_pipeline.storage.object_store import ObjectStore, open_store
from analytics_pipeline.warehouse.database import connect, resolve_database_url
from analytics_pipeline.warehouse.migrate import ensure_migrated

_DEFAULTS = Settings()


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse (14 or newer). Pending migrations are applied when the resource
    is set up for a run or a sensor tick (once per process)."""

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL (`ANALYTICS_DATABASE_URL`); empty: the embedded server.")
    embedded_pgdata: str = Field(
        default=str(_DEFAULTS.embedded_pgdata),
        description="Data directory of the embedded PostgreSQL, used when `database_url` is empty.")

    _url: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        ensure_migrated(self.url())

    def url(self) -> str:
        """The warehouse URL (starting the embedded server when that is the warehouse)."""
        if self._url is None:
            self._url = resolve_database_url(self.database_url, self.embedded_pgdata)
        return self._url

    @contextmanager
    def connect(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        with connect(self.url(), autocommit=autocommit) as conn:
            yield conn


class ObjectStorageResource(dg.ConfigurableResource):
    """Where log objects are read and exports and archives written: each location is
    ``s3://bucket/prefix`` or a local directory. S3 endpoint, region, profile and retry
    attempts are configured on the nested ``s3`` resource (or the standard ``AWS_*`` variables)."""

    logs_url: str = Field(description="Usage log objects (`ANALYTICS_LOGS_URL`).")
    exports_url: str = Field(description="Finance exports (`ANALYTICS_EXPORTS_URL`).")
    archive_url: str = Field(description="Raw-event Parquet archives (`ANALYTICS_ARCHIVE_URL`).")
    focus_costs_url: str = Field(description="Cloud cost exports in FOCUS format (`ANALYTICS_FOCUS_COSTS_URL`).")
    build_metrics_url: str = Field(description="CI run telemetry files (`ANALYTICS_BUILD_METRICS_URL`).")
    metric_streams_url: str = Field(
        default=Settings.metric_streams_url,
        description="CloudWatch Metric Streams objects (`ANALYTICS_METRIC_STREAMS_URL`); empty: none.")
    sensor_lookback_days: int = Field(
        default=Settings.sensor_lookback_days,
        description="Days of YYYY/MM/DD/ prefixes the object sensors list each tick "
                    "(`ANALYTICS_SENSOR_LOOKBACK_DAYS`).")
    s3: S3Resource

    _stores: dict[str, ObjectStore] = PrivateAttr(default_factory=dict)

    def _store(self, url: str) -> ObjectStore:
        if url not in self._stores:
            self._stores[url] = open_store(url, s3_client_factory=self.s3.get_client)
        return self._stores[url]

    def logs(self) -> ObjectStore:
        return self._store(self.logs_url)

    def exports(self) -> ObjectStore:
        return self._store(self.exports_url)

    def archive(self) -> ObjectStore:
        return self._store(self.archive_url)

    def focus_costs(self) -> ObjectStore:
        return self._store(self.focus_costs_url)

    def build_metrics(self) -> ObjectStore:
        return self._store(self.build_metrics_url)

    def metric_streams(self) -> ObjectStore:
        return self._store(self.metric_streams_url)


class ClockResource(dg.ConfigurableResource):
    """What "now" is for assets, checks and sensors that judge time (validation windows, lag,
    freshness, look-back). Empty: the wall clock. A frozen moment makes a rerun or a test
    decide exactly as at that moment."""

    frozen_at: str | None = Field(default=None, description="ISO 8601 moment used as now; empty: the wall clock.")

    def now(self) -> datetime:
        """The current moment, timezone-aware UTC."""
        return self.frozen_or(datetime.now(UTC))

    def frozen_or(self, moment: datetime) -> datetime:
        """The frozen moment, or ``moment`` when the clock runs free (e.g. a run's creation time)."""
        if not self.frozen_at:
            return moment
        frozen = datetime.fromisoformat(self.frozen_at)
        return (frozen if frozen.tzinfo else frozen.replace(tzinfo=UTC)).astimezone(UTC)


_PERIODS = tuple(field.name for field in dataclasses.fields(RetentionPolicy))


class RetentionSettings(dg.ConfigurableResource):
    """The retention periods (`ANALYTICS_*_DAYS` / `_MONTHS`, see the README's Retention)."""

    raw_archive_after_days: int = Field(default=Settings.raw_archive_after_days,
                                        description="Raw event days older than this are archived as Parquet.")
    raw_retention_days: int = Field(default=Settings.raw_retention_days,
                                    description="Raw event partitions older than this are dropped (once archived).")
    rollup_retention_months: int = Field(default=Settings.rollup_retention_months,
                                         description="Rollups are kept this many complete months.")
    quarantine_retention_days: int = Field(default=Settings.quarantine_retention_days,
                                           description="Quarantined lines are kept this many days.")
    export_retention_days: int = Field(default=Settings.export_retention_days,
                                       description="Export files are kept this many days (job rows stay).")
    archive_glacier_after_days: int = Field(default=Settings.archive_glacier_after_days,
                                            description="S3 archive objects move to Glacier after this many days.")
    archive_expire_after_days: int = Field(default=Settings.archive_expire_after_days,
                                           description="S3 archive objects expire after this many days.")
    dagster_run_retention_days: int = Field(default=Settings.dagster_run_retention_days,
                                            description="Finished Dagster runs are pruned after this many days.")

    def policy(self) -> RetentionPolicy:
        return RetentionPolicy(**{name: getattr(self, name) for name in _PERIODS})

    @classmethod
    def from_settings(cls, settings: Settings) -> "RetentionSettings":
        return cls(**{name: getattr(settings, name) for name in _PERIODS})


def object_storage_from_settings(settings: Settings, s3: S3Resource | None = None) -> ObjectStorageResource:
    """The object storage the settings name (S3 through ``s3``, by default the standard AWS chain)."""
    return ObjectStorageResource(
        logs_url=settings.logs_url, exports_url=settings.exports_url, archive_url=settings.archive_url,
        focus_costs_url=settings.focus_costs_url, build_metrics_url=settings.build_metrics_url,
        metric_streams_url=settings.metric_streams_url,
        sensor_lookback_days=settings.sensor_lookback_days, s3=s3 or S3Resource(max_attempts=5))
