"""The run-file contract, pure: what is accepted as what, and every reason a file is rejected."""

import hashlib

import orjson
import pytest

from analytics_pipeline.build_metrics.contract import MAX_FILE_BYTES, QUARANTINE_REASONS, RunFileValidator, actor_hash
from analytics_pipeline_tests.build_metrics.payloads import EXAMPLE, NOW, run_file

validate = RunFileValidator(now=NOW).validate

# One bad file per reason the validator gives (conflicting_duplicate is the loader's).
BAD_FILES = {
    "file_too_large": b'{"pad": "' + b"x" * MAX_FILE_BYTES + b'"}',
    "invalid_encoding": b'{"run_id": "caf\xe9"}',
    "invalid_json": b'{"run_id": "ci-1", ',
    "not_an_object": b'[{"run_id": "ci-1"}]',
    "missing_field": run_file(drop=("commit_sha",)),
    "invalid_type": run_file(duration_seconds="122.3"),
    "invalid_run_id": run_file(run_id="ci 001/../x"),
    "invalid_value": run_file(service="   "),
    "invalid_status": run_file(status="passed"),
    "invalid_timestamp": run_file(started_at="2025-11-08 15:04:05"),
    "invalid_commit_sha": run_file(commit_sha="not-a-sha"),
    "invalid_actor": run_file(actor="dev at example dot com"),
    "invalid_duration": run_file(duration_seconds=-1),
    "finished_before_started": run_file(started_at="2025-11-08T15:06:07Z", finished_at="2025-11-08T15:04:05Z"),
    "duration_mismatch": run_file(duration_seconds=123.5),
    "timestamp_in_future": run_file(started_at="2025-12-03T00:00:00Z", finished_at="2025-12-03T00:02:02Z",
                                    duration_seconds=122),
}


def test_the_issue_example_is_a_valid_run():
    run, reason, detail = validate(run_file())
    assert (reason, detail) == (None, None)
    assert (run.run_id, run.service, run.command, run.status) == (
        "ci-2025-11-08-001", "user-org-service", "make check", "success")
    assert run.started_at.isoformat() == "2025-11-08T15:04:05+00:00"
    assert run.finished_at.isoformat() == "2025-11-08T15:06:07+00:00"
    assert (run.duration_seconds, run.commit_sha, run.environment, run.collector_version) == (
        122.3, "abcdef1234567890", "github-actions", "1.0.0")
    assert run.actor == "dev@example.com"
    assert run.actor_hash == hashlib.sha256(b"dev@example.com").hexdigest()[:16]
    assert run.attributes is None


@pytest.mark.parametrize("reason", sorted(BAD_FILES))
def test_each_rejection_has_its_reason_and_a_detail(reason):
    run, got, detail = validate(BAD_FILES[reason])
    assert run is None
    assert got == reason, detail
    assert detail


def test_every_validator_reason_is_exercised():
    assert set(BAD_FILES) == set(QUARANTINE_REASONS) - {"conflicting_duplicate"}


@pytest.mark.parametrize("data, reason", [
    (b"", "invalid_json"),
    (b'{"duration_seconds": NaN}', "invalid_json"),
    (run_file(drop=("started_at",), finished_at=None), "missing_field"),
    (run_file(duration_seconds=True), "invalid_type"),
    (run_file(service=7), "invalid_type"),
    (run_file(started_at="yesterday"), "invalid_timestamp"),
    (run_file(command="make\u0000check"), "invalid_encoding"),
    (run_file(extra={"note": "nul \u0000 inside"}), "invalid_encoding"),
    (run_file(actor=""), "invalid_actor"),
    (run_file(duration_seconds=8 * 24 * 3600), "invalid_duration"),
])
def test_more_rejections(data, reason):
    assert validate(data)[1] == reason


def test_missing_fields_are_all_named():
    detail = validate(run_file(drop=("service", "status")))[2]
    assert "service" in detail and "status" in detail


def test_actor_detail_never_repeats_the_value():
    detail = validate(run_file(actor="Jane Doe <jane"))[2]
    assert "Jane" not in detail


def test_optional_fields_may_be_absent_and_unknown_fields_are_kept():
    run, reason, _ = validate(run_file(drop=("actor", "environment", "collector_version"),
                                       runner={"os": "ubuntu"}, cache_hit=True))
    assert reason is None
    assert (run.actor, run.actor_hash, run.environment, run.collector_version) == (None, None, None, None)
    assert orjson.loads(run.attributes) == {"cache_hit": True, "runner": {"os": "ubuntu"}}


def test_tolerances_offsets_bom_and_case():
    # 0.9 s off the timestamps is within the one-second tolerance; offsets become UTC.
    run, reason, _ = validate(b"\xef\xbb\xbf" + run_file(
        started_at="2025-11-08T16:04:05+01:00", finished_at="2025-11-08T15:06:07Z", duration_seconds=122.9,
        commit_sha="ABCDEF1234567890", actor=" Dev@Example.COM "))
    assert reason is None
    assert run.started_at.isoformat() == "2025-11-08T15:04:05+00:00"
    assert run.commit_sha == "abcdef1234567890"
    assert run.actor_hash == actor_hash("dev@example.com")


def test_content_hash_ignores_key_order_and_whitespace():
    reordered = orjson.dumps(dict(reversed(list(EXAMPLE.items()))), option=orjson.OPT_INDENT_2)
    assert validate(reordered)[0].content_hash == validate(run_file())[0].content_hash
    assert validate(run_file(duration_seconds=122.4))[0].content_hash != validate(run_file())[0].content_hash
