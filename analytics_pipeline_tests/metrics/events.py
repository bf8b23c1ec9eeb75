"""Hand-made raw events for the metrics tests, written straight into the warehouse."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

COLUMNS = ("event_time", "organization_id", "request_id", "endpoint", "method", "status_code", "duration_ms",
           "tokens_input", "tokens_output", "model_id", "event_type", "agent_type", "tool_name", "queue_wait_ms",
           "session_id", "user_id", "error_type")
_ids = itertools.count()


def at(text: str) -> datetime:
    """A UTC moment from ``"2026-03-01 12:00"`` (seconds and milliseconds optional)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def event(when: datetime | str, org: str, user: str | None = None, **fields) -> dict:
    """One event: 200 OK, 100 ms, 10 + 5 tokens of model m1 on /v1/chat unless ``fields`` say otherwise."""
    return {"event_time": at(when) if isinstance(when, str) else when, "organization_id": org,
            "request_id": f"r{next(_ids)}", "endpoint": "/v1/chat", "method": "POST", "status_code": 200,
            "duration_ms": 100.0, "tokens_input": 10, "tokens_output": 5, "model_id": "m1", "user_id": user,
            **fields}


def daily(first: str, days: int, org: str, per_day: int, *, users: tuple[str, ...] = ("u1",), hour: int = 12,
          **fields) -> list[dict]:
    """``per_day`` events a day for ``days`` days from ``first`` (a date), users taken in turn."""
    start = at(first)
    return [event(start + timedelta(days=d, hours=hour, minutes=i % 60, seconds=i // 60), org,
                  users[i % len(users)] if users else None, **fields)
            for d in range(days) for i in range(per_day)]


def insert(conn, events: list[dict]) -> None:
    """COPY the events into analytics_events (creating their day partitions) and commit."""
    for day in sorted({e["event_time"].date() for e in events}):
        conn.execute("SELECT analytics_ensure_event_partition(%s)", (day,))
    with conn.cursor().copy(f"COPY analytics_events ({', '.join(COLUMNS)}, content_hash, object_id) "
                            "FROM STDIN") as copy:
        for e in events:
            copy.write_row((*(e.get(c) for c in COLUMNS), "h", 1))
    conn.commit()
