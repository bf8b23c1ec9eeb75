"""The usage-log generator's exact output, pinned by digest.

The digests were computed before ``generate_usage_logs`` was split into setup,
synthesis and delivery, so a refactoring that changes a single byte, key,
delivery order or random draw fails here. Change them only for a deliberate
change of output, and say so in the commit.
"""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from analytics_pipeline.generator.usage_logs import GenerationSummary, generate_usage_logs

FAULTS = dict(start=date(2026, 1, 30), days=3, orgs=5, models=4, events_per_hour=80, seed=11,
              duplicate_rate=0.05, malformed_rate=0.05, stream_name="pinned-stream")  # fmt: skip
PINNED = [
    pytest.param(
        FAULTS,
        "ce860800eb5a9455ba06e4bc8b86c7929796f849320db29d9c4cbe35ae890b59",
        # objects, lines, valid, duplicates, malformed, late
        (213, 5739, 5224, 241, 274, 119),
        "4267054d309fdb6e7865de8ee441154dc19066997930b48655f0ab05b0cde784",
        id="faults-late-month-boundary",
    ),
    pytest.param(
        dict(start=date(2026, 1, 26), days=1),
        "b641ba6a878a99c926830c1e08de2552d31f3abb72481c7eeb00f2e98d582d93",
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
