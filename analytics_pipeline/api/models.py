"""Request and response bodies, in the export contract's camelCase names (seed 002).

Times in responses are UTC, ``YYYY-MM-DDTHH:MM:SSZ``. Money is a decimal string with 4
decimals (the CSV's ``cost_total``), never a float.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from analytics_pipeline.exports.export_jobs import EARLIEST_TIME, LATEST_TIME, ExportJob

JobStatus = Literal["pending", "running", "succeeded", "failed", "expired"]
ACCEPTED_TIMES = f"from {EARLIEST_TIME:%Y-%m-%dT%H:%M:%SZ} to {LATEST_TIME:%Y-%m-%dT%H:%M:%SZ}"
#: A time of a request, as the OpenAPI document describes it (the API also takes a bare date).
TIME_SCHEMA = {"format": "date-time"}

JOB_EXAMPLE = {
    "jobId": "550e8400-e29b-41d4-a716-446655440000",
    "orgId": "123e4567-e89b-12d3-a456-426614174000",
    "status": "succeeded",
    "granularity": "daily",
    "byModel": True,
    "timeRange": {"start": "2024-01-01T00:00:00Z", "end": "2024-01-31T23:59:59Z"},
    "createdAt": "2024-01-15T10:00:00Z",
    "completedAt": "2024-01-15T10:02:30Z",
    "outputUri": "https://us-east-1.linodeobjects.com/analytics-exports/adhoc/123e4567-e89b-12d3-a456-426614174000/"
                 "550e8400-e29b-41d4-a716-446655440000/usage_daily.csv",
    "checksum": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "rowCount": 31,
    "initiatedBy": "finance-reporting",
}


class TimeRange(BaseModel):
    """``[start, end)``; an end 1 s before a boundary of the granularity (``2024-01-31T23:59:59Z``)
    is read as that boundary (``2024-02-01T00:00:00Z``), so both forms mean the same month."""

    model_config = ConfigDict(extra="forbid")

    start: str = Field(max_length=64, description=f"ISO 8601, UTC (`Z`) or with an offset; {ACCEPTED_TIMES}.",
                       examples=["2024-01-01T00:00:00Z"], json_schema_extra=TIME_SCHEMA)
    end: str = Field(max_length=64, description="ISO 8601; exclusive, or inclusive when 1 s before a boundary.",
                     examples=["2024-01-31T23:59:59Z"], json_schema_extra=TIME_SCHEMA)


class CreateExport(BaseModel):
    """An export request: at most 31 days, start and end on boundaries of the granularity."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"timeRange": {"start": "2024-01-01T00:00:00Z", "end": "2024-01-31T23:59:59Z"}, "granularity": "daily"},
        {"timeRange": {"start": "2024-01-01T00:00:00Z", "end": "2024-02-01T00:00:00Z"}, "granularity": "daily"},
        {"timeRange": {"start": "2024-01-01T00:00:00Z", "end": "2024-01-02T00:00:00Z"}, "granularity": "hourly",
         "byModel": False},
    ]})

    time_range: TimeRange = Field(alias="timeRange")
    # A string refused by the API's own rule (422 invalid_granularity), documented as the enum it is.
    granularity: str = Field(default="daily", max_length=32, description="`hourly`, `daily` (default) or `monthly`.",
                             json_schema_extra={"enum": ["hourly", "daily", "monthly"]})
    by_model: StrictBool = Field(default=True, alias="byModel",
                                 description="One row per model (default); false: rows aggregated across models, "
                                             "`model_id` empty.")


class ExportJobOut(BaseModel):
    """An export job. ``completedAt``, ``outputUri``, ``checksum``, ``rowCount`` once it
    succeeded; ``error`` (one sentence) when it failed."""

    model_config = ConfigDict(populate_by_name=True, json_schema_extra={"examples": [JOB_EXAMPLE]})

    job_id: str = Field(alias="jobId", json_schema_extra={"format": "uuid"})
    org_id: str = Field(alias="orgId")
    status: JobStatus
    granularity: Literal["hourly", "daily", "monthly"]
    by_model: bool = Field(alias="byModel")
    time_range: TimeRange = Field(alias="timeRange")
    created_at: str = Field(alias="createdAt")
    completed_at: str | None = Field(default=None, alias="completedAt")
    output_uri: str | None = Field(default=None, alias="outputUri",
                                   description="Where the CSV is stored (no credential): its URL in object "
                                               "storage, or on a local-directory store its key there (never "
                                               "the server's path); download it through `.../download`.")
    checksum: str | None = Field(default=None, description="`sha256:<hex>` of the CSV bytes.")
    row_count: int | None = Field(default=None, alias="rowCount")
    initiated_by: str | None = Field(default=None, alias="initiatedBy",
                                     description="The API key's name; for the monthly exports `schedule` when "
                                                 "the monthly schedule ran them, `dagster` when they were "
                                                 "materialized otherwise (the demo, a backfill).")
    error: str | None = None
    warning: str | None = Field(default=None, description="Set when the job succeeded with something to say: "
                                                          "a range without usage (`rowCount` 0, a header-only CSV).")


def job_body(job: ExportJob) -> dict:
    """The JSON of a job, as :class:`ExportJobOut` describes it, for :class:`JsonResponse` (built
    directly, times and ids as they come from the warehouse for orjson to render: a page of 200
    jobs through pydantic, or through Python's time formatting, costs more than its query)."""
    body = {"jobId": job.job_id, "orgId": job.organization_id, "status": job.status,
            "granularity": job.granularity, "byModel": job.by_model,
            "timeRange": {"start": job.range_start, "end": job.requested_end or job.range_end},
            "createdAt": job.created_at}
    if job.completed_at is not None and job.status != "running":
        body["completedAt"] = job.completed_at
    if job.status in ("succeeded", "expired"):
        for name, value in (("outputUri", _output_uri(job)), ("checksum", job.checksum), ("rowCount", job.row_count)):
            if value is not None:
                body[name] = value
    if job.initiated_by is not None:
        body["initiatedBy"] = job.initiated_by
    if job.status == "failed" and job.error is not None:
        body["error"] = job.error
    warning = job.warning
    if warning is not None:
        body["warning"] = warning
    return body


def _output_uri(job: ExportJob) -> str | None:
    # A local-directory store's "URI" is the server's file path: the key in the store says as much.
    if job.output_uri is not None and "://" not in job.output_uri:
        return job.output_key
    return job.output_uri


class ExportJobList(BaseModel):
    """A page of jobs, newest first; ``nextCursor`` is null on the last page."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"jobs": [JOB_EXAMPLE], "nextCursor": None}]})

    jobs: list[ExportJobOut]
    next_cursor: str | None = Field(alias="nextCursor",
                                    description="Pass as `cursor` for the next page; opaque.")


class UsagePoint(BaseModel):
    bucket_start: str = Field(alias="bucketStart")
    model_id: str = Field(alias="modelId", description="`(none)` for requests that named no model.")
    model_name: str | None = Field(default=None, alias="modelName",
                                   description="The model's display name from the directory; null without an entry.")
    request_count: int = Field(alias="requestCount")
    tokens_input: int = Field(alias="tokensInput")
    tokens_output: int = Field(alias="tokensOutput")
    tokens_total: int = Field(alias="tokensTotal")
    error_count: int = Field(alias="errorCount")
    cost_total: str | None = Field(alias="costTotal", description=(
        "Dollars, a decimal string with 4 decimals; the rows add up to totals.costTotal (rounded by largest "
        "remainder); null for a provisional bucket with an unpriced event."))
    latency_p50_ms: float | None = Field(alias="latencyP50Ms")
    latency_p95_ms: float | None = Field(alias="latencyP95Ms")
    latency_p99_ms: float | None = Field(alias="latencyP99Ms")
    provisional: bool = Field(description="From the raw events (the rollups have not reached this bucket yet): "
                                          "final once the hourly rollups cover it.")


class UsageTotals(BaseModel):
    request_count: int = Field(alias="requestCount")
    tokens_total: int = Field(alias="tokensTotal")
    error_count: int = Field(alias="errorCount")
    cost_total: str | None = Field(alias="costTotal", description=(
        "The exact sum of the rows' costs at 4 decimals, half up; null when a provisional bucket has an "
        "unpriced event."))
    latency_request_count: int = Field(
        alias="latencyRequestCount", description="The requests the range's latency percentiles rest on.")
    latency_p50_ms: float | None = Field(
        alias="latencyP50Ms", description="The whole range's percentile, merged from the rollups' latency sketches: "
                                          "within 1 % of the exact percentile_cont over its requests.")
    latency_p95_ms: float | None = Field(alias="latencyP95Ms", description="As latencyP50Ms.")
    latency_p99_ms: float | None = Field(alias="latencyP99Ms", description="As latencyP50Ms.")


class UsageSeries(BaseModel):
    """An organization's usage per bucket and model, from the rollups."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "orgId": "123e4567-e89b-12d3-a456-426614174000", "organizationName": "Acme Analytics", "granularity": "daily",
        "timeRange": {"start": "2024-01-01T00:00:00Z", "end": "2024-02-01T00:00:00Z"},
        "series": [{"bucketStart": "2024-01-01T00:00:00Z", "modelId": "550e8400-e29b-41d4-a716-446655440000",
                    "modelName": "atlas-large",
                    "requestCount": 1000, "tokensInput": 60000, "tokensOutput": 40000, "tokensTotal": 100000,
                    "errorCount": 5, "costTotal": "10.5000", "latencyP50Ms": 180.0, "latencyP95Ms": 950.5,
                    "latencyP99Ms": 2100.0, "provisional": False}],
        "provisionalFrom": None,
        "totals": {"requestCount": 1000, "tokensTotal": 100000, "errorCount": 5, "costTotal": "10.5000",
                   "latencyRequestCount": 1000, "latencyP50Ms": 180.0, "latencyP95Ms": 950.5,
                   "latencyP99Ms": 2100.0}}]})

    org_id: str = Field(alias="orgId")
    organization_name: str | None = Field(default=None, alias="organizationName",
                                          description="The organization's display name from the directory; null "
                                                      "without an entry.")
    granularity: Literal["hourly", "daily"]
    provisional_from: str | None = Field(alias="provisionalFrom", description=(
        "Buckets from here on are provisional (read live from the raw events); null when none are."))
    time_range: TimeRange = Field(alias="timeRange")
    series: list[UsagePoint]
    totals: UsageTotals


class ErrorDetail(BaseModel):
    code: str = Field(examples=["range_too_long"])
    message: str = Field(examples=["an export covers at most 31 days; 2024-01-01 to 2024-03-01 is 60 days: split it "
                                   "into several exports"])


class ErrorBody(BaseModel):
    """Every refusal has this shape."""

    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    """``ready`` when the warehouse answers at the current migration; ``exportQueue`` reports
    jobs stuck in ``pending`` (no daemon) without making the API unready."""

    status: Literal["ready", "unready"]
    warehouse: str
    migrations: str
    export_queue: str = Field(alias="exportQueue")
    reason: str | None = None
