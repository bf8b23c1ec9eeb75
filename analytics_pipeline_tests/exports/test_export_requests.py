"""Validation of ad hoc export requests (pure, no services)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from analytics_pipeline.exports.export_jobs import MAX_RANGE, ExportRequest, InvalidExportRequest
from analytics_pipeline.exports.usage_csv import ExportGranularity


def parse(**kwargs) -> ExportRequest:
    kwargs.setdefault("organization_id", "org-a")
    return ExportRequest.parse(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    # end not after start
    ({"start": "2026-10-02T00:00:00Z", "end": "2026-10-02T00:00:00Z"},
     "end (2026-10-02T00:00:00+00:00) must be after start (2026-10-02T00:00:00+00:00)"),
    ({"start": "2026-10-03T00:00:00Z", "end": "2026-10-02T00:00:00Z"},
     "end (2026-10-02T00:00:00+00:00) must be after start (2026-10-03T00:00:00+00:00)"),
    ({"start": "2026-10-02T05:00:00Z", "end": "2026-10-02T04:00:00Z", "granularity": "hourly"},
     "must be after start"),
    # more than 31 days
    ({"start": "2026-09-01", "end": "2026-10-03"},
     "an export covers at most 31 days; 2026-09-01 to 2026-10-03 is 32 days: split it into several exports"),
    ({"start": "2026-09-01T00:00:00Z", "end": "2026-11-01T00:00:00Z", "granularity": "monthly"},
     "at most 31 days; 2026-09-01 to 2026-11-01 is 61 days: split it"),
    ({"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T01:00:00Z", "granularity": "hourly"},
     "an export covers at most 31 days"),
    # unaligned, per granularity
    ({"start": "2026-10-02T10:30:00Z", "end": "2026-10-02T12:00:00Z", "granularity": "hourly"},
     "start 2026-10-02T10:30:00+00:00 is not aligned to an hour"),
    ({"start": "2026-10-02T10:00:00Z", "end": "2026-10-02T12:00:01Z", "granularity": "hourly"},
     "end 2026-10-02T12:00:01+00:00 is not aligned to an hour"),
    ({"start": "2026-10-02T10:00:00.000001Z", "end": "2026-10-02T12:00:00Z", "granularity": "hourly"},
     "start 2026-10-02T10:00:00.000001+00:00 is not aligned to an hour"),
    ({"start": "2026-10-02T01:00:00Z", "end": "2026-10-04T00:00:00Z", "granularity": "daily"},
     "start 2026-10-02T01:00:00+00:00 is not aligned to a day (00:00Z)"),
    ({"start": "2026-10-02T00:00:00Z", "end": "2026-10-04T12:00:00Z", "granularity": "daily"},
     "end 2026-10-04T12:00:00+00:00 is not aligned to a day (00:00Z)"),
    # 00:00 in +02:00 is 22:00Z the day before: not a UTC day boundary
    ({"start": "2026-10-02T00:00:00+02:00", "end": "2026-10-04T00:00:00Z", "granularity": "daily"},
     "start 2026-10-01T22:00:00+00:00 is not aligned to a day (00:00Z)"),
    ({"start": "2026-10-02T00:00:00Z", "end": "2026-11-01T00:00:00Z", "granularity": "monthly"},
     "start 2026-10-02T00:00:00+00:00 is not aligned to a month (the 1st, 00:00Z)"),
    ({"start": "2026-10-01T00:00:00Z", "end": "2026-10-31T00:00:00Z", "granularity": "monthly"},
     "end 2026-10-31T00:00:00+00:00 is not aligned to a month (the 1st, 00:00Z)"),
    ({"start": "2026-10-01T03:00:00Z", "end": "2026-11-01T00:00:00Z", "granularity": "monthly"},
     "start 2026-10-01T03:00:00+00:00 is not aligned to a month (the 1st, 00:00Z)"),
    # granularity
    ({"start": "2026-10-01", "end": "2026-10-02", "granularity": "weekly"},
     "granularity must be hourly, daily or monthly, not 'weekly'"),
    ({"start": "2026-10-01", "end": "2026-10-02", "granularity": "Daily"},
     "granularity must be hourly, daily or monthly, not 'Daily'"),
    ({"start": "2026-10-01", "end": "2026-10-02", "granularity": ""},
     "granularity must be hourly, daily or monthly, not ''"),
    # organization ids
    ({"organization_id": "../x", "start": "2026-10-01", "end": "2026-10-02"}, "invalid organization id '../x'"),
    ({"organization_id": "a/b", "start": "2026-10-01", "end": "2026-10-02"}, "invalid organization id 'a/b'"),
    ({"organization_id": "", "start": "2026-10-01", "end": "2026-10-02"}, "invalid organization id ''"),
    ({"organization_id": ".hidden", "start": "2026-10-01", "end": "2026-10-02"}, "invalid organization id"),
    ({"organization_id": "org\n", "start": "2026-10-01", "end": "2026-10-02"}, "invalid organization id"),
    ({"organization_id": "x" * 129, "start": "2026-10-01", "end": "2026-10-02"}, "invalid organization id"),
    # garbage times
    ({"start": "yesterday", "end": "2026-10-02"},
     "start 'yesterday' is not an ISO 8601 time (e.g. 2026-01-01T00:00:00Z)"),
    ({"start": "2026-10-01", "end": "2026-13-01T00:00:00Z"}, "end '2026-13-01T00:00:00Z' is not an ISO 8601 time"),
    ({"start": "2026-10-01T25:00:00Z", "end": "2026-10-02"}, "start '2026-10-01T25:00:00Z' is not an ISO 8601 time"),
    ({"start": "", "end": "2026-10-02"}, "start '' is not an ISO 8601 time"),
    ({"start": "2026-10-01", "end": "2026-10-02 now"}, "end '2026-10-02 now' is not an ISO 8601 time"),
    ({"start": "2026-10-01", "end": "1730000000"}, "end '1730000000' is not an ISO 8601 time"),
    # job ids
    ({"start": "2026-10-01", "end": "2026-10-02", "job_id": "not-a-uuid"}, "job_id 'not-a-uuid' is not a UUID"),
    ({"start": "2026-10-01", "end": "2026-10-02", "job_id": "../../etc"}, "job_id '../../etc' is not a UUID"),
    ({"start": "2026-10-01", "end": "2026-10-02", "job_id": "1234"}, "job_id '1234' is not a UUID"),
])
def test_invalid_requests_are_rejected_with_a_clear_message(kwargs, message):
    with pytest.raises(InvalidExportRequest) as caught:
        parse(**kwargs)
    assert message in str(caught.value)


@pytest.mark.parametrize("kwargs, message", [
    # each check that turns a lower-level ValueError (or UnsafeOrganizationIdError) into the request's own error
    ({"organization_id": "../x", "start": "2026-10-01", "end": "2026-10-02"}, "invalid organization id '../x'"),
    ({"organization_id": None, "start": "2026-10-01", "end": "2026-10-02"}, "invalid organization id None"),
    ({"start": "2026-10-01", "end": "2026-10-02", "granularity": "weekly"},
     "granularity must be hourly, daily or monthly, not 'weekly'"),
    ({"start": "yesterday", "end": "2026-10-02"},
     "start 'yesterday' is not an ISO 8601 time (e.g. 2026-01-01T00:00:00Z)"),
    ({"start": "2026-10-01", "end": "2026-10-02", "job_id": "1234"}, "job_id '1234' is not a UUID"),
    ({"start": "2026-10-03T00:00:00Z", "end": "2026-10-02T00:00:00Z"},
     "end (2026-10-02T00:00:00+00:00) must be after start (2026-10-03T00:00:00+00:00)"),
])
def test_an_invalid_request_caught_as_value_error_is_the_request_error_with_its_reason(kwargs, message):
    # A generic caller writes `except ValueError`; the CLI writes `except InvalidExportRequest`: both must see
    # the one request error carrying the reason, never the ValueError it was raised from.
    with pytest.raises(ValueError) as caught:
        parse(**kwargs)
    assert caught.type is InvalidExportRequest
    assert str(caught.value) == message


def test_too_long_message_does_not_claim_the_range_is_31_days():
    with pytest.raises(InvalidExportRequest) as caught:
        parse(start="2026-10-01T00:00:00Z", end="2026-11-01T01:00:00Z", granularity="hourly")
    assert "is 31 days:" not in str(caught.value)


@pytest.mark.parametrize("granularity, start, end", [
    ("daily", "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"),
    ("hourly", "2026-10-01T05:00:00Z", "2026-11-01T05:00:00Z"),
    ("monthly", "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"),
])
def test_exactly_31_days_is_accepted(granularity, start, end):
    request = parse(start=start, end=end, granularity=granularity)
    assert request.end - request.start == MAX_RANGE == timedelta(days=31)
    assert request.granularity is ExportGranularity(granularity)


def test_naive_times_are_utc_and_z_suffix_and_offsets_are_understood():
    naive = parse(start="2026-10-02T05:00:00", end="2026-10-02 07:00:00", granularity="hourly")
    assert naive.start == datetime(2026, 10, 2, 5, tzinfo=UTC) and naive.start.utcoffset() == timedelta(0)
    assert naive.end == datetime(2026, 10, 2, 7, tzinfo=UTC)
    zulu = parse(start="2026-10-02T00:00:00Z", end="2026-10-03T00:00:00Z")
    assert (zulu.start, zulu.end) == (datetime(2026, 10, 2, tzinfo=UTC), datetime(2026, 10, 3, tzinfo=UTC))
    offset = parse(start="2026-10-02T02:00:00+02:00", end="2026-10-02T19:00:00-05:00")
    assert (offset.start, offset.end) == (datetime(2026, 10, 2, tzinfo=UTC), datetime(2026, 10, 3, tzinfo=UTC))
    assert offset.start.tzinfo == UTC
    date_only = parse(start="2026-10-02", end="2026-10-05")
    assert (date_only.start, date_only.end) == (datetime(2026, 10, 2, tzinfo=UTC), datetime(2026, 10, 5, tzinfo=UTC))
    objects = parse(start=datetime(2026, 10, 2), end=datetime(2026, 10, 3, 1, tzinfo=timezone(timedelta(hours=1))))
    assert (objects.start, objects.end) == (datetime(2026, 10, 2, tzinfo=UTC), datetime(2026, 10, 3, tzinfo=UTC))


@pytest.mark.parametrize("start, end", [
    ("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"),  # 31 days
    ("2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"),  # 28 days
    ("2026-09-01", "2026-10-01"),                      # 30 days, date-only
])
def test_monthly_range_of_one_month_is_accepted(start, end):
    request = parse(start=start, end=end, granularity="monthly", by_model=False)
    assert request.granularity is ExportGranularity.MONTHLY
    assert request.start.day == request.end.day == 1
    assert request.by_model is False


def test_defaults_job_id_and_keys():
    request = parse(start="2026-10-01", end="2026-10-02", initiated_by="alice@example.com")
    assert request.granularity is ExportGranularity.DAILY and request.by_model is True
    assert request.initiated_by == "alice@example.com"
    assert isinstance(request.job_id, uuid.UUID)
    assert parse(start="2026-10-01", end="2026-10-02").job_id != request.job_id

    job_id = "0f8fad5b-d9cb-469f-a165-70867728950e"
    for given in (job_id, job_id.upper(), uuid.UUID(job_id)):
        assert parse(start="2026-10-01", end="2026-10-02", job_id=given).job_id == uuid.UUID(job_id)
    fixed = parse(organization_id="tenant_abc123", start="2026-10-01T05:00:00Z", end="2026-10-01T06:00:00Z",
                  granularity="hourly", job_id=job_id)
    assert fixed.csv_key == f"adhoc/tenant_abc123/{job_id}/usage_hourly.csv"
    assert fixed.manifest_key == f"adhoc/tenant_abc123/{job_id}/usage_hourly.manifest.json"
