"""The cost domain's resources: a boto3 Cost Explorer (``ce``) client, and the cost settings."""

import boto3
import dagster as dg
from botocore.config import Config
from pydantic import Field

from analytics_pipeline.settings import Settings


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


class CostSettings(dg.ConfigurableResource):
    """The cost settings (`ANALYTICS_COST_SOURCE`, `ANALYTICS_COST_ALLOCATION_DRIVER`, `ANALYTICS_BUDGETS_FILE`)."""

    source: str = Field(default=Settings.cost_source,
                        description="Where infrastructure cost comes from: focus (FOCUS exports) or cost_explorer.")
    allocation_driver: str = Field(default=Settings.cost_allocation_driver,
                                   description="How shared cost is split: tokens, requests or duration.")
    budgets_file: str | None = Field(default=Settings.budgets_file,
                                     description="Per-tenant and total monthly budgets (.json or .toml); "
                                                 "empty: the budget check is skipped.")

    @classmethod
    def from_settings(cls, settings: Settings) -> "CostSettings":
        return cls(source=settings.cost_source, allocation_driver=settings.cost_allocation_driver,
                   budgets_file=settings.budgets_file)
