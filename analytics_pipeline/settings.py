"""Every setting of the project, read from the environment in this one place.

Each setting is a field of :class:`Settings` that names its environment variable and holds
its default, once. Each is optional: unset, it falls back to that default, and the stores
fall back to directories under ``ANALYTICS_HOME``, so the project runs on a fresh machine
with nothing installed but Python. The README's configuration table lists the same names
(a test keeps the two in step).

The Dagster definitions read the settings once (:func:`current_settings`) into resources;
code outside Dagster (the CLI, the export API) reads them the same way.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

DEFAULT_HOME = Path("./.analytics")


class SettingsError(ValueError):
    """An environment variable holds a value its setting cannot take."""


def _setting(env: str, default: Any, parse: Callable[[str], Any] = str, *, secret: bool = False,
             under_home: str | None = None) -> Any:
    """A field read from ``env``; ``under_home``: unset, the directory of that name under home."""
    return field(default=default, metadata={"env": env, "parse": parse, "secret": secret, "under_home": under_home})


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _base_url(text: str) -> str:
    return text.rstrip("/")


def _port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise ValueError("must be a TCP port, 1..65535")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError("must be more than 0")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise ValueError("must be 0 or more")
    return value


def _session_hours(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 24:
        raise ValueError("must be 1 to 24 (hours): portal sessions are short-lived")
    return value


def _first_of_month(text: str) -> date:
    value = date.fromisoformat(text)
    if value.day != 1:
        raise ValueError("must be the first day of a month (YYYY-MM-01): hours, days and months start together")
    return value


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


@dataclass(frozen=True)
class Settings:
    """The resolved configuration: build it with :func:`load_settings` (``Settings()`` is the defaults)."""

    home: Path = _setting("ANALYTICS_HOME", DEFAULT_HOME, Path)
    # None: start the embedded PostgreSQL under home.
    database_url: str | None = _setting("ANALYTICS_DATABASE_URL", None, secret=True)
    dagster_pg_url: str | None = _setting("DAGSTER_PG_URL", None, secret=True)
    # Object stores: s3://bucket/prefix or a directory ("" here: the directory under home).
    logs_url: str = _setting("ANALYTICS_LOGS_URL", "", under_home="logs")
    exports_url: str = _setting("ANALYTICS_EXPORTS_URL", "", under_home="exports")
    archive_url: str = _setting("ANALYTICS_ARCHIVE_URL", "", under_home="archive")
    focus_costs_url: str = _setting("ANALYTICS_FOCUS_COSTS_URL", "", under_home="focus-costs")
    build_metrics_url: str = _setting("ANALYTICS_BUILD_METRICS_URL", "", under_home="build-metrics")
    price_catalog: str | None = _setting("ANALYTICS_PRICE_CATALOG", None)  # None: the catalog shipped in the package
    # Costs.
    cost_source: str = _setting("ANALYTICS_COST_SOURCE", "focus")  # focus | cost_explorer
    cost_allocation_driver: str = _setting("ANALYTICS_COST_ALLOCATION_DRIVER", "tokens")  # tokens|requests|duration
    budgets_file: str | None = _setting("ANALYTICS_BUDGETS_FILE", None)  # None: no budgets configured
    # The first hour, day and month of every time-partitioned asset: where the data starts, so the
    # catalog counts as missing only what should be there (the demo sets it to its month).
    partitions_start: date = _setting("ANALYTICS_PARTITIONS_START", date(2025, 1, 1), _first_of_month)
    # Ingestion and its checks.
    raw_retention_days: int = _setting("ANALYTICS_RAW_RETENTION_DAYS", 400, _positive_int)
    # Judged per delivery hour (a few hundred to a few thousand lines): at 0.1 % one broken line in an
    # hour of 700 warned, so every other hour of ordinary input did; 0.5 % is several in an hour.
    quarantine_warn_rate: float = _setting("ANALYTICS_QUARANTINE_WARN_RATE", 0.005, float)
    quarantine_fail_rate: float = _setting("ANALYTICS_QUARANTINE_FAIL_RATE", 0.01, float)
    raw_freshness_warn_minutes: int = _setting("ANALYTICS_RAW_FRESHNESS_WARN_MINUTES", 60, _positive_int)
    raw_freshness_fail_minutes: int = _setting("ANALYTICS_RAW_FRESHNESS_FAIL_MINUTES", 120, _positive_int)
    sensor_lookback_days: int = _setting("ANALYTICS_SENSOR_LOOKBACK_DAYS", 2, _positive_int)
    # Rollups: warehouse connections a multi-day run uses at once; work_mem of a rollup transaction.
    rollup_workers: int = _setting("ANALYTICS_ROLLUP_WORKERS", 2, _positive_int)
    rollup_work_mem: str = _setting("ANALYTICS_ROLLUP_WORK_MEM", "256MB")
    # Usage anomalies: an organization's hour against the same hour of the trailing days.
    anomaly_trailing_days: int = _setting("ANALYTICS_ANOMALY_TRAILING_DAYS", 7, _positive_int)
    anomaly_stddevs: float = _setting("ANALYTICS_ANOMALY_STDDEVS", 3.0, float)
    # Metrics: plans (MRR), churn, the forecast backtest's bound.
    plans_file: str | None = _setting("ANALYTICS_PLANS_FILE", None)  # None: revenue is the billed usage
    churn_inactive_days: int = _setting("ANALYTICS_CHURN_INACTIVE_DAYS", 14, _positive_int)
    churn_drop_percent: float = _setting("ANALYTICS_CHURN_DROP_PERCENT", 50.0, float)
    forecast_mape_bound_percent: float = _setting("ANALYTICS_FORECAST_MAPE_BOUND_PERCENT", 25.0, float)
    # Alerts: Slack-compatible JSON posted here when set; links point at the Dagster UI.
    alert_webhook_url: str | None = _setting("ANALYTICS_ALERT_WEBHOOK_URL", None, secret=True)
    dagster_ui_url: str = _setting("ANALYTICS_DAGSTER_UI_URL", "http://localhost:3000", _base_url)
    # Platform alerts (analytics_pipeline.alerts): the rules file (None: the rules shipped in the package);
    # critical alerts go to PagerDuty's Events API v2 with this routing key (unset: to the webhook above).
    alert_rules_file: str | None = _setting("ANALYTICS_ALERT_RULES_FILE", None)
    pagerduty_routing_key: str | None = _setting("ANALYTICS_PAGERDUTY_ROUTING_KEY", None, secret=True)
    pagerduty_events_url: str = _setting("ANALYTICS_PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com/v2/enqueue")
    # CloudWatch Metric Streams objects (Firehose to S3): the platform's CPU, memory, connections, requests, 5xx.
    metric_streams_url: str = _setting("ANALYTICS_METRIC_STREAMS_URL", "", under_home="metric-streams")
    # Retention (periods from the seed documents).
    raw_archive_after_days: int = _setting("ANALYTICS_RAW_ARCHIVE_AFTER_DAYS", 7, _positive_int)
    rollup_retention_months: int = _setting("ANALYTICS_ROLLUP_RETENTION_MONTHS", 13, _positive_int)
    quarantine_retention_days: int = _setting("ANALYTICS_QUARANTINE_RETENTION_DAYS", 90, _positive_int)
    export_retention_days: int = _setting("ANALYTICS_EXPORT_RETENTION_DAYS", 90, _positive_int)
    archive_glacier_after_days: int = _setting("ANALYTICS_ARCHIVE_GLACIER_AFTER_DAYS", 365, _positive_int)
    archive_expire_after_days: int = _setting("ANALYTICS_ARCHIVE_EXPIRE_AFTER_DAYS", 2555, _positive_int)  # 7 years
    dagster_run_retention_days: int = _setting("ANALYTICS_DAGSTER_RUN_RETENTION_DAYS", 90, _positive_int)
    # The export API (analytics-pipeline api).
    api_host: str = _setting("ANALYTICS_API_HOST", "127.0.0.1")
    api_port: int = _setting("ANALYTICS_API_PORT", 8080, _port)
    # Base of the signed download links the API serves itself (local-directory exports store);
    # None: the address the API listens on (api.app.public_url), so `api --port N` links to port N.
    api_public_url: str | None = _setting("ANALYTICS_API_PUBLIC_URL", None, _base_url)
    # The S3 endpoint finance's browsers reach, for the presigned download URLs, when it is not the
    # one the API itself uses (compose: MinIO is minio:9000 inside, localhost:9000 outside).
    api_download_s3_endpoint_url: str | None = _setting("ANALYTICS_API_DOWNLOAD_S3_ENDPOINT_URL", None, _base_url)
    # None: a random key, made once and kept in $ANALYTICS_HOME/api-signing-key (0600).
    api_signing_key: str | None = _setting("ANALYTICS_API_SIGNING_KEY", None, secret=True)
    api_pool_size: int = _setting("ANALYTICS_API_POOL_SIZE", 10, _positive_int)
    api_pool_timeout_seconds: float = _setting("ANALYTICS_API_POOL_TIMEOUT_SECONDS", 5.0, _positive_float)
    api_max_active_jobs: int = _setting("ANALYTICS_API_MAX_ACTIVE_JOBS", 10, _positive_int)
    # How long a key's row is reused before it is read again (a revocation takes this long); 0: never.
    api_key_cache_seconds: float = _setting("ANALYTICS_API_KEY_CACHE_SECONDS", 5.0, _non_negative_float)
    api_access_log: bool = _setting("ANALYTICS_API_ACCESS_LOG", True, _boolean)
    # The portal (/portal): how long a session opened with an API key lasts.
    portal_session_hours: int = _setting("ANALYTICS_PORTAL_SESSION_HOURS", 24, _session_hours)

    def __post_init__(self) -> None:
        # Frozen: derived values are set once, here. Home is absolute so child processes agree on it.
        home = Path(self.home).expanduser().resolve()
        object.__setattr__(self, "home", home)
        for spec in fields(self):
            if spec.metadata.get("under_home") and not getattr(self, spec.name):
                object.__setattr__(self, spec.name, str(home / spec.metadata["under_home"]))

    @property
    def embedded_pgdata(self) -> Path:
        """The data directory of the embedded PostgreSQL server."""
        return self.home / "postgres"


def setting_variables() -> dict[str, str]:
    """Each setting's environment variable, by field name."""
    return {spec.name: spec.metadata["env"] for spec in fields(Settings)}


def is_secret(name: str) -> bool:
    """Whether the setting ``name`` holds a secret (never logged, passed to Dagster as an EnvVar)."""
    return next(spec.metadata["secret"] for spec in fields(Settings) if spec.name == name)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve the settings from ``environ`` (default: the process environment).

    A blank variable counts as unset; a value its setting cannot take raises
    :class:`SettingsError` naming the variable (a secret's value is never repeated)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for spec in fields(Settings):
        name = spec.metadata["env"]
        text = env.get(name, "").strip()
        if not text:
            continue
        try:
            values[spec.name] = spec.metadata["parse"](text)
        except ValueError as error:
            shown = "(secret)" if spec.metadata["secret"] else repr(text)
            raise SettingsError(f"{name}={shown}: {error}") from None
    return Settings(**values)


@functools.cache
def current_settings() -> Settings:
    """The process's settings, read from its environment once."""
    return load_settings()

