"""The cost domain's resources: a boto3 Cost Explorer (``ce``) client, and the cost settings."""

import boto3
import dagster as dg
from botocore.config import Config

from analytics_pipeline.defs.resources import SettingsResource, setting_field


class CostExplorerResource(dg.ConfigurableResource):
    """AWS Cost Explorer (``GetCostAndUsage``), through boto3 and the standard AWS credential chain.

    Leave ``endpoint_url`` empty for AWS itself; botocore then also honours
    ``AWS_ENDPOINT_URL_CE`` and ``AWS_ENDPOINT_URL``. When ``AWS_ENDPOINT_URL`` points at an
    S3-compatible store (MinIO, Linode), set ``endpoint_url`` (or ``AWS_ENDPOINT_URL_CE``) to
    ``https://ce.us-east-1.amazonaws.com`` so Cost Explorer calls still reach AWS. Retries
    (``standard`` mode, ``max_attempts``) cover throttling; the asset's retry policy covers the rest.
    """

    endpoint_url: str = ""
    region_name: str = "us-east-1"  # Cost Explorer's only endpoint region
    profile_name: str = ""
    max_attempts: int = 5

    def get_client(self):
        session = boto3.session.Session(profile_name=self.profile_name or None)
        return session.client(
            "ce",
            region_name=self.region_name,
            endpoint_url=self.endpoint_url or None,
            config=Config(retries={"max_attempts": self.max_attempts, "mode": "standard"}),
        )


class CostSettings(SettingsResource):
    """The cost settings: where cost comes from, how shared cost is split (the budgets are
    ``BudgetSettings``, shared with the metrics)."""

    source: str = setting_field("cost_source")
    allocation_driver: str = setting_field("cost_allocation_driver")
