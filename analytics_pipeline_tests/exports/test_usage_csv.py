"""The finance CSV and its manifest, byte for byte (pure, no services)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics_pipeline.exports.usage_csv import (
    EXPORT_COLUMNS,
    ExportGranularity,
    ExportRow,
    ExportTotals,
    build_manifest,
    manifest_bytes,
    monthly_export_keys,
    render_csv,
    rows_by_organization,
)
from analytics_pipeline.identity import UnsafeOrganizationIdError, checked_organization_id
from analytics_pipeline.money import format_cost
from analytics_pipeline.storage.object_store import check_key

HEADER = b"bucket_start,organization_id,model_id,request_count,tokens_total,error_count,cost_total\n"
INT64_MAX = 2**63 - 1
T0 = datetime(2026, 10, 29, tzinfo=UTC)


def parse(csv_bytes: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(csv_bytes.decode("utf-8"), newline="")))


def test_header_is_exactly_the_contract_columns():
    assert EXPORT_COLUMNS == ("bucket_start", "organization_id", "model_id", "request_count", "tokens_total",
                              "error_count", "cost_total")
    data, totals = render_csv([])
    assert data == HEADER
    assert totals == ExportTotals(0, 0, 0, 0, Decimal("0"))
    assert str(totals.cost_total) == "0.0000"


def test_exact_bytes_of_a_few_rows():
    rows = [
        ExportRow(T0, "org-a", "m1", 3, 1500, 1, Decimal("1.23456")),
        ExportRow(T0 + timedelta(hours=5), "org-a", None, 0, 0, 0, Decimal("0.00005")),
        ExportRow(T0 + timedelta(hours=6), "org-a", "m2", 1, 0, 0, Decimal("0.00004999")),
        ExportRow(T0 + timedelta(hours=7), "org-a", "m2", 2, 10, 2, Decimal("2.5")),
        ExportRow(T0 + timedelta(hours=8), "org-a", "m3", INT64_MAX, INT64_MAX, INT64_MAX,
                  Decimal("12345678901.00015")),
        ExportRow(T0 + timedelta(hours=9), "org-a", "m3", 1, 1, 0, Decimal("1E+2")),
        ExportRow(T0 + timedelta(hours=10), "org-a", "m3", 1, 1, 0, Decimal("0")),
        ExportRow(T0 + timedelta(hours=11), "org-a", "m3", 1, 1, 0, Decimal("0.99995")),
        # Another zone: written as the same instant in UTC.
        ExportRow(datetime(2026, 10, 29, 13, 0, tzinfo=timezone(timedelta(hours=1))), "org-a", "m1", 1, 2, 0,
                  Decimal("0.00015")),
    ]
    data, totals = render_csv(rows)
    assert data == HEADER + (
        b"2026-10-29T00:00:00Z,org-a,m1,3,1500,1,1.2346\n"
        b"2026-10-29T05:00:00Z,org-a,,0,0,0,0.0001\n"
        b"2026-10-29T06:00:00Z,org-a,m2,1,0,0,0.0000\n"
        b"2026-10-29T07:00:00Z,org-a,m2,2,10,2,2.5000\n"
        b"2026-10-29T08:00:00Z,org-a,m3,9223372036854775807,9223372036854775807,9223372036854775807,"
        b"12345678901.0002\n"
        b"2026-10-29T09:00:00Z,org-a,m3,1,1,0,100.0000\n"
        b"2026-10-29T10:00:00Z,org-a,m3,1,1,0,0.0000\n"
        b"2026-10-29T11:00:00Z,org-a,m3,1,1,0,0.9999\n"
        b"2026-10-29T12:00:00Z,org-a,m1,1,2,0,0.0001\n"
    )
    assert b"\r" not in data
    assert totals.row_count == 9
    assert totals.request_count == 3 + 0 + 1 + 2 + INT64_MAX + 1 + 1 + 1 + 1
    assert totals.tokens_total == 1500 + 10 + INT64_MAX + 1 + 1 + 1 + 2
    assert totals.error_count == 1 + 2 + INT64_MAX
    # The money module's rule: the file's total is the exact sum (12345679005.73490999) rounded half up,
    # and the rows are rounded by largest remainder to add up to it (the three largest remainders,
    # 0.00006 then the first two of the 0.00005 ties in row order, round up; the later ties round down).
    assert totals.cost_total == Decimal("12345679005.7349")
    assert_totals_match_text(data, totals)


def assert_totals_match_text(data: bytes, totals: ExportTotals) -> None:
    header, *body = parse(data)
    assert tuple(header) == EXPORT_COLUMNS
    assert all(len(line) == 7 for line in body)
    assert totals.row_count == len(body)
    assert totals.request_count == sum(int(line[3]) for line in body)
    assert totals.tokens_total == sum(int(line[4]) for line in body)
    assert totals.error_count == sum(int(line[5]) for line in body)
    assert totals.cost_total == sum((Decimal(line[6]) for line in body), Decimal(0))


@pytest.mark.parametrize("value, text", [
    ("0.00005", "0.0001"), ("0.00004999999", "0.0000"), ("0.00015", "0.0002"), ("0.00025", "0.0003"),
    ("1.99995", "2.0000"), ("7", "7.0000"), ("0.1", "0.1000"), ("123456789012345.12345", "123456789012345.1235"),
    ("1E-10", "0.0000"), ("2.5E+3", "2500.0000"),
])
def test_cost_has_exactly_four_decimals_rounded_half_up(value, text):
    assert format_cost(Decimal(value)) == text


@pytest.mark.parametrize("model_id", ["gpt-4o,2024-08", '"quoted" model', "two\nlines"])
def test_a_model_id_with_csv_special_characters_survives_a_round_trip(model_id):
    data, totals = render_csv([ExportRow(T0, "org-a", model_id, 1, 2, 0, Decimal("0.5"))])
    header, *body = parse(data)
    assert body == [["2026-10-29T00:00:00Z", "org-a", model_id, "1", "2", "0", "0.5000"]]


def test_manifest_checksum_and_fields():
    rows = [ExportRow(T0 + timedelta(days=d), "tenant_abc123", m, d + 1, 100 * d, d % 2, Decimal("0.123456") * d)
            for d in range(3) for m in (None, "m1")]
    data, totals = render_csv(rows)
    generated = datetime(2026, 11, 2, 3, 4, 5, 678, tzinfo=UTC)
    sources = [{"table": "analytics_daily_rollups", "job_id": "x"}]
    manifest = build_manifest(
        csv_bytes=data, totals=totals, organization_id="tenant_abc123", range_start=T0,
        range_end=T0 + timedelta(days=3), granularity=ExportGranularity.DAILY, by_model=True,
        generated_at=generated, sources=sources)
    # Round trip through the bytes written to storage.
    written = manifest_bytes(manifest)
    assert written.endswith(b"}\n")
    loaded = json.loads(written)
    assert loaded == manifest
    assert loaded["checksum"] == "sha256:" + hashlib.sha256(data).hexdigest()
    algorithm, digest = loaded["checksum"].split(":")
    assert algorithm == "sha256" and len(digest) == 64 and digest == hashlib.sha256(bytes(data)).hexdigest()
    assert loaded["checksum"] != "sha256:" + hashlib.sha256(data + b"x").hexdigest()
    assert loaded["row_count"] == 6
    assert loaded["totals"] == {
        "row_count": 6, "request_count": 2 * (1 + 2 + 3), "tokens_total": 2 * 300, "error_count": 2,
        "cost_total": str(totals.cost_total)}
    # The exact sum 2 x (0.123456 + 0.246912) = 0.740736 at 4 decimals (the rows add up to it).
    assert Decimal(loaded["totals"]["cost_total"]) == Decimal("0.7407")
    assert loaded["time_range"] == {"start": "2026-10-29T00:00:00Z", "end": "2026-11-01T00:00:00Z"}
    assert loaded["granularity"] == "daily"
    assert loaded["by_model"] is True
    assert loaded["organization_id"] == "tenant_abc123"
    assert loaded["columns"] == list(EXPORT_COLUMNS)
    assert loaded["generated_at"] == "2026-11-02T03:04:05Z"
    assert loaded["sources"] == sources


GOOD_IDS = [str(uuid.UUID(int=0x1234)), str(uuid.uuid4()), "tenant_abc123", "org-a", "ORG.example:1-x", "a",
            "a" * 128, "9"]
BAD_IDS = ["../x", "..", ".", "a/b", "/abs", "a\\b", ".hidden", "", "a" * 200, "a" * 129, "ünïcode", "org\u0430",
           "ｏrg", "org\n", "\norg", "org\nx", "org ", " org", "a b", "a,b", "-lead", "_lead", ":lead", "a\x00b",
           "a%2fb", "a?b", "a*b"]


@pytest.mark.parametrize("organization_id", GOOD_IDS)
def test_safe_organization_ids_are_accepted(organization_id):
    assert checked_organization_id(organization_id) == organization_id
    month = datetime(2026, 10, 1, tzinfo=UTC)
    csv_key, manifest_key = monthly_export_keys(month, organization_id)
    assert csv_key == f"monthly/2026-10/{organization_id}/usage_daily_2026-10.csv"
    assert manifest_key == f"monthly/2026-10/{organization_id}/usage_daily_2026-10.manifest.json"
    assert check_key(csv_key) == csv_key and check_key(manifest_key) == manifest_key


@pytest.mark.parametrize("organization_id", BAD_IDS + [None, 123, b"org-a"])
def test_path_steering_organization_ids_are_refused(organization_id):
    # Refused before any key is built, as an error a generic `except ValueError` catches and that callers such
    # as retention can still tell apart by type; the id is shown as its repr, so a newline cannot forge a log line.
    for refuse in (checked_organization_id, lambda org: monthly_export_keys(datetime(2026, 10, 1, tzinfo=UTC), org)):
        with pytest.raises(ValueError) as caught:
            refuse(organization_id)
        assert caught.type is UnsafeOrganizationIdError
        assert str(caught.value) == f"invalid organization id {organization_id!r}"


# -- property: splitting by organization never mixes organizations and loses nothing ----------------------

ORGS = ["org-a", "org-b", "tenant_abc123", str(uuid.UUID(int=7)), "Z9"]
_costs = st.decimals(min_value=0, max_value=Decimal("1e9"), places=8, allow_nan=False, allow_infinity=False)
_rows = st.builds(
    ExportRow,
    bucket_start=st.integers(0, 24 * 60).map(lambda h: T0 - timedelta(hours=h)),
    organization_id=st.sampled_from(ORGS),
    model_id=st.sampled_from([None, "m1", "m2", "claude-x.1"]),
    request_count=st.integers(0, 2**62),
    tokens_total=st.integers(0, INT64_MAX),
    error_count=st.integers(0, 2**40),
    cost_total=_costs,
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_rows, max_size=60))
def test_rows_by_organization_and_render_csv_split_cleanly(rows):
    # query_export_rows yields rows ordered by organization, bucket, model.
    rows = sorted(rows, key=lambda r: (r.organization_id, r.bucket_start, r.model_id or ""))
    expected = defaultdict(lambda: [0, 0, 0, 0, Decimal(0)])
    for r in rows:
        e = expected[r.organization_id]
        e[0] += 1
        e[1] += r.request_count
        e[2] += r.tokens_total
        e[3] += r.error_count
        e[4] += r.cost_total
    for e in expected.values():  # an organization's file total: its exact sum at 4 decimals
        e[4] = e[4].quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

    seen = []
    grand = [0, 0, 0, 0, Decimal(0)]
    for organization_id, org_rows in rows_by_organization(rows):
        seen.append(organization_id)
        data, totals = render_csv(org_rows)
        header, *body = parse(data)
        assert tuple(header) == EXPORT_COLUMNS
        assert body and all(line[1] == organization_id for line in body)
        assert_totals_match_text(data, totals)
        assert [totals.row_count, totals.request_count, totals.tokens_total, totals.error_count,
                totals.cost_total] == expected[organization_id]
        for i, value in enumerate((totals.row_count, totals.request_count, totals.tokens_total,
                                   totals.error_count, totals.cost_total)):
            grand[i] += value
    assert seen == sorted(expected)  # each organization once, none invented, none lost
    assert grand[0] == len(rows)
    assert grand[1] == sum(r.request_count for r in rows)
    assert grand[2] == sum(r.tokens_total for r in rows)
    assert grand[3] == sum(r.error_count for r in rows)
    all_data, all_totals = render_csv(rows)
    exact = sum((r.cost_total for r in rows), Decimal(0))
    assert all_totals.cost_total == exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    # Each file rounds its own total once: the files of the organizations are never more than half a
    # unit of the 4th decimal per file from the exact sum.
    assert abs(grand[4] - exact) <= Decimal("0.00005") * len(seen)
