"""Deterministic, realistic synthetic usage logs for a multi-tenant AI API.

Pure Python (stdlib + orjson), no Dagster imports.

:func:`generate_usage_logs` writes gzip JSON-lines objects through a
``write_object(key, data)`` callback, laid out the way Kinesis Data Firehose
delivers them to S3::

    YYYY/MM/DD/HH/<stream>-1-<YYYY-MM-DD-HH-MM-SS>-<8 hex>.jsonl.gz

The ``YYYY/MM/DD/HH`` prefix and the timestamp in the name are the UTC
*delivery* (arrival) time of the object's first record, not the event time.

Event lines (one JSON object per line, keys in this order)::

    timestamp        "2026-01-26T21:30:45.123Z" (UTC, millisecond precision)
    level            "info" (2xx) | "warn" (4xx) | "error" (5xx)
    customer_id      organization UUID
    request_id       "req_" + 24 hex, unique per event
    endpoint, method
    status_code      int
    duration_ms      int >= 0 (includes queue_wait_ms when present)
    tokens_consumed  int == tokens_input + tokens_output  } absent for model-less
    tokens_input     int >= 0                              } requests (~10%,
    tokens_output    int >= 0                              } e.g. GET /api/v1/usage)
    model_id         catalog model UUID                    }
    message          str
    event_type, agent_type, tool_name, queue_wait_ms, session_id   (optional)
    user_id          "usr_" + 12 hex: the organization's end user (absent for ~3 %,
                     requests made with a service key)
    error_type       for status >= 400: invalid_request / context_length_exceeded (400),
                     auth_error (401), not_found (404), rate_limited (429),
                     internal_error (500), upstream_error (502), service_unavailable
                     (503), timeout (5xx after an upstream timeout)

Error responses to model-bound requests keep ``model_id`` and carry 0 tokens.

End users: each organization has its own users, more for larger organizations
(3 + 12 x orgs x its share of traffic), with Zipf-like activity (weight
1/rank**1.1). Each user is active on a day with a probability of its own
(0.25-0.95; the top fifth of an organization's users nearly every day); 15 % of
users join on a later day of the range and 10 % stop before its end, so there
are new and lapsed users. An event's user is drawn from its organization's users
active that day.

Realism: Zipf-like organization sizes (largest/smallest ~ 40x for 20 orgs),
per-org model mixes, a daily cycle peaking ~15:00 UTC with a trough ~03:00
UTC and a weekday/weekend factor (both average exactly 1, so the mean rate is
``events_per_hour``), ~3-5% 4xx (more 429s at peak and for big orgs), ~1% 5xx,
lognormal token counts per model and endpoint, lognormal latency growing with
output tokens plus a rare multi-second tail.

Delivery: ~2% of events (:data:`LATE_FRACTION`) arrive 1-3 hours after their
event time and land in a later hour's objects; late arrivals past the end of
the range are delivered in the last hour.  Everything else is delivered in its
own event hour.  Each delivery hour is split into 2-4 objects (time buffers).

Fault injection (extra lines; the unique valid events are unaffected):

* ``duplicate_rate`` - per valid event, probability of one exact byte-for-byte
  re-delivery of its line, either in the same delivery hour (usually the same
  object) or 1-2 hours later (a later object);
* ``malformed_rate`` - per valid event, probability of one broken line
  derived from it, with a fresh request_id that never belongs to a valid
  event: see :data:`MALFORMED_KINDS`.

A line is *valid* iff it parses as a JSON object with a string
``timestamp`` matching ``YYYY-MM-DDTHH:MM:SS.fffZ``, non-empty string
``customer_id`` and ``request_id``, integer ``status_code`` (100-599),
integer ``duration_ms`` >= 0 and, if token fields are present, all three as
non-negative integers with ``tokens_consumed == tokens_input + tokens_output``.

Determinism: a single seed drives three ``random.Random`` streams (events,
delivery layout, fault injection) derived from it, and gzip uses ``mtime=0``,
so identical arguments produce byte-identical keys and objects.  The valid
event lines, their order and their delivery hours depend only on
``start/days/orgs/models/events_per_hour/seed``: the fault rates only add
lines (object names may differ, since they depend on each object's first line).
``user_id`` and ``error_type`` come from a fourth stream of their own, seeded
from the seed alone and drawn from nowhere else, and are the last two keys of
a line: every other field, the event counts and the delivery are exactly what
they were before these two fields existed.
"""

from __future__ import annotations

import math
import random
import sys
import time
import zlib
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from statistics import NormalDist

import orjson

from analytics_pipeline.generator.catalog import MODELS, Model, organization_ids

__all__ = [
    "DELIVERY_STREAM_VERSION",
    "GZIP_LEVEL",
    "LATE_FRACTION",
    "MALFORMED_KINDS",
    "GenerationSummary",
    "OrgTotals",
    "generate_usage_logs",
]

#: Fraction of events delivered 1-3 hours after their event time.
LATE_FRACTION = 0.02
#: The ``<n>`` in Firehose object names (delivery stream version).
DELIVERY_STREAM_VERSION = 1
#: zlib level for the gzip objects (Firehose-like size/speed trade-off).
GZIP_LEVEL = 3
#: The kinds of broken lines injected by ``malformed_rate``.
MALFORMED_KINDS = (
    "truncated_json",
    "missing_customer_id",
    "non_numeric_status_code",
    "negative_tokens",
    "naive_timestamp",
    "unparseable_timestamp",
)

_HOUR_MS = 3_600_000
_NL = orjson.OPT_APPEND_NEWLINE


@dataclass(frozen=True)
class OrgTotals:
    """Totals over an organization's unique valid events."""

    request_count: int
    tokens_total: int  # sum of tokens_consumed (0 for model-less requests)
    error_count: int  # status_code >= 400


@dataclass(frozen=True)
class GenerationSummary:
    """What one :func:`generate_usage_logs` call wrote, and the totals billing should find in it."""

    objects_written: int
    lines_written: int
    valid_events: int  # unique valid events (what billing should count)
    duplicate_lines: int
    malformed_lines: int
    late_events: int  # unique valid events whose delivery hour > event hour
    organizations: int  # organizations with at least one valid event
    first_event: datetime  # min/max valid event timestamp (UTC-aware)
    last_event: datetime
    totals_by_org: dict[str, OrgTotals]


# --------------------------------------------------------------------------
# Traffic model
# --------------------------------------------------------------------------

#: Hour-of-day multipliers (mean exactly 1): peak ~15:00 UTC, trough ~03:00 UTC.
_DIURNAL = tuple(
    1.0 + 0.55 * math.cos(2 * math.pi * (h - 15) / 24) + 0.08 * math.cos(4 * math.pi * (h - 15) / 24) for h in range(24)
)
#: Day-of-week multipliers Mon..Sun (mean exactly 1).
_WEEKDAY = (1.08, 1.08, 1.08, 1.08, 1.08, 0.8, 0.8)

#: (method, endpoint, weight, success status, success message, uses model,
#:  input-token factor, output-token factor, base latency median ms, event_type)
_ENDPOINTS = (
    ("POST", "/api/v1/chat/completions", 45.0, 200, "Chat completion created", True, 1.0, 1.0, 90.0, None),
    ("POST", "/api/v1/agents/runs", 25.0, 200, "Agent run completed", True, 2.5, 1.4, 180.0, "agent.run"),
    ("POST", "/api/v1/agents", 8.0, 201, "Agent created", True, 0.8, 0.6, 120.0, "agent.created"),
    ("POST", "/api/v1/tools/invoke", 12.0, 200, "Tool invoked", True, 0.5, 0.3, 150.0, "tool.invocation"),
    ("GET", "/api/v1/usage", 4.0, 200, "Usage retrieved", False, 0, 0, 35.0, None),
    ("GET", "/api/v1/agents", 3.5, 200, "Agents listed", False, 0, 0, 25.0, None),
    ("GET", "/api/v1/models", 2.0, 200, "Models listed", False, 0, 0, 12.0, None),
    ("DELETE", "/api/v1/agents", 0.5, 204, "Agent deleted", False, 0, 0, 40.0, "agent.deleted"),
)

#: Per model name: (median input tokens, input sigma, median output tokens,
#: output sigma, ms per output token).
_TOKEN_PROFILES: dict[str, tuple[float, float, float, float, float]] = {
    "atlas-large": (1800.0, 1.0, 420.0, 0.9, 1.2),
    "atlas-medium": (1400.0, 1.0, 350.0, 0.9, 0.7),
    "atlas-small": (900.0, 0.9, 250.0, 0.8, 0.35),
    "nimbus-flash": (700.0, 0.9, 180.0, 0.8, 0.2),
    "nimbus-pro": (2600.0, 1.1, 520.0, 0.9, 1.5),
    "orca-code": (3200.0, 1.0, 700.0, 0.9, 0.8),
    "orca-reasoner": (2200.0, 1.0, 1400.0, 1.0, 2.0),
    "lumen-vision": (1500.0, 0.8, 300.0, 0.8, 1.0),
}
_DEFAULT_TOKEN_PROFILE = (1200.0, 1.0, 300.0, 0.9, 0.8)
_MAX_INPUT_TOKENS = 200_000
_MAX_OUTPUT_TOKENS = 16_384
_MAX_DURATION_MS = 120_000

#: (status, base probability, level, message); remaining probability is success.
_ERRORS = (
    (400, 0.012, "warn", "Invalid request body"),
    (401, 0.005, "warn", "Unauthorized: invalid API key"),
    (404, 0.008, "warn", "Resource not found"),
    (429, 0.008, "warn", "Rate limit exceeded"),
    (500, 0.005, "error", "Internal server error"),
    (502, 0.0025, "error", "Bad gateway: upstream model unavailable"),
    (503, 0.0025, "error", "Service unavailable"),
)

#: status -> error_type (400 is invalid_request or, for model requests, sometimes context_length_exceeded;
#: a 5xx after an upstream timeout is "timeout").
_ERROR_TYPES = {400: "invalid_request", 401: "auth_error", 404: "not_found", 429: "rate_limited",
                500: "internal_error", 502: "upstream_error", 503: "service_unavailable"}
_CONTEXT_LENGTH_SHARE = 0.15
#: End users: 3 + _USERS_PER_ORG x orgs x the organization's traffic share, Zipf(_USER_ZIPF) activity.
_USERS_PER_ORG = 12
_USER_ZIPF = 1.1
_NO_USER_SHARE = 0.03  # requests made with a service key, without an end user
_USER_JOINS_LATER = 0.15
_USER_LEAVES_EARLY = 0.10

_AGENT_TYPES = ("research", "customer-support", "coding", "data-analysis", "sales", "scheduler")
_TOOL_NAMES = ("web_search", "code_interpreter", "sql_query", "http_request", "file_reader", "calculator")
_SESSION_POOL = 6

#: Standard normal quantiles at the midpoints of 2**_NORM_BITS equal-probability
#: bins: ``_NORMAL_TABLE[rng.getrandbits(_NORM_BITS)]`` is a (finely discretised)
#: N(0, 1) draw, ~5x cheaper than ``random.gauss``; tails are cut at ~4.4 sigma.
_NORM_BITS = 16
_NORMAL_TABLE = tuple(NormalDist().inv_cdf((i + 0.5) / (1 << _NORM_BITS)) for i in range(1 << _NORM_BITS))
#: "MM:SS" for every second of an hour and ".fffZ" for every millisecond.
_MMSS = tuple(f"{s // 60:02d}:{s % 60:02d}" for s in range(3600))
_MS = tuple(f".{ms:03d}Z" for ms in range(1000))


def _hour_count(rng: random.Random, mu: float) -> int:
    """Poisson-distributed count (normal approximation above 50)."""
    if mu <= 0:
        return 0
    if mu > 50:
        return max(0, int(round(rng.gauss(mu, math.sqrt(mu)))))
    limit = math.exp(-mu)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _cumulative(weights: list[float]) -> tuple[list[float], float]:
    cum, total = [], 0.0
    for w in weights:
        total += w
        cum.append(total)
    return cum, total


def _format_key_time(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%d-%H-%M-%S")


def _corrupt(frng: random.Random, event: dict, event_ms: int) -> bytes:
    """A broken line derived from ``event`` with a fresh request_id."""
    bad = dict(event)
    bad["request_id"] = f"req_{frng.getrandbits(96):024x}"
    kind = MALFORMED_KINDS[int(frng.random() * len(MALFORMED_KINDS))]
    if kind == "negative_tokens" and "tokens_input" not in bad:
        kind = "non_numeric_status_code"
    if kind == "truncated_json":
        raw = orjson.dumps(bad)
        return raw[: 10 + int(frng.random() * (len(raw) - 12))] + b"\n"
    if kind == "missing_customer_id":
        del bad["customer_id"]
    elif kind == "non_numeric_status_code":
        bad["status_code"] = "abc"
    elif kind == "negative_tokens":
        neg = -1 - int(frng.random() * 500)
        bad["tokens_output"] = neg
        bad["tokens_consumed"] = bad["tokens_input"] + neg
    elif kind == "naive_timestamp":
        bad["timestamp"] = bad["timestamp"].rstrip("Z")
    else:  # unparseable_timestamp
        dt = datetime.fromtimestamp(event_ms / 1000, UTC)
        bad["timestamp"] = dt.strftime("%d/%m/%Y %H:%M:%S")
    return orjson.dumps(bad) + b"\n"


def generate_usage_logs(
    write_object: Callable[[str, bytes], None],
    *,
    start: date,
    days: int,
    orgs: int = 20,
    models: int = 6,
    events_per_hour: int = 1000,
    seed: int = 7,
    duplicate_rate: float = 0.0,
    malformed_rate: float = 0.0,
    stream_name: str = "usage-stream",
    progress: bool = False,
    until: datetime | None = None,
    event_seed: int | None = None,
) -> GenerationSummary:
    """Generate ``days`` days of usage logs from ``start`` (00:00 UTC).

    ``write_object(key, gzip_bytes)`` is called once per object, in delivery
    order.  Valid event timestamps are all within ``[start, start + days)``;
    object delivery hours are within the same range.  ``models`` selects
    ``MODELS[:models]``.

    ``until`` (inside the range) ends it early: no event at or after that
    moment, the hour holding it the last delivery hour (a month up to now).
    ``event_seed`` seeds the event, delivery and fault streams instead of
    ``seed``, which still names the organizations and their users: another
    period of the same tenants, drawn independently of the default stream.
    """
    _check_arguments(start, days, orgs, models, events_per_hour, duplicate_rate, malformed_rate, stream_name)
    rng = random.Random(seed if event_seed is None else event_seed)  # event content
    drng = random.Random(rng.getrandbits(64))  # delivery layout (late data, objects, keys)
    frng = random.Random(rng.getrandbits(64))  # fault injection (duplicates, malformed)
    base = datetime(start.year, start.month, start.day, tzinfo=UTC)
    base_ms = int(base.timestamp()) * 1000
    total_hours = days * 24
    if until is not None:
        if not base <= until < base + timedelta(days=days):
            raise ValueError(f"until must lie in [{base.isoformat()}, {(base + timedelta(days=days)).isoformat()})")
        total_hours = int((until - base) // timedelta(hours=1)) + 1
    synthesis = _EventSynthesis(rng, base_ms, orgs=orgs, models=models, events_per_hour=events_per_hour, seed=seed,
                                days=days, until_ms=None if until is None else int(until.timestamp() * 1000))
    delivery = _Delivery(
        write_object,
        drng,
        frng,
        base_ms=base_ms,
        total_hours=total_hours,
        stream_name=stream_name,
        duplicate_rate=duplicate_rate,
        malformed_rate=malformed_rate,
    )

    t0 = time.perf_counter()
    for day_idx in range(days):
        day = start + timedelta(days=day_idx)
        for hour in range(24):
            h = day_idx * 24 + hour
            if h >= total_hours:
                break
            delivery.deliver(h, synthesis.hour(day, hour, h))
            delivery.flush(h)  # no later event can arrive in hour h
        if progress:
            _show_progress(day_idx + 1, days, synthesis.valid, delivery.objects, time.perf_counter() - t0)
    for h in sorted(delivery.buckets):  # nothing should remain, but never drop lines
        delivery.flush(h)
    if progress:
        sys.stderr.write("\n")
        sys.stderr.flush()
    return _summary(synthesis, delivery, base)


def _check_arguments(
    start: date,
    days: int,
    orgs: int,
    models: int,
    events_per_hour: int,
    duplicate_rate: float,
    malformed_rate: float,
    stream_name: str,
) -> None:
    if isinstance(start, datetime) or not isinstance(start, date):
        raise TypeError("start must be a datetime.date (not a datetime)")
    if days < 1:
        raise ValueError("days must be >= 1")
    if orgs < 1:
        raise ValueError("orgs must be >= 1")
    if not 1 <= models <= len(MODELS):
        raise ValueError(f"models must be between 1 and {len(MODELS)}")
    if events_per_hour < 1:
        raise ValueError("events_per_hour must be >= 1")
    for name, rate in (("duplicate_rate", duplicate_rate), ("malformed_rate", malformed_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be within [0, 1]")
    if not stream_name or "/" in stream_name:
        raise ValueError("stream_name must be non-empty and contain no '/'")


# --------------------------------------------------------------------------
# Synthesis: the traffic model and the events it draws (the ``rng`` stream)
# --------------------------------------------------------------------------


class _EventSynthesis:
    """One run's traffic model, and the valid events of each hour with running totals.

    Only ``rng`` is drawn from, in a fixed order, so the events do not depend on
    delivery or fault injection.
    """

    def __init__(self, rng: random.Random, base_ms: int, *, orgs: int, models: int, events_per_hour: int, seed: int,
                 days: int = 1, until_ms: int | None = None):
        self.rng = rng
        self.until_ms = until_ms  # no event at or after it
        self.base_ms = base_ms
        self.orgs = orgs
        self.models = models
        self.events_per_hour = events_per_hour
        self.org_ids = organization_ids(orgs, seed)
        # Zipf-like organization sizes, in a seeded order.
        ranks = list(range(orgs))
        rng.shuffle(ranks)
        org_weights = [1.0 / (ranks[i] + 1) ** 1.25 for i in range(orgs)]
        self.org_cum, self.org_total = _cumulative(org_weights)
        org_share = [w / self.org_total for w in org_weights]

        catalog: tuple[Model, ...] = MODELS[:models]
        self.model_ids = [m.model_id for m in catalog]
        # Per-org model mix: a few dominant models per org.
        self.org_model_cum = [_cumulative([rng.random() ** 3 + 0.01 for _ in catalog]) for _ in range(orgs)]
        self.ep_cum, self.ep_total = _cumulative([e[2] for e in _ENDPOINTS])
        self.tok_params = _token_parameters(catalog)
        self.lat_mu = [math.log(e[8]) for e in _ENDPOINTS]

        # Per-org client error multipliers (a few orgs have sloppy clients) and
        # traffic-weighted 429 multipliers (big orgs hit their rate limits).
        self.client_mult = [min(4.0, math.exp(rng.gauss(-0.08, 0.4))) for _ in range(orgs)]
        raw429 = [math.sqrt(s * orgs) for s in org_share]
        norm429 = sum(s * r for s, r in zip(org_share, raw429, strict=True))
        self.rl_mult = [r / norm429 for r in raw429]
        # Per-org pool of live session ids.
        self.sessions = [[f"sess_{rng.getrandbits(64):016x}" for _ in range(_SESSION_POOL)] for _ in range(orgs)]

        # End users and error types: their own stream, so that nothing drawn from rng moves.
        self.urng = random.Random(f"usage-users-{seed}")
        self.users = _EndUsers(self.urng, self.org_ids, org_share, days)

        # Totals over the valid events drawn so far.
        self.req_count = [0] * orgs
        self.tok_total = [0] * orgs
        self.err_count = [0] * orgs
        self.valid = 0
        self.first_ms: int | None = None
        self.last_ms = 0

    def _status_thresholds(self, load: float) -> list[list[float]]:
        """Per org, the cumulative probabilities of ``_ERRORS`` at this hour's load."""
        thresholds = []
        server = 0.7 + 0.3 * load
        for cm, rl in zip(self.client_mult, self.rl_mult, strict=True):
            rm = rl * load
            probs = [
                _ERRORS[0][1] * cm,
                _ERRORS[1][1] * cm,
                _ERRORS[2][1] * cm,
                _ERRORS[3][1] * rm,
                _ERRORS[4][1] * server,
                _ERRORS[5][1] * server,
                _ERRORS[6][1] * server,
            ]
            thresholds.append(_cumulative(probs)[0])
        return thresholds

    def hour(self, day: date, hour: int, h: int) -> list[tuple[int, dict, bytes]]:
        """The valid events of hour ``h`` (``hour`` of ``day``) as (event ms, event, line), in time order."""
        # One loop body per event, with no calls of our own: it is the generator's hot path.
        rng = self.rng
        load = _DIURNAL[hour] * _WEEKDAY[day.weekday()]
        n = _hour_count(rng, self.events_per_hour * load)
        # Local aliases: this loop runs once per event.
        rand = rng.random
        getrandbits = rng.getrandbits
        norm = _NORMAL_TABLE
        exp = math.exp
        dumps = orjson.dumps
        offsets = sorted([int(rand() * _HOUR_MS) for _ in range(n)])
        if self.until_ms is not None:  # the hour that holds until: its events before until
            offsets = [off for off in offsets if self.base_ms + h * _HOUR_MS + off < self.until_ms]
        status_cum = self._status_thresholds(load)
        queue_p = 0.04 + 0.10 * load
        orgs, models, org_ids, model_ids = self.orgs, self.models, self.org_ids, self.model_ids
        org_cum, org_total, ep_cum, ep_total = self.org_cum, self.org_total, self.ep_cum, self.ep_total
        org_model_cum, tok_params, lat_mu, sessions = self.org_model_cum, self.tok_params, self.lat_mu, self.sessions
        req_count, tok_total, err_count = self.req_count, self.tok_total, self.err_count
        n_endpoints, n_agent, n_tool = len(_ENDPOINTS), len(_AGENT_TYPES), len(_TOOL_NAMES)
        hour_start = self.base_ms + h * _HOUR_MS
        ts_prefix = f"{day.isoformat()}T{hour:02d}:"
        events: list[tuple[int, dict, bytes]] = []
        urand = self.urng.random
        user_cum, user_total, user_ids = self.users.of_day(h // 24)
        error_types = _ERROR_TYPES

        for off in offsets:
            o = bisect(org_cum, rand() * org_total)
            if o >= orgs:  # float rounding at the very top of the range
                o = orgs - 1
            e = bisect(ep_cum, rand() * ep_total)
            if e >= n_endpoints:
                e = n_endpoints - 1
            method, endpoint, _, ok_status, ok_msg, uses_model, _, _, _, event_type = _ENDPOINTS[e]
            u = rand()
            sc = status_cum[o]
            if u < sc[-1]:
                status, _, level, message = _ERRORS[bisect(sc, u)]
            else:
                status, level, message = ok_status, "info", ok_msg
            duration = exp(lat_mu[e] + 0.5 * norm[getrandbits(_NORM_BITS)])
            if uses_model:
                mcum, mtot = org_model_cum[o]
                mi = bisect(mcum, rand() * mtot)
                if mi >= models:
                    mi = models - 1
                if status < 400:
                    mu_in, s_in, mu_out, s_out, mspt = tok_params[e][mi]  # type: ignore[misc]
                    in_tok = int(exp(mu_in + s_in * norm[getrandbits(_NORM_BITS)]))
                    if in_tok < 1:
                        in_tok = 1
                    elif in_tok > _MAX_INPUT_TOKENS:
                        in_tok = _MAX_INPUT_TOKENS
                    out_tok = int(exp(mu_out + s_out * norm[getrandbits(_NORM_BITS)]))
                    if out_tok < 1:
                        out_tok = 1
                    elif out_tok > _MAX_OUTPUT_TOKENS:
                        out_tok = _MAX_OUTPUT_TOKENS
                    duration += out_tok * mspt * (0.75 + 0.5 * rand()) + in_tok * 0.005
                else:
                    in_tok = out_tok = 0
                if rand() < queue_p:
                    qw = int(exp(3.6 + 1.1 * norm[getrandbits(_NORM_BITS)]))
                    duration += qw
                else:
                    qw = -1
            timed_out = False
            if status >= 400:
                if status < 500:
                    duration *= 0.25
                elif rand() < 0.3:  # upstream timeouts
                    duration += 5000 + 25000 * rand()
                    timed_out = True
            elif rand() < 0.004:  # rare multi-second tail (GC, cold starts, retries)
                duration += 2000 + 18000 * rand() ** 2
            d = int(duration)
            sec = off // 1000
            # Key order is the line's byte order: token fields sit between duration_ms and message.
            ev: dict = {
                "timestamp": ts_prefix + _MMSS[sec] + _MS[off - sec * 1000],
                "level": level,
                "customer_id": org_ids[o],
                "request_id": f"req_{getrandbits(96):024x}",
                "endpoint": endpoint,
                "method": method,
                "status_code": status,
                "duration_ms": _MAX_DURATION_MS if d > _MAX_DURATION_MS else d,
            }
            if uses_model:
                ev["tokens_consumed"] = in_tok + out_tok
                ev["tokens_input"] = in_tok
                ev["tokens_output"] = out_tok
                ev["model_id"] = model_ids[mi]
                tok_total[o] += in_tok + out_tok
            ev["message"] = message
            if event_type is not None:
                ev["event_type"] = event_type
            if e == 1 or e == 2:  # agent endpoints (see _ENDPOINTS order)
                ev["agent_type"] = _AGENT_TYPES[int(rand() * n_agent)]
            if e == 3 or (e == 1 and rand() < 0.35):
                ev["tool_name"] = _TOOL_NAMES[int(rand() * n_tool)]
            if uses_model and qw >= 0:
                ev["queue_wait_ms"] = qw
            if e == 1 or (e == 0 and rand() < 0.5):
                pool = sessions[o]
                if rand() < 0.06:
                    pool[int(rand() * _SESSION_POOL)] = f"sess_{getrandbits(64):016x}"
                ev["session_id"] = pool[int(rand() * _SESSION_POOL)]
            # The two fields of urng, last in the line.
            if urand() >= _NO_USER_SHARE:
                ucum = user_cum[o]
                ui = bisect(ucum, urand() * user_total[o])
                ev["user_id"] = user_ids[o][ui if ui < len(ucum) else len(ucum) - 1]
            if status >= 400:
                if timed_out:
                    ev["error_type"] = "timeout"
                elif status == 400 and uses_model and urand() < _CONTEXT_LENGTH_SHARE:
                    ev["error_type"] = "context_length_exceeded"
                else:
                    ev["error_type"] = error_types[status]

            req_count[o] += 1
            if status >= 400:
                err_count[o] += 1
            events.append((hour_start + off, ev, dumps(ev, option=_NL)))

        if events:
            if self.first_ms is None:
                self.first_ms = events[0][0]
            self.last_ms = events[-1][0]
            self.valid += len(events)
        return events


class _EndUsers:
    """Each organization's end users (drawn from ``urng`` only) and who is active on each day."""

    def __init__(self, urng: random.Random, org_ids: list[str], org_share: list[float], days: int):
        self.urng = urng
        self.days = days
        orgs = len(org_ids)
        # Per org: (user id, Zipf weight, daily activity probability, first day, last day) by rank.
        self.users: list[list[tuple[str, float, float, int, int]]] = []
        for share in org_share:
            count = 3 + round(_USERS_PER_ORG * orgs * share)
            regulars = max(1, count // 5)
            users = []
            for rank in range(count):
                first, last = 0, days - 1
                if days > 1 and urng.random() < _USER_JOINS_LATER:
                    first = 1 + int(urng.random() * (days - 1))
                if days > 1 and urng.random() < _USER_LEAVES_EARLY:
                    last = int(urng.random() * (days - 1))
                activity = 0.95 if rank < regulars else 0.25 + 0.7 * urng.random() ** 0.7
                users.append((f"usr_{urng.getrandbits(48):012x}", 1.0 / (rank + 1) ** _USER_ZIPF, activity, first,
                              last))
            self.users.append(users)
        self._day = -1
        self._active: tuple[list[list[float]], list[float], list[list[str]]] = ([], [], [])

    def of_day(self, day: int) -> tuple[list[list[float]], list[float], list[list[str]]]:
        """Per org, the cumulative weights, their total and the ids of the users active on ``day``."""
        if day != self._day:
            urand = self.urng.random
            cums, totals, ids = [], [], []
            for users in self.users:
                # Everyone's draw is made, active or not, so one user's days do not move another's.
                active = [(uid, weight) for uid, weight, activity, first, last in users
                          if urand() < activity and first <= day <= last]
                if not active:  # a quiet day: the organization's top user still shows up
                    active = [(users[0][0], users[0][1])]
                cum, total = _cumulative([weight for _, weight in active])
                cums.append(cum)
                totals.append(total)
                ids.append([uid for uid, _ in active])
            self._day, self._active = day, (cums, totals, ids)
        return self._active


def _token_parameters(catalog: tuple[Model, ...]) -> list[list[tuple[float, float, float, float, float] | None]]:
    """Per (endpoint, model): lognormal token parameters and ms per output token; None for model-less endpoints."""
    params: list[list[tuple[float, float, float, float, float] | None]] = []
    for e in _ENDPOINTS:
        row: list[tuple[float, float, float, float, float] | None] = []
        for m in catalog:
            mi, si, mo, so, mspt = _TOKEN_PROFILES.get(m.name, _DEFAULT_TOKEN_PROFILE)
            row.append((math.log(mi * e[6]), si, math.log(mo * e[7]), so, mspt) if e[5] else None)
        params.append(row)
    return params


# --------------------------------------------------------------------------
# Delivery: arrival times, faults and objects (the ``drng`` and ``frng`` streams)
# --------------------------------------------------------------------------


class _Delivery:
    """Firehose-like delivery of event lines into per-hour gzip objects.

    ``drng`` decides arrival times and object layout, ``frng`` the injected
    duplicate and broken lines; lines wait in per-delivery-hour buckets until
    their hour is flushed to ``write_object``.
    """

    def __init__(
        self,
        write_object: Callable[[str, bytes], None],
        drng: random.Random,
        frng: random.Random,
        *,
        base_ms: int,
        total_hours: int,
        stream_name: str,
        duplicate_rate: float,
        malformed_rate: float,
    ):
        self.write_object = write_object
        self.drng = drng
        self.frng = frng
        self.base_ms = base_ms
        self.total_hours = total_hours
        self.stream_name = stream_name
        self.duplicate_rate = duplicate_rate
        self.malformed_rate = malformed_rate
        self.buckets: dict[int, list[tuple[int, bytes]]] = {}
        self.used_keys: set[str] = set()
        self.late = self.duplicate_lines = self.malformed_lines = 0
        self.objects = self.lines_written = 0

    def _bucket(self, h: int) -> list[tuple[int, bytes]]:
        b = self.buckets.get(h)
        if b is None:
            b = self.buckets[h] = []
        return b

    def deliver(self, h: int, events: list[tuple[int, dict, bytes]]) -> None:
        """Give each event of hour ``h`` an arrival time (on time, or 1-3 hours late) and its injected faults."""
        drand = self.drng.random
        frand = self.frng.random
        duplicate_rate, malformed_rate = self.duplicate_rate, self.malformed_rate
        base_ms = self.base_ms
        last_hour = self.total_hours - 1
        range_end = base_ms + self.total_hours * _HOUR_MS
        hour_end = base_ms + (h + 1) * _HOUR_MS
        own_bucket = self._bucket(h)
        for event_ms, ev, line in events:
            if drand() < LATE_FRACTION:
                arrival = event_ms + _HOUR_MS + int(drand() * 2 * _HOUR_MS)
                dh = (arrival - base_ms) // _HOUR_MS
                if dh > last_hour:  # late past the range: delivered in its last hour
                    dh = last_hour
                    arrival = range_end - 1 - int(drand() * 60_000)
                    if arrival < event_ms:
                        arrival = event_ms
                if dh > h:
                    self.late += 1
                target = self._bucket(dh)
            else:
                x = drand()
                arrival = event_ms + int(x * x * x * 10_000)  # skewed toward ~0-2 s
                if arrival >= hour_end:
                    arrival = hour_end - 1
                dh = h
                target = own_bucket
            target.append((arrival, line))
            # Fault injection: extra lines only; a zero rate draws nothing.
            if duplicate_rate and frand() < duplicate_rate:
                self._duplicate(target, dh, arrival, line)
            if malformed_rate and frand() < malformed_rate:
                self._malformed(target, dh, arrival, ev, event_ms)

    def _duplicate(self, target: list[tuple[int, bytes]], dh: int, arrival: int, line: bytes) -> None:
        """A byte-for-byte re-delivery of ``line``: usually in the same object, else 1-2 hours later."""
        frand = self.frng.random
        self.duplicate_lines += 1
        last_hour = self.total_hours - 1
        if frand() < 0.6 or dh == last_hour:
            da = arrival + int(frand() * 5000)
            dh_end = self.base_ms + (dh + 1) * _HOUR_MS
            target.append((da if da < dh_end else dh_end - 1, line))
        else:
            ddh = min(last_hour, dh + 1 + int(frand() * 2))
            self._bucket(ddh).append((self.base_ms + ddh * _HOUR_MS + int(frand() * _HOUR_MS), line))

    def _malformed(self, target: list[tuple[int, bytes]], dh: int, arrival: int, ev: dict, event_ms: int) -> None:
        """A broken line derived from ``ev``, arriving just after it in the same delivery hour."""
        self.malformed_lines += 1
        ba = arrival + int(self.frng.random() * 1000)
        dh_end = self.base_ms + (dh + 1) * _HOUR_MS
        target.append((ba if ba < dh_end else dh_end - 1, _corrupt(self.frng, ev, event_ms)))

    def flush(self, h: int) -> None:
        """Write delivery hour ``h``'s lines, in arrival order, as 2-4 objects."""
        items = self.buckets.pop(h, None)
        if not items:
            return
        items.sort(key=itemgetter(0))  # stable: ties keep insertion order
        hour_start = self.base_ms + h * _HOUR_MS
        prefix = datetime.fromtimestamp(hour_start // 1000, UTC).strftime("%Y/%m/%d/%H/")
        for group in self._buffer_windows(items, hour_start):
            if group:
                self.write_object(self._object_key(prefix, group[0][0]), _gzip(group))
                self.objects += 1
                self.lines_written += len(group)

    def _buffer_windows(self, items: list[tuple[int, bytes]], hour_start: int) -> list[list[tuple[int, bytes]]]:
        """Split an hour's sorted lines at 1-3 random cut times (Firehose buffer intervals)."""
        drand = self.drng.random
        # Always draw 3 cut points, so the layout stream does not depend on how many lines the hour holds.
        k = 2 + int(drand() * 3)
        cuts = sorted([hour_start + int(drand() * _HOUR_MS) for _ in range(3)][: k - 1])
        groups: list[list[tuple[int, bytes]]] = [[] for _ in range(k)]
        gi = 0
        for it in items:
            while gi < k - 1 and it[0] >= cuts[gi]:
                gi += 1
            groups[gi].append(it)
        return groups

    def _object_key(self, prefix: str, first_arrival_ms: int) -> str:
        """A Firehose object name for a group whose first line arrived at ``first_arrival_ms``, unique in the run."""
        while True:
            key = (
                f"{prefix}{self.stream_name}-{DELIVERY_STREAM_VERSION}-"
                f"{_format_key_time(first_arrival_ms)}-{self.drng.getrandbits(32):08x}.jsonl.gz"
            )
            if key not in self.used_keys:
                self.used_keys.add(key)
                return key


def _gzip(group: list[tuple[int, bytes]]) -> bytes:
    return zlib.compress(b"".join(line for _, line in group), level=GZIP_LEVEL, wbits=31)


def _show_progress(done: int, days: int, valid: int, objects: int, elapsed: float) -> None:
    width = 30
    filled = width * done // days
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{days} days "
        f"{valid:,} events {objects:,} objects {elapsed:.1f}s"
    )
    sys.stderr.flush()


def _summary(synthesis: _EventSynthesis, delivery: _Delivery, base: datetime) -> GenerationSummary:
    totals = {
        org_id: OrgTotals(
            request_count=synthesis.req_count[o],
            tokens_total=synthesis.tok_total[o],
            error_count=synthesis.err_count[o],
        )
        for o, org_id in enumerate(synthesis.org_ids)
        if synthesis.req_count[o]
    }
    if synthesis.first_ms is None:
        first_dt = last_dt = base
    else:
        first_dt = datetime.fromtimestamp(synthesis.first_ms / 1000, UTC)
        last_dt = datetime.fromtimestamp(synthesis.last_ms / 1000, UTC)
    assert delivery.lines_written == synthesis.valid + delivery.duplicate_lines + delivery.malformed_lines
    return GenerationSummary(
        objects_written=delivery.objects,
        lines_written=delivery.lines_written,
        valid_events=synthesis.valid,
        duplicate_lines=delivery.duplicate_lines,
        malformed_lines=delivery.malformed_lines,
        late_events=delivery.late,
        organizations=len(totals),
        first_event=first_dt,
        last_event=last_dt,
        totals_by_org=totals,
    )
