"""``RollupSettings``: the price catalog, how rollups are computed, how anomalies are judged."""

from analytics_pipeline.defs.resources import SettingsResource, setting_field
from analytics_pipeline.rollups.anomalies import AnomalyPolicy


class RollupSettings(SettingsResource):
    """The rollup settings: price catalog, workers, work_mem, the anomaly check's policy."""

    price_catalog: str | None = setting_field("price_catalog")
    workers: int = setting_field("rollup_workers")
    work_mem: str = setting_field("rollup_work_mem")
    anomaly_trailing_days: int = setting_field("anomaly_trailing_days")
    anomaly_stddevs: float = setting_field("anomaly_stddevs")

    def anomaly_policy(self) -> AnomalyPolicy:
        return AnomalyPolicy(trailing_days=self.anomaly_trailing_days, stddevs=self.anomaly_stddevs)
