"""The resources every domain shares: the one warehouse, the one object storage, the clock,
and the retention periods (ingestion, its checks and the retention job all honour them); and
how a resource's field is declared by a setting (:func:`setting_field`, :class:`SettingsResource`).

Each domain's own settings are resources of that domain (``defs/<domain>/resources.py``);
``analytics_pipeline.definitions`` builds them all from the settings, once. Secrets (a
database URL with a password, the alert webhook) are passed as ``dg.EnvVar``, so the UI's
resource page names the variable and never shows the value.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Self

import dagster as dg
import psycopg
from dagster_aws.s3 import S3Resource
from pydantic import Field, PrivateAttr

from analytics_pipeline.costs.budgets import load_budgets
from analytics_pipeline.retention.policy import RetentionPolicy
from analytics_pipeline.settings import Settings, declared, default_of
from analytics_pipeline.storage.object_store import ObjectStore, open_store
from analytics_pipeline.warehouse.database import connect, resolve_database_url
from analytics_pipeline.warehouse.migrate import ensure_migrated

_DEFAULTS = Settings()
# The key, in a field's json_schema_extra, naming the setting that declares it; Dagster reads
# "dagster__is_secret" there to mark a config field secret.
_SETTING = "analytics_setting"


def setting_field(name: str) -> Any:
    """A resource field declared by the setting ``name`` (``analytics_pipeline.settings``): its
    default, and its description naming the variable, which the Dagster UI's resource page shows."""
    setting = declared(name)
    description = f"`{setting.variable}`: {setting.description}"
    if setting.unset or setting.under_home:
        description += f" Unset: {setting.unset or setting.shown_default(default_of(name))}."
    return Field(default=default_of(name), description=description,
                 json_schema_extra={_SETTING: name, "dagster__is_secret": setting.secret})


def _configured(settings: Settings, name: str) -> Any:
    """The setting ``name`` as a resource is given it: a secret that comes from the process
    environment as a ``dg.EnvVar`` (the UI then names the variable, never the value), any other
    value as it is (tests pass their own)."""
    value, setting = getattr(settings, name), declared(name)
    if setting.secret and value is not None and os.environ.get(setting.variable, "").strip() == value:
        return dg.EnvVar(setting.variable)
    return value


class SettingsResource(dg.ConfigurableResource):
    """A resource whose fields are settings (each declared with :func:`setting_field`)."""

    @classmethod
    def from_settings(cls, settings: Settings, **others: Any) -> Self:
        """This resource with every setting field from ``settings``; ``others`` give the rest
        (nested resources, values derived from the settings)."""
        values = {name: _configured(settings, info.json_schema_extra[_SETTING])
                  for name, info in cls.model_fields.items()
                  if isinstance(info.json_schema_extra, dict) and _SETTING in info.json_schema_extra}
        return cls(**values, **others)


class WarehouseResource(SettingsResource):
    """The PostgreSQL warehouse (14 or newer). Pending migrations are applied when the resource
    is set up for a run or a sensor tick (once per process)."""

    database_url: str | None = setting_field("database_url")
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


class ObjectStorageResource(SettingsResource):
    """Where log objects are read and exports and archives written: each location is
    ``s3://bucket/prefix`` or a local directory. S3 endpoint, region, profile and retry
    attempts are configured on the nested ``s3`` resource (or the standard ``AWS_*`` variables)."""

    logs_url: str = setting_field("logs_url")
    exports_url: str = setting_field("exports_url")
    archive_url: str = setting_field("archive_url")
    focus_costs_url: str = setting_field("focus_costs_url")
    build_metrics_url: str = setting_field("build_metrics_url")
    metric_streams_url: str = setting_field("metric_streams_url")
    sensor_lookback_days: int = setting_field("sensor_lookback_days")
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


class BudgetSettings(SettingsResource):
    """The monthly budgets, one file for the cost domain's budget check and the metrics' health
    score (its budget burn)."""

    budgets_file: str | None = setting_field("budgets_file")

    def budgets(self) -> dict[str, Decimal]:
        """Each tenant's monthly budget (empty without a budgets file)."""
        return dict(load_budgets(self.budgets_file).tenants) if self.budgets_file else {}


class RetentionSettings(SettingsResource):
    """The retention periods (see the README's Retention)."""

    raw_archive_after_days: int = setting_field("raw_archive_after_days")
    raw_retention_days: int = setting_field("raw_retention_days")
    rollup_retention_months: int = setting_field("rollup_retention_months")
    quarantine_retention_days: int = setting_field("quarantine_retention_days")
    export_retention_days: int = setting_field("export_retention_days")
    archive_glacier_after_days: int = setting_field("archive_glacier_after_days")
    archive_expire_after_days: int = setting_field("archive_expire_after_days")
    dagster_run_retention_days: int = setting_field("dagster_run_retention_days")

    def policy(self) -> RetentionPolicy:
        """The periods as the retention job applies them."""
        return RetentionPolicy(**{name: getattr(self, name) for name in RetentionPolicy.__dataclass_fields__})
