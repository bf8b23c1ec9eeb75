"""The synthetic CI run generator: layout, validity, determinism and the injected regression."""

import re
from collections import Counter
from datetime import UTC, date, datetime
from statistics import median

import orjson
import pytest

from analytics_pipeline.build_metrics.contract import RunFileValidator
from analytics_pipeline.generator.ci_runs import generate_ci_runs

KEY = re.compile(r"metrics/(\d{4})/(\d{2})/(\d{2})/(ci-\1-\2-\3-\d{3})(-reupload|-bad)?\.json")


def generate(**kwargs):
    files = {}
    summary = generate_ci_runs(files.__setitem__, **{"start": date(2025, 11, 1), "days": 8, **kwargs})
    return files, summary


def test_files_are_laid_out_by_day_valid_and_deterministic():
    files, summary = generate(duplicate_rate=0.05, invalid_rate=0.05)
    assert files == generate(duplicate_rate=0.05, invalid_rate=0.05)[0]  # byte-identical
    assert len(files) == summary.files_written == summary.runs + summary.duplicate_files + summary.invalid_files
    assert summary.runs == 8 * 4 * 3 * 4  # days x services x commands x runs per day
    assert summary.duplicate_files and summary.invalid_files

    validate = RunFileValidator(now=datetime(2026, 1, 1, tzinfo=UTC)).validate
    outcomes = Counter()
    run_ids = Counter()
    for key, data in files.items():
        match = KEY.fullmatch(key)
        assert match, key
        run, reason, _ = validate(data)
        outcomes["invalid" if reason else "valid"] += 1
        if run is not None:
            assert run.started_at.strftime("%Y/%m/%d") == "/".join(match.groups()[:3])
            assert run.run_id == match.group(4) + ("-bad" if match.group(5) == "-bad" else "")
            run_ids[run.run_id] += 1
        else:
            assert match.group(5) == "-bad"
    assert outcomes["invalid"] == summary.invalid_files == sum(summary.invalid_kinds.values())
    assert sum(n - 1 for n in run_ids.values()) == summary.duplicate_files
    statuses = Counter(orjson.loads(data)["status"] for key, data in files.items()
                       if KEY.fullmatch(key).group(5) is None)  # the original upload of each run
    assert statuses["success"] == summary.successful_runs
    assert 0.8 < summary.successful_runs / summary.runs < 0.97


def test_the_regression_begins_at_a_new_commit_and_slows_only_its_command():
    files, summary = generate(services=["svc-a", "svc-b"], regression_at=datetime(2025, 11, 5, 12, tzinfo=UTC),
                              regression_factor=1.5)
    regression = summary.regression
    assert (regression.service, regression.command) == ("svc-a", "make check")
    runs = [orjson.loads(data) for data in files.values()]

    def durations(service, command, after):
        return [r["duration_seconds"] for r in runs if r["service"] == service and r["command"] == command
                and r["status"] == "success" and (r["started_at"] >= "2025-11-05T12") == after]

    assert median(durations("svc-a", "make check", True)) / median(durations("svc-a", "make check", False)) > 1.4
    assert 0.9 < median(durations("svc-b", "make check", True)) / median(durations("svc-b", "make check", False)) < 1.1
    first = next(r for r in runs if r["run_id"] == regression.first_run_id)
    assert first["commit_sha"] == regression.commit_sha and first["started_at"] >= "2025-11-05T12"
    assert not [r for r in runs if r["commit_sha"] == regression.commit_sha and r["started_at"] < "2025-11-05T12"]


@pytest.mark.parametrize("kwargs", [
    {"days": 0}, {"commands": ["make deploy"]}, {"services": []}, {"invalid_rate": 2},
    {"regression_at": datetime(2025, 11, 5)}, {"regression_at": date(2026, 1, 1)},
    {"regression_at": date(2025, 11, 5), "regression_service": "nope"},
])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        generate(**kwargs)
