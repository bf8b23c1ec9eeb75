"""Deterministic synthetic CI run files, laid out as the CI collector uploads them::

    metrics/YYYY/MM/DD/<run_id>.json      run_id = ci-YYYY-MM-DD-NNN (per day, by start time)

Pure Python (stdlib + orjson), no Dagster. Every (service, command) runs ``runs_per_day``
times a day between 07:00 and 20:00 UTC. Each service has a linear commit history: a run
is on the service's current head, and a new commit lands before about a third of its runs.
Durations are a per-command base (``COMMAND_BASE_SECONDS``) times a per-service factor and
~6% lognormal noise; ~90% of runs succeed, failed and cancelled runs stop early.

``regression_at`` injects a regression: the first ``regression_command`` run of
``regression_service`` at or after that moment is on a new commit (reported as
``summary.regression.commit_sha``), and from then on that command's runs take
``regression_factor`` times as long. ``duplicate_rate`` re-uploads a run's file under a
second key (same content: a duplicate); ``invalid_rate`` adds broken files (not JSON,
a missing field, a bad status, finished before started, a duration that disagrees with the
timestamps), each with a run_id of its own. Identical arguments give identical files.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import orjson

DEFAULT_SERVICES = ("user-org-service", "billing-service", "api-gateway", "analytics-service")
COMMAND_BASE_SECONDS = {"make check": 120.0, "make test": 240.0, "make build": 75.0}
ACTORS = ("alice@example.com", "bob@example.com", "carol@example.com", "dev@example.com", "Ops.Bot@Example.com")
COLLECTOR_VERSION = "1.0.0"
ENVIRONMENT = "github-actions"
_FIRST_START = time(7, 0)
_WORKDAY_SECONDS = 13 * 3600
_NEW_COMMIT_PROBABILITY = 0.35
_INVALID_KINDS = ("invalid_json", "missing_field", "invalid_status", "finished_before_started", "duration_mismatch")


@dataclass(frozen=True)
class GeneratedRegression:
    """The injected regression: where it begins and how large it is."""

    service: str
    command: str
    commit_sha: str
    first_run_id: str
    started_at: datetime
    factor: float


@dataclass
class CiRunsSummary:
    """What was written; ``runs`` counts unique valid runs (what the warehouse should hold)."""

    files_written: int = 0
    runs: int = 0
    successful_runs: int = 0
    duplicate_files: int = 0
    invalid_files: int = 0
    invalid_kinds: Counter = field(default_factory=Counter)
    services: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    regression: GeneratedRegression | None = None


@dataclass
class _Run:
    started_at: datetime
    service: str
    command: str
    commit_sha: str = ""
    duration: float = 0.0
    status: str = "success"
    run_id: str = ""


def _iso(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


def _payload(run: _Run, actor: str) -> dict:
    finished = run.started_at + timedelta(seconds=round(run.duration))
    return {
        "run_id": run.run_id, "service": run.service, "command": run.command, "status": run.status,
        "started_at": _iso(run.started_at), "finished_at": _iso(finished),
        "duration_seconds": round(run.duration, 1), "commit_sha": run.commit_sha, "actor": actor,
        "environment": ENVIRONMENT, "collector_version": COLLECTOR_VERSION, "branch": "main",
    }


def _broken(payload: dict, kind: str) -> bytes:
    payload = {**payload, "run_id": payload["run_id"] + "-bad"}
    if kind == "invalid_json":
        return orjson.dumps(payload)[:-20]
    if kind == "missing_field":
        del payload["commit_sha"]
    elif kind == "invalid_status":
        payload["status"] = "passed"
    elif kind == "finished_before_started":
        payload["started_at"], payload["finished_at"] = payload["finished_at"], payload["started_at"]
    elif kind == "duration_mismatch":
        payload["duration_seconds"] = round(payload["duration_seconds"] + 30, 1)
    return orjson.dumps(payload, option=orjson.OPT_INDENT_2) + b"\n"


def generate_ci_runs(
    write_object: Callable[[str, bytes], object],
    *,
    start: date,
    days: int,
    services: Sequence[str] = DEFAULT_SERVICES,
    seed: int = 7,
    commands: Sequence[str] = tuple(COMMAND_BASE_SECONDS),
    runs_per_day: int = 4,
    regression_at: datetime | date | None = None,
    regression_service: str | None = None,
    regression_command: str = "make check",
    regression_factor: float = 1.6,
    duplicate_rate: float = 0.0,
    invalid_rate: float = 0.0,
) -> CiRunsSummary:
    """Write ``days`` days of CI run files from ``start`` through ``write_object(key, bytes)``,
    in start-time order. ``regression_at`` (a moment, or a date meaning its 00:00 UTC) slows
    ``regression_command`` of ``regression_service`` (default: the first service) from the
    commit that lands at its first run at or after that moment."""
    if isinstance(start, datetime) or not isinstance(start, date):
        raise TypeError("start must be a datetime.date (not a datetime)")
    if days < 1 or runs_per_day < 1:
        raise ValueError("days and runs_per_day must be >= 1")
    if not services or len(set(services)) != len(services):
        raise ValueError("services must be distinct and not empty")
    unknown = [c for c in commands if c not in COMMAND_BASE_SECONDS]
    if unknown or not commands:
        raise ValueError(f"commands must be among {sorted(COMMAND_BASE_SECONDS)}, got {unknown or 'none'}")
    for name, rate in (("duplicate_rate", duplicate_rate), ("invalid_rate", invalid_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be within [0, 1]")
    if regression_at is not None:
        if not isinstance(regression_at, datetime):
            regression_at = datetime.combine(regression_at, time(), UTC)
        if regression_at.tzinfo is None:
            raise ValueError("regression_at must carry a time zone")
        regression_service = regression_service or services[0]
        if regression_service not in services or regression_command not in commands:
            raise ValueError("regression_service and regression_command must be among those generated")
        if regression_factor <= 1:
            raise ValueError("regression_factor must be > 1")

    rng = random.Random(seed)
    service_factor = {service: rng.uniform(0.75, 1.15) for service in services}
    first_day = datetime.combine(start, _FIRST_START, UTC)
    runs = [
        _Run(first_day + timedelta(days=day, seconds=rng.randrange(_WORKDAY_SECONDS)), service, command)
        for day in range(days) for service in services for command in commands for _ in range(runs_per_day)
    ]
    runs.sort(key=lambda r: (r.started_at, r.service, r.command))
    sequence: Counter = Counter()
    for run in runs:
        sequence[run.started_at.date()] += 1
        run.run_id = f"ci-{run.started_at:%Y-%m-%d}-{sequence[run.started_at.date()]:03d}"

    summary = CiRunsSummary(services=tuple(services), commands=tuple(commands))
    heads = {service: f"{rng.getrandbits(160):040x}" for service in services}
    regressed = False
    for run in runs:
        if rng.random() < _NEW_COMMIT_PROBABILITY:
            heads[run.service] = f"{rng.getrandbits(160):040x}"
        is_regression_target = (regression_at is not None and run.service == regression_service
                                and run.command == regression_command)
        if is_regression_target and not regressed and run.started_at >= regression_at:
            heads[run.service] = f"{rng.getrandbits(160):040x}"
            regressed = True
            summary.regression = GeneratedRegression(run.service, run.command, heads[run.service], run.run_id,
                                                     run.started_at, regression_factor)
        run.commit_sha = heads[run.service]
        slowdown = regression_factor if is_regression_target and regressed else 1.0
        run.duration = (COMMAND_BASE_SECONDS[run.command] * service_factor[run.service]
                        * rng.lognormvariate(0.0, 0.06) * slowdown)
        outcome = rng.random()
        if outcome >= 0.97:
            run.status, run.duration = "cancelled", run.duration * rng.uniform(0.05, 0.5)
        elif outcome >= 0.90:
            run.status, run.duration = "failure", run.duration * rng.uniform(0.2, 0.9)
    if regression_at is not None and summary.regression is None:
        raise ValueError(f"no {regression_command} run of {regression_service} at or after {regression_at}")

    for run in runs:
        folder = f"metrics/{run.started_at:%Y/%m/%d}/"
        payload = _payload(run, rng.choice(ACTORS))
        data = orjson.dumps(payload, option=orjson.OPT_INDENT_2) + b"\n"
        write_object(f"{folder}{run.run_id}.json", data)
        summary.files_written += 1
        summary.runs += 1
        summary.successful_runs += run.status == "success"
        if duplicate_rate and rng.random() < duplicate_rate:
            write_object(f"{folder}{run.run_id}-reupload.json", data)
            summary.files_written += 1
            summary.duplicate_files += 1
        if invalid_rate and rng.random() < invalid_rate:
            kind = rng.choice(_INVALID_KINDS)
            write_object(f"{folder}{run.run_id}-bad.json", _broken(payload, kind))
            summary.files_written += 1
            summary.invalid_files += 1
            summary.invalid_kinds[kind] += 1
    return summary
