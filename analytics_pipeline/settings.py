"""Every setting of the project, declared once and read from the environment in this one place.

Each setting is a field of :class:`Settings` declared by :func:`_setting`: its environment
variable, default, parser (the field's type), description and whether it is a secret.
Everything else is derived from that declaration: the Dagster resources' fields
(``defs.resources.setting_field``), the variables handed to child processes
(:func:`environment_for`) and the README's configuration table
(``python -m analytics_pipeline.settings`` prints it; a test keeps the README in step).

Each setting is optional: unset, it falls back to its default, and the stores fall back to
directories under the home directory, so the project runs on a fresh machine with nothing
installed but Python. The Dagster definitions read the settings once (:func:`current_settings`)
into resources; code outside Dagster (the CLI, the export API) reads them the same way.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

DEFAULT_HOME = Path("./.analytics")


class SettingsError(ValueError):
    """An environment variable holds a value its setting cannot take."""


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
class Setting:
    """The declaration of one setting: everything said about it, said here once."""

    variable: str  # the environment variable
    description: str  # what it means (the README's table, the Dagster UI's resource page)
    parse: Callable[[str], Any] = str  # the variable's text to the field's value; ValueError when it cannot
    secret: bool = False  # never logged or shown; handed to Dagster as an EnvVar
    under_home: str | None = None  # unset: the directory of this name under the home directory
    unset: str | None = None  # what leaving it unset means, where that is not a plain default value

    def shown_default(self, default: Any) -> str:
        """The default as the README's table shows it (Markdown)."""
        if self.under_home:
            return f"`${declared('home').variable}/{self.under_home}`"
        if self.unset:
            return f"unset: {self.unset}"
        if isinstance(default, bool):
            return f"`{str(default).lower()}`"
        if isinstance(default, float):
            return f"`{default:g}`"
        if isinstance(default, Path) and not default.is_absolute():
            return f"`./{default}`"
        return f"`{default}`"


def _setting(variable: str, default: Any, description: str, parse: Callable[[str], Any] = str, *,
             secret: bool = False, under_home: str | None = None, unset: str | None = None) -> Any:
    """A field of :class:`Settings` holding its declaration (see :class:`Setting`)."""
    declaration = Setting(variable, description, parse, secret, under_home, unset)
    return field(default=default, metadata={"setting": declaration})


_STORE = "`s3://bucket/prefix` or a directory"


@dataclass(frozen=True)
class Settings:
    """The resolved configuration: build it with :func:`load_settings` (``Settings()`` is the defaults)."""

    home: Path = _setting(
        "ANALYTICS_HOME", DEFAULT_HOME, "Where embedded state lives: `postgres/` (server data), `logs/`, "
        "`exports/`, `archive/`, `dagster/` (DAGSTER_HOME).", Path)
    database_url: str | None = _setting(
        "ANALYTICS_DATABASE_URL", None, "Warehouse, PostgreSQL 14 or newer (`postgresql://user:pass@host:5432/db`). "
        "Tables live in schema `analytics`; migrations are applied on first use.", secret=True,
        unset="embedded PostgreSQL under `ANALYTICS_HOME`")
    dagster_pg_url: str | None = _setting(
        "DAGSTER_PG_URL", None, "Dagster's own storage, used by `dagster.yaml`.", secret=True,
        unset="the `dagster` database of the embedded server (or `ANALYTICS_DATABASE_URL`)")
    logs_url: str = _setting("ANALYTICS_LOGS_URL", "", f"Where usage log objects arrive: {_STORE}.", under_home="logs")
    exports_url: str = _setting("ANALYTICS_EXPORTS_URL", "", f"Where finance exports are written: {_STORE}.",
                                under_home="exports")
    archive_url: str = _setting("ANALYTICS_ARCHIVE_URL", "", f"Where raw-event Parquet archives are written: {_STORE}.",
                                under_home="archive")
    focus_costs_url: str = _setting(
        "ANALYTICS_FOCUS_COSTS_URL", "", "Cloud cost exports in FOCUS format (`BILLING_PERIOD=YYYY-MM/*.csv[.gz]`).",
        under_home="focus-costs")
    build_metrics_url: str = _setting(
        "ANALYTICS_BUILD_METRICS_URL", "", "Where CI run files arrive (`metrics/YYYY/MM/DD/<run_id>.json`).",
        under_home="build-metrics")
    metric_streams_url: str = _setting(
        "ANALYTICS_METRIC_STREAMS_URL", "", "CloudWatch Metric Streams objects (Firehose to S3, `YYYY/MM/DD/HH/` "
        "prefixes): the platform's CPU, memory, connections, requests and 5xx.", under_home="metric-streams")
    price_catalog: str | None = _setting(
        "ANALYTICS_PRICE_CATALOG", None, "Model price catalog, a path or an http(s) URL.",
        unset="the catalog shipped in the package (`analytics_pipeline/price_catalog.csv`)")
    # Costs.
    cost_source: str = _setting(
        "ANALYTICS_COST_SOURCE", "focus", "Where infrastructure cost comes from: `focus` (FOCUS exports) or "
        "`cost_explorer` (AWS Cost Explorer, grouped by the `customer_id` tag and SERVICE, one request per "
        "`environment` x `service` tag).")
    cost_allocation_driver: str = _setting(
        "ANALYTICS_COST_ALLOCATION_DRIVER", "tokens", "How shared cost is split: `tokens`, `requests` or `duration`.")
    budgets_file: str | None = _setting(
        "ANALYTICS_BUDGETS_FILE", None, "Per-tenant and total monthly budgets, `.json` or `.toml` (see "
        "`costs/budgets.example.json`): the budget check, and the health score's budget burn where a tenant has one.",
        unset="budget check skipped")
    # The first hour, day and month of every time-partitioned asset: where the data starts, so the
    # catalog counts as missing only what should be there (the demo sets it to its month).
    partitions_start: date = _setting(
        "ANALYTICS_PARTITIONS_START", date(2025, 1, 1), "The first hour, day and month of every time-partitioned "
        "asset (a month's first day): where the data starts, so the UI counts as missing only what should be "
        "there. The demo sets it to its month.", _first_of_month)
    # Ingestion and its checks.
    raw_retention_days: int = _setting(
        "ANALYTICS_RAW_RETENTION_DAYS", 400, "Events older than this are quarantined as "
        "`timestamp_out_of_retention`; raw partitions older than this are dropped (once archived).", _positive_int)
    # Judged per delivery hour (a few hundred to a few thousand lines): at 0.1 % one broken line in an
    # hour of 700 warned, so every other hour of ordinary input did; 0.5 % is several in an hour.
    quarantine_warn_rate: float = _setting(
        "ANALYTICS_QUARANTINE_WARN_RATE", 0.005, "Quarantined share of a delivery hour's lines above which its "
        "check warns (judged per hour: at 0.1 % a single broken line in an hour of 700 warned).", float)
    quarantine_fail_rate: float = _setting(
        "ANALYTICS_QUARANTINE_FAIL_RATE", 0.01, "Quarantined share of a delivery hour's lines above which its "
        "check fails.", float)
    raw_freshness_warn_minutes: int = _setting(
        "ANALYTICS_RAW_FRESHNESS_WARN_MINUTES", 60, "Freshness policy of the raw events: minutes without new data "
        "after which they warn (rollups allow a little more).", _positive_int)
    raw_freshness_fail_minutes: int = _setting(
        "ANALYTICS_RAW_FRESHNESS_FAIL_MINUTES", 120, "Minutes without new raw events after which their freshness "
        "fails.", _positive_int)
    sensor_lookback_days: int = _setting(
        "ANALYTICS_SENSOR_LOOKBACK_DAYS", 2, "Days of `YYYY/MM/DD/` prefixes the object sensors (logs, build "
        "metrics, metric streams) list each tick.", _positive_int)
    # Rollups: warehouse connections a multi-day run uses at once; work_mem of a rollup transaction.
    rollup_workers: int = _setting(
        "ANALYTICS_ROLLUP_WORKERS", 2, "Warehouse connections a multi-day rollup run (a backfill) uses at once, one "
        "day per transaction each; match the database server's cores.", _positive_int)
    rollup_work_mem: str = _setting(
        "ANALYTICS_ROLLUP_WORK_MEM", "256MB", "PostgreSQL `work_mem` for each rollup and metrics transaction (one "
        "day's sort stays in memory).")
    # Usage anomalies: an organization's hour against the same hour of the trailing days.
    anomaly_trailing_days: int = _setting(
        "ANALYTICS_ANOMALY_TRAILING_DAYS", 7, "Usage anomaly check: an organization's hour is judged against the "
        "same hour of this many trailing days.", _positive_int)
    anomaly_stddevs: float = _setting(
        "ANALYTICS_ANOMALY_STDDEVS", 3.0, "Usage anomaly check: standard deviations beyond which an hour's usage "
        "warns.", float)
    # Metrics: plans (MRR), churn, the forecast backtest's bound.
    plans_file: str | None = _setting(
        "ANALYTICS_PLANS_FILE", None, "Plans per organization for MRR, `.json` or `.toml` (monthly commitments, "
        "discounts; see `metrics/plans.example.json`).", unset="revenue is the billed usage")
    churn_inactive_days: int = _setting(
        "ANALYTICS_CHURN_INACTIVE_DAYS", 14, "Days without activity after which an organization has churned; the "
        "health score's recency is 0 from there.", _positive_int)
    churn_drop_percent: float = _setting(
        "ANALYTICS_CHURN_DROP_PERCENT", 50.0, "A week-over-week drop in requests beyond this percentage is a churn "
        "signal.", float)
    forecast_mape_bound_percent: float = _setting(
        "ANALYTICS_FORECAST_MAPE_BOUND_PERCENT", 25.0, "`forecast_backtest_within_bound` warns when the seasonal "
        "forecast's backtest MAPE of requests exceeds this.", float)
    # Alerts: Slack-compatible JSON posted here when set; links point at the Dagster UI.
    alert_webhook_url: str | None = _setting(
        "ANALYTICS_ALERT_WEBHOOK_URL", None, "Alerts of severity warning (warned checks, platform warnings), and "
        "critical ones (failed runs, failed checks, platform outages) while no PagerDuty key is set, are posted "
        "here as JSON with a Slack-compatible `text` field. A secret.", secret=True,
        unset="warnings kept in the alert history only")
    dagster_ui_url: str = _setting(
        "ANALYTICS_DAGSTER_UI_URL", "http://localhost:3000", "Base of the Dagster UI links in alerts.", _base_url)
    alert_rules_file: str | None = _setting(
        "ANALYTICS_ALERT_RULES_FILE", None,
        "The platform alert rules (TOML or JSON; see Alerts (on call) in the README).",
        unset="the rules shipped in the package")
    pagerduty_routing_key: str | None = _setting(
        "ANALYTICS_PAGERDUTY_ROUTING_KEY", None, "Routing key of a PagerDuty Events API v2 integration; critical "
        "platform alerts trigger and resolve there. A secret.", secret=True,
        unset="critical alerts go to the webhook")
    pagerduty_events_url: str = _setting(
        "ANALYTICS_PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com/v2/enqueue", "Where PagerDuty events are "
        "posted (tests point it at a local receiver).")
    # Retention (periods from the seed documents).
    raw_archive_after_days: int = _setting(
        "ANALYTICS_RAW_ARCHIVE_AFTER_DAYS", 7, "Raw event days older than this are archived as Parquet (zstd) under "
        "`ANALYTICS_ARCHIVE_URL`.", _positive_int)
    rollup_retention_months: int = _setting(
        "ANALYTICS_ROLLUP_RETENTION_MONTHS", 13, "Hourly, daily and endpoint rollups older than this many complete "
        "months are deleted.", _positive_int)
    quarantine_retention_days: int = _setting(
        "ANALYTICS_QUARANTINE_RETENTION_DAYS", 90, "Quarantine rows older than this are deleted.", _positive_int)
    export_retention_days: int = _setting(
        "ANALYTICS_EXPORT_RETENTION_DAYS", 90, "Export files older than this are deleted; their job rows are kept, "
        "marked `expired`.", _positive_int)
    archive_glacier_after_days: int = _setting(
        "ANALYTICS_ARCHIVE_GLACIER_AFTER_DAYS", 365, "S3 lifecycle rule on the archive prefix: objects move to "
        "Glacier after this many days.", _positive_int)
    archive_expire_after_days: int = _setting(
        "ANALYTICS_ARCHIVE_EXPIRE_AFTER_DAYS", 2555, "S3 lifecycle rule on the archive prefix: objects expire after "
        "this many days (7 years).", _positive_int)
    dagster_run_retention_days: int = _setting(
        "ANALYTICS_DAGSTER_RUN_RETENTION_DAYS", 90, "Dagster runs (and their event logs) older than this are pruned.",
        _positive_int)
    # The export API (analytics-pipeline api).
    api_host: str = _setting("ANALYTICS_API_HOST", "127.0.0.1", "Where `analytics-pipeline api` listens (`--host` "
                             "overrides).")
    api_port: int = _setting("ANALYTICS_API_PORT", 8080, "The port `analytics-pipeline api` listens on (`--port` "
                             "overrides).", _port)
    api_workers: int | None = _setting(
        "ANALYTICS_API_WORKERS", None, "Worker processes of `analytics-pipeline api` on its one port (`--workers` "
        "overrides). An ingested batch is Python on one core, then waits on PostgreSQL: two per CPU keep the "
        "CPUs busy while batches wait (benchmarks/realtime.py).", _positive_int,
        unset="two per CPU the process may run on")
    api_public_url: str | None = _setting(
        "ANALYTICS_API_PUBLIC_URL", None, "Base URL of the signed download links the API serves itself when exports "
        "are in a local directory; set it when clients reach the API by another address.", _base_url,
        unset="`http://<host>:<port>` the API listens on (`127.0.0.1` for a wildcard host)")
    api_signing_key: str | None = _setting(
        "ANALYTICS_API_SIGNING_KEY", None, "HMAC key of those download links (secret); links stay valid across "
        "restarts. Several API processes need the same key.", secret=True,
        unset="a random key made once in `$ANALYTICS_HOME/api-signing-key` (mode 0600)")
    api_download_s3_endpoint_url: str | None = _setting(
        "ANALYTICS_API_DOWNLOAD_S3_ENDPOINT_URL", None, "The S3 endpoint the presigned download URLs name, when "
        "finance's browsers reach the store by another address than the API does (compose: "
        "`http://localhost:9000` for MinIO's `minio:9000`).", _base_url, unset="the API's own S3 endpoint")
    api_pool_size: int = _setting(
        "ANALYTICS_API_POOL_SIZE", 10, "Warehouse connections the API keeps open at most.", _positive_int)
    api_pool_timeout_seconds: float = _setting(
        "ANALYTICS_API_POOL_TIMEOUT_SECONDS", 5.0, "How long a request waits for a connection before it is answered "
        "503 `warehouse_unavailable`.", _positive_float)
    api_max_active_jobs: int = _setting(
        "ANALYTICS_API_MAX_ACTIVE_JOBS", 10, "Export jobs an organization may have pending or running at once (then "
        "429 with `Retry-After`).", _positive_int)
    api_key_cache_seconds: float = _setting(
        "ANALYTICS_API_KEY_CACHE_SECONDS", 5.0, "How long the API reuses a key's row before reading it again: a "
        "revoked key keeps working for at most this long in a running API (`0`: read on every request).",
        _non_negative_float)
    api_access_log: bool = _setting(
        "ANALYTICS_API_ACCESS_LOG", True, "uvicorn's access log (never headers; download-link signatures redacted).",
        _boolean)
    portal_session_hours: int = _setting(
        "ANALYTICS_PORTAL_SESSION_HOURS", 24, "How long a portal session opened with an API key lasts (1 to 24 "
        "hours; a revoked or expired key ends it sooner).", _session_hours)

    def __post_init__(self) -> None:
        # Frozen: derived values are set once, here. Home is absolute so child processes agree on it.
        home = Path(self.home).expanduser().resolve()
        object.__setattr__(self, "home", home)
        for name, setting in declarations().items():
            if setting.under_home and not getattr(self, name):
                object.__setattr__(self, name, str(home / setting.under_home))

    @property
    def embedded_pgdata(self) -> Path:
        """The data directory of the embedded PostgreSQL server."""
        return self.home / "postgres"


@functools.cache
def declarations() -> dict[str, Setting]:
    """Each setting's declaration, by field name, in the order they are declared."""
    return {spec.name: spec.metadata["setting"] for spec in fields(Settings)}


def declared(name: str) -> Setting:
    """The declaration of the setting ``name`` (a field of :class:`Settings`)."""
    return declarations()[name]


def default_of(name: str) -> Any:
    """The default value of the setting ``name`` as declared (before home is applied)."""
    return Settings.__dataclass_fields__[name].default


def setting_variables() -> dict[str, str]:
    """Each setting's environment variable, by field name."""
    return {name: setting.variable for name, setting in declarations().items()}


def is_secret(name: str) -> bool:
    """Whether the setting ``name`` holds a secret (never logged, passed to Dagster as an EnvVar)."""
    return declared(name).secret


def is_set(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the variable of the setting ``name`` is set (not blank) in ``environ`` (the process's)."""
    return bool((os.environ if environ is None else environ).get(declared(name).variable, "").strip())


def environment_for(**values: Any) -> dict[str, str]:
    """The environment variables that give settings these values (``api_port=8081``), for a child
    process that reads its settings from its environment."""
    return {declared(name).variable: str(value) for name, value in values.items()}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve the settings from ``environ`` (default: the process environment).

    A blank variable counts as unset; a value its setting cannot take raises
    :class:`SettingsError` naming the variable (a secret's value is never repeated)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, setting in declarations().items():
        text = env.get(setting.variable, "").strip()
        if not text:
            continue
        try:
            values[name] = setting.parse(text)
        except ValueError as error:
            shown = "(secret)" if setting.secret else repr(text)
            raise SettingsError(f"{setting.variable}={shown}: {error}") from None
    return Settings(**values)


@functools.cache
def current_settings() -> Settings:
    """The process's settings, read from its environment once."""
    return load_settings()


def configuration_table() -> str:
    """The README's table of the settings (Markdown), one row per declaration."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, setting in declarations().items():
        rows.append(f"| `{setting.variable}` | {setting.shown_default(default_of(name))} | {setting.description} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.stdout.write(configuration_table())
