"""The usage-log generator's exact output, pinned by digest.

The digests were computed before ``generate_usage_logs`` was split into setup,
synthesis and delivery, so a refactoring that changes a single byte, key,
delivery order or random draw fails here. Change them only for a deliberate
change of output, and say so in the commit.

The object digests last changed when lines gained ``user_id`` and ``error_type``
(issue 14). ``WITHOUT_NEW_FIELDS`` pins, with the digests computed by the
generator *before* that change, that the lines minus those two fields are
exactly what they were: every other field, every key and the delivery order.
"""

from __future__ import annotations

import hashlib
import zlib
from datetime import date

import orjson
import pytest

from analytics_pipeline.generator.usage_logs import GenerationSummary, generate_usage_logs

FAULTS = dict(start=date(2026, 1, 30), days=3, orgs=5, models=4, events_per_hour=80, seed=11,
              duplicate_rate=0.05, malformed_rate=0.05, stream_name="pinned-stream")  # fmt: skip
PINNED = [
    pytest.param(
        FAULTS,
        "7d85a4e53578c890dcd07fb593a80fee8260dc2b776c6e860844931a42ac909e",
        # objects, lines, valid, duplicates, malformed, late
        (213, 5739, 5224, 241, 274, 119),
        "4267054d309fdb6e7865de8ee441154dc19066997930b48655f0ab05b0cde784",
        id="faults-late-month-boundary",
    ),
    pytest.param(
        dict(start=date(2026, 1, 26), days=1),
        "a27d31da6e6479a91a553f7d773f90e1031b2b9df210801d00d06af40aead7f9",
        (70, 26051, 26051, 0, 0, 467),
        "36f4d8b3948cbf33a5511899807a5721efb5cd5e36cd6dfd53d1b07f93cff13d",
        id="defaults-one-day",
    ),
]


def generate_and_digest(**kwargs) -> tuple[str, GenerationSummary]:
    """sha256 over (key, sha256 of content) of every object, in the order write_object received them."""
    digest = hashlib.sha256()

    def write(key: str, data: bytes) -> None:
        digest.update(key.encode() + b"\0" + hashlib.sha256(data).digest())

    summary = generate_usage_logs(write, **kwargs)
    return digest.hexdigest(), summary


def summary_digest(summary: GenerationSummary) -> str:
    """sha256 of every summary field, per-organization totals sorted by organization id."""
    fields = (
        summary.first_event.isoformat(),
        summary.last_event.isoformat(),
        summary.organizations,
        sorted((org, t.request_count, t.tokens_total, t.error_count) for org, t in summary.totals_by_org.items()),
    )
    return hashlib.sha256(repr(fields).encode()).hexdigest()


@pytest.mark.parametrize("kwargs, expected_objects, expected_counts, expected_summary", PINNED)
def test_same_arguments_and_seed_give_the_pinned_output(kwargs, expected_objects, expected_counts, expected_summary):
    objects, summary = generate_and_digest(**kwargs)
    counts = (
        summary.objects_written,
        summary.lines_written,
        summary.valid_events,
        summary.duplicate_lines,
        summary.malformed_lines,
        summary.late_events,
    )
    assert (objects, counts, summary_digest(summary)) == (expected_objects, expected_counts, expected_summary)


def test_the_progress_bar_does_not_change_the_output(capsys):
    assert generate_and_digest(**FAULTS, progress=True)[0] == PINNED[0].values[1]
    assert "3/3 days" in capsys.readouterr().err


# (arguments, digest of the lines without user_id/error_type, lines that are not JSON: the truncated ones)
WITHOUT_NEW_FIELDS = [
    pytest.param(FAULTS, "0443231f715a432bb5a126ede2a3a6c84b9b543392a86089c49872869b678a5b", 53,
                 id="faults-late-month-boundary"),
    pytest.param(dict(start=date(2026, 1, 26), days=1),
                 "c16a2988a6ac3a7d30f077d806c21d0accb1284e35e0bf5a3f62bc74f3f7e898", 0, id="defaults-one-day"),
]
NEW_FIELDS = ("user_id", "error_type")


def digest_without_new_fields(**kwargs) -> tuple[str, int, int]:
    """sha256 over every object key and every JSON line with user_id and error_type removed
    (re-serialised in its own key order); lines that are not JSON (truncated on purpose) are
    counted, not hashed. Also returns how many lines carried a new field."""
    digest = hashlib.sha256()
    unparsed = carried = 0

    def write(key: str, data: bytes) -> None:
        nonlocal unparsed, carried
        digest.update(key.encode() + b"\0")
        for line in zlib.decompress(data, wbits=47).splitlines():
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                unparsed += 1
                continue
            if isinstance(obj, dict):
                removed = [obj.pop(name, None) for name in NEW_FIELDS]
                carried += any(value is not None for value in removed)
                line = orjson.dumps(obj)
            digest.update(hashlib.sha256(line).digest())

    generate_usage_logs(write, **kwargs)
    return digest.hexdigest(), unparsed, carried


@pytest.mark.parametrize("kwargs, expected, unparsed", WITHOUT_NEW_FIELDS)
def test_every_other_field_is_what_it_was_before_user_id_and_error_type(kwargs, expected, unparsed):
    digest, not_json, carried = digest_without_new_fields(**kwargs)
    assert (digest, not_json) == (expected, unparsed)
    assert carried > 0  # the new fields are there, and were removed before hashing
