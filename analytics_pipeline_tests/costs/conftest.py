"""Helpers of the cost tests: Cost Explorer results queued on moto's server, rows inserted directly."""

import json
import urllib.request
from datetime import UTC, date, datetime, timedelta

import pytest


@pytest.fixture
def queue_cost_explorer_results(s3_endpoint):
    """Queue GetCostAndUsage responses on the moto server: each new request body pops the next.

    moto caches a response per request body for the whole server session, so every test
    must ask for its own time period (and consume exactly the pages it queues).
    """

    def queue(*responses: dict) -> None:
        request = urllib.request.Request(
            f"{s3_endpoint}/moto-api/static/ce/cost-and-usage-results", method="POST",
            data=json.dumps({"results": list(responses)}).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            assert response.status == 201

    return queue


def ce_day(day: str, groups: list[tuple[str, str, str]], *, estimated: bool = False,
           metric: str = "UnblendedCost") -> dict:
    """One ResultsByTime entry: groups of (tag value, service, amount)."""
    end = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    return {
        "TimePeriod": {"Start": day, "End": end}, "Total": {}, "Estimated": estimated,
        "Groups": [{"Keys": [f"customer_id${tenant}", service], "Metrics": {metric: {"Amount": amount, "Unit": "USD"}}}
                   for tenant, service, amount in groups],
    }


def ce_page(*days: dict, next_token: str | None = None) -> dict:
    page = {"ResultsByTime": list(days), "DimensionValueAttributes": [],
            "GroupDefinitions": [{"Type": "TAG", "Key": "customer_id"}, {"Type": "DIMENSION", "Key": "SERVICE"}]}
    if next_token:
        page["NextPageToken"] = next_token
    return page


def ce_slices(pages: dict[tuple[str, str | None], list[dict]]) -> list[dict]:
    """The responses of one fetch, in request order: one request per (environment, service tag)
    slice of REQUEST_SLICES; the pages given for a slice, an empty page for every other one."""
    from analytics_pipeline.costs.cost_explorer import REQUEST_SLICES

    order = [(environment.value, service) for environment, service in REQUEST_SLICES]
    assert set(pages) <= set(order), sorted(set(pages) - set(order), key=str)
    return [page for key in order for page in pages.get(key, [ce_page()])]




def insert_daily_rollup(conn, day: date, organization_id: str, *, requests: int, tokens: int, revenue: str,
                        model_id: str = "m1") -> None:
    """A daily rollup row (what the rollup assets would have written for the day)."""
    conn.execute(
        "INSERT INTO analytics_daily_rollups (bucket_start, organization_id, model_id, request_count, tokens_input, "
        "tokens_output, tokens_total, error_count, client_error_count, server_error_count, cost_total) "
        "VALUES (%s, %s, %s, %s, %s, 0, %s, 0, 0, 0, %s)",
        (datetime(day.year, day.month, day.day, tzinfo=UTC), organization_id, model_id, requests, tokens, tokens,
         revenue))

