"""Run files for the build-metrics tests: the issue's example, with overrides."""

from datetime import UTC, datetime, timedelta

import orjson

EXAMPLE = {
    "run_id": "ci-2025-11-08-001",
    "service": "user-org-service",
    "command": "make check",
    "status": "success",
    "started_at": "2025-11-08T15:04:05Z",
    "finished_at": "2025-11-08T15:06:07Z",
    "duration_seconds": 122.3,
    "commit_sha": "abcdef1234567890",
    "actor": "dev@example.com",
    "environment": "github-actions",
    "collector_version": "1.0.0",
}
NOW = datetime(2025, 12, 1, tzinfo=UTC)  # the validator's clock in pure tests


def run_payload(*, drop=(), **overrides) -> dict:
    payload = {**EXAMPLE, **overrides}
    for name in drop:
        del payload[name]
    return payload


def run_file(*, drop=(), **overrides) -> bytes:
    return orjson.dumps(run_payload(drop=drop, **overrides))


def timed_run(run_id: str, started: datetime, seconds: float, *, service="svc-a", command="make check",
              status="success", commit="a1b2c3d4") -> bytes:
    """A valid run file starting at ``started`` and lasting ``seconds``."""
    finished = started + timedelta(seconds=seconds)
    return run_file(run_id=run_id, service=service, command=command, status=status, commit_sha=commit,
                    started_at=started.isoformat().replace("+00:00", "Z"),
                    finished_at=finished.isoformat().replace("+00:00", "Z"), duration_seconds=seconds)


def run_key(day: datetime, run_id: str) -> str:
    return f"metrics/{day:%Y/%m/%d}/{run_id}.json"
