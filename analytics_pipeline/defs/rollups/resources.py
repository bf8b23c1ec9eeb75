"""``RollupSettings``: the price catalog, how rollups are computed, how anomalies are judged."""

import dagster as dg
from pydantic import Field

from analytics_pipeline.rollups.anomalies import AnomalyPolicy
from analytics_pipeline.settings import Settings


class RollupSettings(dg.ConfigurableResource):
    """The rollup settings (`ANALYTICS_PRICE_CATALOG`, `ANALYTICS_ROLLUP_WORKERS`,
    `ANALYTICS_ROLLUP_WORK_MEM`, `ANALYTICS_ANOMALY_TRAILING_DAYS`, `ANALYTICS_ANOMALY_STDDEVS`)."""

    price_catalog: str | None = Field(
        default=Settings.price_catalog,
        description="Model price catalog, a path or an http(s) URL; empty: the catalog shipped in the package.")
    workers: int = Field(
        default=Settings.rollup_workers,
        description="Warehouse connections a multi-day rollup run uses at once, one day per transaction each.")
    work_mem: str = Field(
        default=Settings.rollup_work_mem, description="PostgreSQL work_mem of each rollup transaction.")
    anomaly_trailing_days: int = Field(
        default=Settings.anomaly_trailing_days,
        description="An organization's hour is judged against the same hour of this many trailing days.")
    anomaly_stddevs: float = Field(
        default=Settings.anomaly_stddevs, description="Standard deviations beyond which usage is an anomaly.")

    def anomaly_policy(self) -> AnomalyPolicy:
        return AnomalyPolicy(trailing_days=self.anomaly_trailing_days, stddevs=self.anomaly_stddevs)

    @classmethod
    def from_settings(cls, settings: Settings) -> "RollupSettings":
        return cls(price_catalog=settings.price_catalog, workers=settings.rollup_workers,
                   work_mem=settings.rollup_work_mem, anomaly_trailing_days=settings.anomaly_trailing_days,
                   anomaly_stddevs=settings.anomaly_stddevs)
