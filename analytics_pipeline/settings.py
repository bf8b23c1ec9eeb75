"""Every setting of the project, read from the environment in this one place.

Each setting is optional: unset, it falls back to an embedded default under
``ANALYTICS_HOME`` so the project runs on a fresh machine with nothing installed
but Python. The README's configuration table documents the same names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "./.analytics"


@dataclass(frozen=True)
class Settings:
    """The resolved configuration. Build it with :func:`load_settings`."""

    home: Path
    database_url: str | None  # None: start the embedded PostgreSQL under ``home``
    logs_url: str
    exports_url: str
    archive_url: str
    price_catalog: str | None  # None: the catalog shipped in the package
    build_metrics_url: str = ""
    focus_costs_url: str = ""
    budgets_file: str | None = None  # None: no budgets configured
    cost_allocation_driver: str = "tokens"  # tokens | requests | duration
    cost_source: str = "focus"  # focus | cost_explorer
    raw_retention_days: int = 400
    quarantine_warn_rate: float = 0.001
    quarantine_fail_rate: float = 0.01
    raw_freshness_warn_minutes: int = 60
    raw_freshness_fail_minutes: int = 120
    sensor_lookback_days: int = 2
    rollup_workers: int = 2  # warehouse connections a multi-day rollup run uses at once
    rollup_work_mem: str = "256MB"  # work_mem of a rollup transaction (one day's sort in memory)
    # Usage anomalies: an organization's hour against the same hour of the trailing days.
    anomaly_trailing_days: int = 7
    anomaly_stddevs: float = 3.0
    # Alerts: Slack-compatible JSON posted here when set; links point at the Dagster UI.
    alert_webhook_url: str | None = None
    dagster_ui_url: str = "http://localhost:3000"
    # Retention (periods from the seed documents).
    raw_archive_after_days: int = 7
    rollup_retention_months: int = 13
    quarantine_retention_days: int = 90
    export_retention_days: int = 90
    archive_glacier_after_days: int = 365
    archive_expire_after_days: int = 2555  # 7 years
    dagster_run_retention_days: int = 90

    @property
    def embedded_pgdata(self) -> Path:
        return self.home / "postgres"


def _env(name: str, environ: dict[str, str]) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Resolve the settings from ``environ`` (default: the process environment)."""
    env = dict(os.environ if environ is None else environ)
    home = Path(_env("ANALYTICS_HOME", env) or DEFAULT_HOME).expanduser().resolve()
    return Settings(
        home=home,
        database_url=_env("ANALYTICS_DATABASE_URL", env),
        logs_url=_env("ANALYTICS_LOGS_URL", env) or str(home / "logs"),
        exports_url=_env("ANALYTICS_EXPORTS_URL", env) or str(home / "exports"),
        archive_url=_env("ANALYTICS_ARCHIVE_URL", env) or str(home / "archive"),
        price_catalog=_env("ANALYTICS_PRICE_CATALOG", env),
        build_metrics_url=_env("ANALYTICS_BUILD_METRICS_URL", env) or str(home / "build-metrics"),
        focus_costs_url=_env("ANALYTICS_FOCUS_COSTS_URL", env) or str(home / "focus-costs"),
        budgets_file=_env("ANALYTICS_BUDGETS_FILE", env),
        cost_allocation_driver=_env("ANALYTICS_COST_ALLOCATION_DRIVER", env) or "tokens",
        cost_source=_env("ANALYTICS_COST_SOURCE", env) or "focus",
        raw_retention_days=int(_env("ANALYTICS_RAW_RETENTION_DAYS", env) or 400),
        sensor_lookback_days=int(_env("ANALYTICS_SENSOR_LOOKBACK_DAYS", env) or 2),
        rollup_workers=max(1, int(_env("ANALYTICS_ROLLUP_WORKERS", env) or 2)),
        rollup_work_mem=_env("ANALYTICS_ROLLUP_WORK_MEM", env) or "256MB",
        quarantine_warn_rate=float(_env("ANALYTICS_QUARANTINE_WARN_RATE", env) or 0.001),
        quarantine_fail_rate=float(_env("ANALYTICS_QUARANTINE_FAIL_RATE", env) or 0.01),
        raw_freshness_warn_minutes=int(_env("ANALYTICS_RAW_FRESHNESS_WARN_MINUTES", env) or 60),
        raw_freshness_fail_minutes=int(_env("ANALYTICS_RAW_FRESHNESS_FAIL_MINUTES", env) or 120),
        anomaly_trailing_days=int(_env("ANALYTICS_ANOMALY_TRAILING_DAYS", env) or 7),
        anomaly_stddevs=float(_env("ANALYTICS_ANOMALY_STDDEVS", env) or 3.0),
        alert_webhook_url=_env("ANALYTICS_ALERT_WEBHOOK_URL", env),
        dagster_ui_url=(_env("ANALYTICS_DAGSTER_UI_URL", env) or "http://localhost:3000").rstrip("/"),
        raw_archive_after_days=int(_env("ANALYTICS_RAW_ARCHIVE_AFTER_DAYS", env) or 7),
        rollup_retention_months=int(_env("ANALYTICS_ROLLUP_RETENTION_MONTHS", env) or 13),
        quarantine_retention_days=int(_env("ANALYTICS_QUARANTINE_RETENTION_DAYS", env) or 90),
        export_retention_days=int(_env("ANALYTICS_EXPORT_RETENTION_DAYS", env) or 90),
        archive_glacier_after_days=int(_env("ANALYTICS_ARCHIVE_GLACIER_AFTER_DAYS", env) or 365),
        archive_expire_after_days=int(_env("ANALYTICS_ARCHIVE_EXPIRE_AFTER_DAYS", env) or 2555),
        dagster_run_retention_days=int(_env("ANALYTICS_DAGSTER_RUN_RETENTION_DAYS", env) or 90),
    )
