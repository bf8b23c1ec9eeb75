"""Behavioural tests for the synthetic usage-log generator and the model catalog.

Lines are classified here independently of the generator's internals: a line is
valid iff it parses to a JSON object with a "...Z" millisecond timestamp,
non-empty customer_id / request_id, integer status_code and duration_ms and
(if present) consistent non-negative token counts.  Duplicates are valid lines
whose request_id was already seen earlier in delivery order.
"""

from __future__ import annotations

import csv
import gzip
import re
import statistics
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics_pipeline import cli
from analytics_pipeline.generator import catalog
from analytics_pipeline.generator.catalog import MODELS, Model, organization_ids
from analytics_pipeline.generator.usage_logs import (
    GenerationSummary,
    OrgTotals,
    generate_usage_logs,
)

KEY_RE = re.compile(
    r"^(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<h>\d{2})/"
    r"(?P<stream>[A-Za-z0-9_.-]+?)-(?P<ver>\d+)-"
    r"(?P<ts>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-(?P<hex>[0-9a-f]{8})\.jsonl\.gz$"
)
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
TOKEN_FIELDS = ("tokens_consumed", "tokens_input", "tokens_output")
START = date(2026, 1, 26)  # a Monday


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    obj_index: int
    key: str
    delivery_hour: datetime
    raw: bytes


@dataclass
class Decoded:
    objects: list[tuple[str, bytes]]
    summary: GenerationSummary
    lines: list[Line]
    valid: list[tuple[Line, dict]]  # first occurrence of each valid event
    duplicates: list[tuple[Line, dict]]
    malformed: list[Line]


def is_int(v: object) -> bool:
    return type(v) is int


def parse_valid(raw: bytes) -> dict | None:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    ts = obj.get("timestamp")
    if not isinstance(ts, str) or not TS_RE.fullmatch(ts):
        return None
    for field in ("customer_id", "request_id"):
        if not isinstance(obj.get(field), str) or not obj[field]:
            return None
    if not is_int(obj.get("status_code")) or not 100 <= obj["status_code"] <= 599:
        return None
    if not is_int(obj.get("duration_ms")) or obj["duration_ms"] < 0:
        return None
    present = [f in obj for f in TOKEN_FIELDS]
    if any(present):
        if not all(present):
            return None
        if not all(is_int(obj[f]) and obj[f] >= 0 for f in TOKEN_FIELDS):
            return None
        if obj["tokens_consumed"] != obj["tokens_input"] + obj["tokens_output"]:
            return None
    return obj


def event_time(obj: dict) -> datetime:
    return datetime.strptime(obj["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def decode(objects: list[tuple[str, bytes]], summary: GenerationSummary) -> Decoded:
    lines: list[Line] = []
    for i, (key, data) in enumerate(objects):
        m = KEY_RE.match(key)
        assert m, key
        hour = datetime(int(m["y"]), int(m["m"]), int(m["d"]), int(m["h"]), tzinfo=UTC)
        payload = gzip.decompress(data)
        assert payload.endswith(b"\n")
        for raw in payload.split(b"\n")[:-1]:
            lines.append(Line(i, key, hour, raw))
    valid, dups, bad = [], [], []
    seen: set[str] = set()
    for line in lines:
        obj = parse_valid(line.raw)
        if obj is None:
            bad.append(line)
        elif obj["request_id"] in seen:
            dups.append((line, obj))
        else:
            seen.add(obj["request_id"])
            valid.append((line, obj))
    return Decoded(objects, summary, lines, valid, dups, bad)


def run(**kwargs) -> tuple[list[tuple[str, bytes]], GenerationSummary]:
    objects: list[tuple[str, bytes]] = []
    summary = generate_usage_logs(lambda k, d: objects.append((k, d)), **kwargs)
    return objects, summary


@cache
def sample() -> Decoded:
    """Two weekdays, 20 orgs, all models, duplicates and malformed lines."""
    objects, summary = run(
        start=START,
        days=2,
        orgs=20,
        models=len(MODELS),
        events_per_hour=400,
        seed=11,
        duplicate_rate=0.03,
        malformed_rate=0.02,
    )
    return decode(objects, summary)


@cache
def clean_week() -> Decoded:
    """A full week without faults (for rate / cycle statistics)."""
    objects, summary = run(start=START, days=7, orgs=20, events_per_hour=150, seed=3)
    return decode(objects, summary)


# ---------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_objects_and_keys():
    kwargs = dict(start=START, days=1, orgs=7, events_per_hour=120, seed=5, duplicate_rate=0.05, malformed_rate=0.05)
    a, sa = run(**kwargs)
    b, sb = run(**kwargs)
    assert a == b
    assert sa == sb
    assert len(a) >= 24


def test_different_seed_differs():
    kwargs = dict(start=START, days=1, orgs=7, events_per_hour=120)
    a, _ = run(seed=1, **kwargs)
    b, _ = run(seed=2, **kwargs)
    assert [k for k, _ in a] != [k for k, _ in b]
    assert {d for _, d in a}.isdisjoint({d for _, d in b})


def test_valid_events_do_not_depend_on_fault_rates():
    kwargs = dict(start=START, days=1, orgs=9, events_per_hour=200, seed=21)
    clean = decode(*run(**kwargs))
    noisy = decode(*run(duplicate_rate=0.2, malformed_rate=0.1, **kwargs))
    assert [(ln.delivery_hour, ln.raw) for ln, _ in clean.valid] == [
        (ln.delivery_hour, ln.raw) for ln, _ in noisy.valid
    ]
    assert clean.summary.totals_by_org == noisy.summary.totals_by_org
    assert clean.summary.late_events == noisy.summary.late_events
    assert noisy.summary.duplicate_lines > 0 and noisy.summary.malformed_lines > 0


# ---------------------------------------------------------------------------
# object layout / delivery
# ---------------------------------------------------------------------------


def test_keys_follow_firehose_layout():
    d = sample()
    keys = [k for k, _ in d.objects]
    assert len(keys) == len(set(keys)) == d.summary.objects_written
    per_hour: Counter[str] = Counter()
    previous_hour = None
    for key in keys:
        m = KEY_RE.match(key)
        assert m is not None, key
        assert m["stream"] == "usage-stream"
        assert m["ver"] == "1"
        # the object name's timestamp lies inside the delivery hour of its prefix
        assert m["ts"].startswith(f"{m['y']}-{m['m']}-{m['d']}-{m['h']}-")
        hour = f"{m['y']}/{m['m']}/{m['d']}/{m['h']}"
        per_hour[hour] += 1
        assert previous_hour is None or hour >= previous_hour, "objects are written in delivery order"
        previous_hour = hour
    assert len(per_hour) == 48
    assert all(2 <= n <= 4 for n in per_hour.values())


def test_stream_name_is_used_in_keys():
    objects, _ = run(start=START, days=1, orgs=3, events_per_hour=30, stream_name="prod-usage")
    assert objects and all(KEY_RE.match(k)["stream"] == "prod-usage" for k, _ in objects)


def test_objects_are_gzip_with_zero_mtime():
    for _, data in sample().objects[:10]:
        assert data[:2] == b"\x1f\x8b"
        assert data[4:8] == b"\x00\x00\x00\x00"


def test_delivery_hour_never_before_event_hour_and_late_fraction():
    d = sample()
    start = datetime(START.year, START.month, START.day, tzinfo=UTC)
    end = start + timedelta(days=2)
    late = 0
    for line, obj in d.valid + d.duplicates:
        ev_hour = event_time(obj).replace(minute=0, second=0, microsecond=0)
        assert start <= line.delivery_hour < end
        assert line.delivery_hour >= ev_hour
    for line, obj in d.valid:
        ev_hour = event_time(obj).replace(minute=0, second=0, microsecond=0)
        lag = line.delivery_hour - ev_hour
        assert lag <= timedelta(hours=3)
        if lag > timedelta(0):
            late += 1
    assert late == d.summary.late_events
    assert 0.01 <= late / len(d.valid) <= 0.03


def test_late_events_past_range_land_in_last_hour():
    d = sample()
    last_hour = datetime(2026, 1, 27, 23, tzinfo=UTC)
    last_hour_events = [obj for line, obj in d.valid if line.delivery_hour == last_hour]
    earlier = [o for o in last_hour_events if event_time(o) < last_hour]
    assert earlier, "late events from the final hours are delivered in the last hour"


# ---------------------------------------------------------------------------
# line accounting / fault injection
# ---------------------------------------------------------------------------


def test_line_accounting_matches_summary_exactly():
    d = sample()
    s = d.summary
    assert len(d.lines) == s.lines_written
    assert len(d.valid) == s.valid_events
    assert len(d.duplicates) == s.duplicate_lines
    assert len(d.malformed) == s.malformed_lines
    assert s.lines_written == s.valid_events + s.duplicate_lines + s.malformed_lines
    assert len(d.objects) == s.objects_written
    # rates are per valid event
    assert 0.02 <= s.duplicate_lines / s.valid_events <= 0.04
    assert 0.012 <= s.malformed_lines / s.valid_events <= 0.028


def test_duplicates_are_exact_redeliveries_in_same_and_later_objects():
    d = sample()
    first = {obj["request_id"]: line for line, obj in d.valid}
    same_object = later_object = 0
    for line, obj in d.duplicates:
        original = first[obj["request_id"]]
        assert line.raw == original.raw
        assert line.obj_index >= original.obj_index
        if line.obj_index == original.obj_index:
            same_object += 1
        else:
            later_object += 1
    assert same_object > 10 and later_object > 10


def test_malformed_lines_cover_all_kinds_and_never_reuse_valid_request_ids():
    d = sample()
    valid_ids = {obj["request_id"] for _, obj in d.valid}
    kinds: Counter[str] = Counter()
    for line in d.malformed:
        assert line.raw, "no empty lines"
        try:
            obj = orjson.loads(line.raw)
        except orjson.JSONDecodeError:
            kinds["truncated"] += 1
            continue
        assert obj["request_id"] not in valid_ids
        if "customer_id" not in obj:
            kinds["missing_customer_id"] += 1
        elif obj["status_code"] == "abc":
            kinds["status_abc"] += 1
        elif min(obj.get(f, 0) for f in TOKEN_FIELDS) < 0:
            kinds["negative_tokens"] += 1
        elif obj["timestamp"].startswith("20") and not obj["timestamp"].endswith("Z"):
            kinds["naive_timestamp"] += 1
        else:
            kinds["bad_timestamp"] += 1
    assert set(kinds) == {
        "truncated",
        "missing_customer_id",
        "status_abc",
        "negative_tokens",
        "naive_timestamp",
        "bad_timestamp",
    }


def test_no_faults_by_default():
    d = clean_week()
    assert d.summary.duplicate_lines == d.summary.malformed_lines == 0
    assert not d.duplicates and not d.malformed


# ---------------------------------------------------------------------------
# summary totals
# ---------------------------------------------------------------------------


def test_totals_by_org_match_decoded_events():
    d = sample()
    req: Counter[str] = Counter()
    tok: Counter[str] = Counter()
    err: Counter[str] = Counter()
    for _, obj in d.valid:
        org = obj["customer_id"]
        req[org] += 1
        tok[org] += obj.get("tokens_consumed", 0)
        err[org] += obj["status_code"] >= 400
    expected = {org: OrgTotals(req[org], tok[org], err[org]) for org in req}
    assert d.summary.totals_by_org == expected
    assert d.summary.organizations == len(expected) == 20
    assert set(expected) == set(organization_ids(20, 11))


def test_first_and_last_event_and_range():
    d = sample()
    times = [event_time(obj) for _, obj in d.valid]
    assert d.summary.first_event == min(times)
    assert d.summary.last_event == max(times)
    start = datetime(START.year, START.month, START.day, tzinfo=UTC)
    assert start <= min(times) and max(times) < start + timedelta(days=2)
    assert d.summary.first_event.tzinfo is not None


# ---------------------------------------------------------------------------
# event shape / realism
# ---------------------------------------------------------------------------


def test_event_shape():
    d = sample()
    ids = [obj["request_id"] for _, obj in d.valid]
    assert len(ids) == len(set(ids))
    optional = Counter()
    for _, obj in d.valid:
        assert list(obj)[:8] == [
            "timestamp",
            "level",
            "customer_id",
            "request_id",
            "endpoint",
            "method",
            "status_code",
            "duration_ms",
        ]
        assert re.fullmatch(r"req_[0-9a-f]{24}", obj["request_id"])
        uuid.UUID(obj["customer_id"])
        assert obj["endpoint"].startswith("/api/v1/")
        assert obj["method"] in {"GET", "POST", "DELETE"}
        assert isinstance(obj["message"], str) and obj["message"]
        expected_level = "info" if obj["status_code"] < 400 else "warn" if obj["status_code"] < 500 else "error"
        assert obj["level"] == expected_level
        for key in ("event_type", "agent_type", "tool_name", "queue_wait_ms", "session_id"):
            optional[key] += key in obj
    n = len(d.valid)
    for key, count in optional.items():
        assert 0.01 * n < count < 0.9 * n, (key, count)


def test_sessions_are_reused():
    d = sample()
    sessions = Counter(obj["session_id"] for _, obj in d.valid if "session_id" in obj)
    assert max(sessions.values()) > 5
    assert len(sessions) > 20


def test_model_ids_in_catalog_and_modelless_requests():
    d = sample()
    catalog_ids = {m.model_id for m in MODELS}
    modelless = 0
    used = Counter()
    for _, obj in d.valid:
        if "model_id" not in obj:
            modelless += 1
            assert not any(f in obj for f in TOKEN_FIELDS)
            continue
        assert obj["model_id"] in catalog_ids
        used[obj["model_id"]] += 1
        if obj["status_code"] >= 400:
            assert obj["tokens_consumed"] == 0
        else:
            assert obj["tokens_input"] >= 1 and obj["tokens_output"] >= 1
    assert 0.05 <= modelless / len(d.valid) <= 0.15
    assert set(used) == catalog_ids  # models=len(MODELS): every model in use


def test_models_argument_restricts_catalog_prefix():
    d = decode(*run(start=START, days=1, orgs=10, models=3, events_per_hour=200, seed=4))
    used = {obj["model_id"] for _, obj in d.valid if "model_id" in obj}
    assert used <= {m.model_id for m in MODELS[:3]}
    assert len(used) >= 2


def test_org_size_skew():
    d = sample()
    counts = sorted(t.request_count for t in d.summary.totals_by_org.values())
    assert len(counts) == 20
    assert counts[-1] / counts[0] > 10


def test_daily_cycle_and_mean_rate():
    d = clean_week()
    by_hour: Counter[int] = Counter(event_time(obj).hour for _, obj in d.valid)
    afternoon = statistics.mean(by_hour[h] for h in range(13, 18))
    night = statistics.mean(by_hour[h] for h in range(1, 6))
    assert afternoon > 2 * night
    peak_hour = max(by_hour, key=by_hour.__getitem__)
    assert 12 <= peak_hour <= 18
    # mean = events_per_hour over a full week (weekday/weekend factors average to 1)
    assert abs(len(d.valid) / (7 * 24) - 150) < 0.05 * 150
    by_day = Counter(event_time(obj).date() for _, obj in d.valid)
    weekday = statistics.mean(by_day[START + timedelta(days=i)] for i in range(5))
    weekend = statistics.mean(by_day[START + timedelta(days=i)] for i in range(5, 7))
    assert weekend < weekday


def test_error_rates_plausible():
    d = sample()
    statuses = Counter(obj["status_code"] for _, obj in d.valid)
    n = len(d.valid)
    client = sum(v for k, v in statuses.items() if 400 <= k < 500)
    server = sum(v for k, v in statuses.items() if k >= 500)
    assert 0.015 <= client / n <= 0.08
    assert 0.004 <= server / n <= 0.025
    assert {400, 401, 404, 429, 500, 502, 503} <= set(statuses)
    assert set(statuses) <= {200, 201, 204, 400, 401, 404, 429, 500, 502, 503}


def test_latency_heavy_tailed_and_grows_with_output_tokens():
    d = sample()
    durations = sorted(obj["duration_ms"] for _, obj in d.valid)
    p50 = durations[len(durations) // 2]
    p99 = durations[int(len(durations) * 0.99)]
    assert 50 <= p50 <= 1500
    assert p99 > 5 * p50
    assert durations[-1] >= 5000
    ok = [obj for _, obj in d.valid if obj["status_code"] < 400 and "tokens_output" in obj]
    ok.sort(key=lambda o: o["tokens_output"])
    quarter = len(ok) // 4
    low = statistics.median(o["duration_ms"] for o in ok[:quarter])
    high = statistics.median(o["duration_ms"] for o in ok[-quarter:])
    assert high > 2 * low
    for obj in ok:
        if "queue_wait_ms" in obj:
            assert obj["duration_ms"] >= min(obj["queue_wait_ms"], 120_000)


def test_token_counts_plausible_per_model():
    d = sample()
    by_model: dict[str, list[int]] = defaultdict(list)
    for _, obj in d.valid:
        if obj.get("tokens_consumed"):
            by_model[obj["model_id"]].append(obj["tokens_output"])
            assert obj["tokens_input"] <= 200_000 and obj["tokens_output"] <= 16_384
    medians = {m: statistics.median(v) for m, v in by_model.items() if len(v) > 50}
    assert len(medians) >= 4
    assert all(20 <= m <= 5000 for m in medians.values())
    assert max(medians.values()) > 2 * min(medians.values())  # models differ


# ---------------------------------------------------------------------------
# progress / validation / CLI
# ---------------------------------------------------------------------------


def test_progress_bar_on_stderr(capsys):
    run(start=START, days=3, orgs=2, events_per_hour=5, progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\r") == 3 and "3/3 days" in err and err.endswith("\n")
    run(start=START, days=1, orgs=2, events_per_hour=5)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(days=0),
        dict(orgs=0),
        dict(models=0),
        dict(models=len(MODELS) + 1),
        dict(events_per_hour=0),
        dict(duplicate_rate=-0.1),
        dict(malformed_rate=1.5),
        dict(stream_name="a/b"),
        dict(stream_name=""),
    ],
)
def test_invalid_arguments(kwargs):
    base = dict(start=START, days=1)
    base.update(kwargs)
    with pytest.raises(ValueError):
        run(**base)


def test_start_must_be_a_date():
    with pytest.raises(TypeError):
        run(start=datetime(2026, 1, 1, tzinfo=UTC), days=1)


def test_cli_generate_writes_objects(tmp_path: Path, capsys):
    # the project's command line is the generator's only one
    rc = cli.main(
        [
            "generate",
            "--logs-url",
            str(tmp_path),
            "--start",
            "2026-02-01",
            "--days",
            "1",
            "--orgs",
            "3",
            "--events-per-hour",
            "20",
        ]
    )
    assert rc == 0
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.jsonl.gz"))
    assert files and all(KEY_RE.match(f) for f in files)
    assert all(f.startswith("2026/02/01/") for f in files)
    assert "valid events" in capsys.readouterr().out


# ---------------------------------------------------------------------------
# property-based invariants
# ---------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    days=st.integers(1, 2),
    orgs=st.integers(1, 6),
    models=st.integers(1, len(MODELS)),
    events_per_hour=st.integers(1, 40),
    seed=st.integers(0, 2**32),
    duplicate_rate=st.sampled_from([0.0, 0.01, 0.3, 1.0]),
    malformed_rate=st.sampled_from([0.0, 0.05, 0.5, 1.0]),
)
def test_invariants_hold_for_any_parameters(
    start, days, orgs, models, events_per_hour, seed, duplicate_rate, malformed_rate
):
    d = decode(
        *run(
            start=start,
            days=days,
            orgs=orgs,
            models=models,
            events_per_hour=events_per_hour,
            seed=seed,
            duplicate_rate=duplicate_rate,
            malformed_rate=malformed_rate,
        )
    )
    s = d.summary
    assert (len(d.valid), len(d.duplicates), len(d.malformed)) == (
        s.valid_events,
        s.duplicate_lines,
        s.malformed_lines,
    )
    assert len(d.lines) == s.lines_written and len(d.objects) == s.objects_written
    if duplicate_rate == 1.0:
        assert s.duplicate_lines == s.valid_events
    if malformed_rate == 0.0:
        assert s.malformed_lines == 0
    lo = datetime(start.year, start.month, start.day, tzinfo=UTC)
    hi = lo + timedelta(days=days)
    allowed_models = {m.model_id for m in MODELS[:models]}
    org_ids = set(organization_ids(orgs, seed))
    late = 0
    for line, obj in d.valid:
        t = event_time(obj)
        assert lo <= t < hi
        assert lo <= line.delivery_hour < hi
        assert line.delivery_hour >= t.replace(minute=0, second=0, microsecond=0)
        late += line.delivery_hour > t.replace(minute=0, second=0, microsecond=0)
        assert obj["customer_id"] in org_ids
        assert obj.get("model_id", next(iter(allowed_models))) in allowed_models
    assert late == s.late_events
    assert sum(t.request_count for t in s.totals_by_org.values()) == s.valid_events
    assert s.organizations == len(s.totals_by_org)
    if d.valid:
        times = [event_time(o) for _, o in d.valid]
        assert (s.first_event, s.last_event) == (min(times), max(times))


# ---------------------------------------------------------------------------
# catalog
# ---------------------------------------------------------------------------


def test_model_catalog():
    assert len(MODELS) >= 8
    names = [m.name for m in MODELS]
    ids = [m.model_id for m in MODELS]
    assert len(set(names)) == len(names) and len(set(ids)) == len(ids)
    for m in MODELS:
        assert isinstance(m, Model)
        assert m.model_id == str(uuid.uuid5(catalog.MODEL_NAMESPACE, m.name))
        assert uuid.UUID(m.model_id).version == 5
        for price in (m.price_per_request, m.price_per_1k_input_tokens, m.price_per_1k_output_tokens):
            assert isinstance(price, Decimal)
            assert Decimal(0) <= price < Decimal(1)
            assert price == price.quantize(Decimal("0.000001"))
        assert m.price_per_1k_output_tokens > m.price_per_1k_input_tokens
    assert catalog.MODELS_BY_ID[ids[0]] is MODELS[0]


def _csv_rows() -> list[dict[str, str]]:
    path = Path(catalog.__file__).resolve().parent.parent / "price_catalog.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == (
            "model_id",
            "effective_from",
            "price_per_request",
            "price_per_1k_input_tokens",
            "price_per_1k_output_tokens",
        )
        return list(reader)


def test_price_catalog_csv_matches_models():
    rows = _csv_rows()
    prices = lambda r: (  # noqa: E731
        Decimal(r["price_per_request"]),
        Decimal(r["price_per_1k_input_tokens"]),
        Decimal(r["price_per_1k_output_tokens"]),
    )
    for r in rows:
        for field in ("price_per_request", "price_per_1k_input_tokens", "price_per_1k_output_tokens"):
            assert re.fullmatch(r"\d+(\.\d{1,6})?", r[field]), r
    base = {r["model_id"]: prices(r) for r in rows if r["effective_from"] == "2025-01-01T00:00:00Z"}
    assert set(base) == {m.model_id for m in MODELS} | {"*"}
    for m in MODELS:
        assert base[m.model_id] == (m.price_per_request, m.price_per_1k_input_tokens, m.price_per_1k_output_tokens)
    changes = [r for r in rows if r["effective_from"] != "2025-01-01T00:00:00Z"]
    assert len(changes) == 1
    change = changes[0]
    assert change["effective_from"] == "2026-06-15T12:00:00Z"
    assert change["model_id"] in base and change["model_id"] != "*"
    assert prices(change) != base[change["model_id"]]
    assert len(rows) == len(MODELS) + 2


def test_price_catalog_csv_is_rendered_from_catalog():
    path = Path(catalog.__file__).resolve().parent.parent / "price_catalog.csv"
    assert path == catalog.PRICE_CATALOG_PATH
    assert path.read_text(encoding="utf-8") == catalog.render_price_catalog_csv()


def test_organization_ids():
    a = organization_ids(20, 7)
    assert a == organization_ids(20, 7)
    assert len(set(a)) == 20
    assert all(str(uuid.UUID(x)) == x for x in a)
    assert organization_ids(5, 7) == a[:5]
    assert set(a).isdisjoint(organization_ids(20, 8))
    assert organization_ids(0, 1) == []


# ---------------------------------------------------------------------------
# end users and error types
# ---------------------------------------------------------------------------


def test_end_users_belong_to_one_organization_and_are_zipf_like():
    d = clean_week()
    by_org: dict[str, Counter] = defaultdict(Counter)
    without = 0
    for _, obj in d.valid:
        if "user_id" in obj:
            assert re.fullmatch(r"usr_[0-9a-f]{12}", obj["user_id"])
            by_org[obj["customer_id"]][obj["user_id"]] += 1
        else:
            without += 1
    assert 0.01 < without / len(d.valid) < 0.06  # service-key requests
    owners = Counter(user for users in by_org.values() for user in users)
    assert max(owners.values()) == 1  # a user id never shows up in two organizations
    sizes = {org: t.request_count for org, t in d.summary.totals_by_org.items()}
    biggest, smallest = max(sizes, key=sizes.get), min(sizes, key=sizes.get)
    assert len(by_org[biggest]) > 3 * len(by_org[smallest])  # bigger organizations have more users
    top = by_org[biggest].most_common()
    assert top[0][1] > 5 * top[len(top) // 2][1]  # a few users make most requests


def test_not_every_user_is_active_every_day():
    d = clean_week()
    days: dict[tuple[str, str], set[date]] = defaultdict(set)
    for _, obj in d.valid:
        if "user_id" in obj:
            days[(obj["customer_id"], obj["user_id"])].add(event_time(obj).date())
    active_days = Counter(len(v) for v in days.values())
    assert active_days[7] > 0 and sum(n for k, n in active_days.items() if k <= 3) > 0
    daily = Counter(day for v in days.values() for day in v)
    assert max(daily.values()) < 0.9 * len(days)  # DAU well below the week's users


def test_errors_carry_an_error_type_and_successes_none():
    d = sample()
    kinds = Counter()
    for _, obj in d.valid:
        if obj["status_code"] < 400:
            assert "error_type" not in obj
        else:
            kinds[(obj["status_code"], obj["error_type"])] += 1
    assert {(429, "rate_limited"), (401, "auth_error"), (404, "not_found"), (400, "invalid_request"),
            (400, "context_length_exceeded"), (502, "upstream_error")} <= set(kinds)
    assert any(error == "timeout" and status >= 500 for status, error in kinds)


def test_users_are_stable_per_seed_and_differ_between_seeds():
    def users(seed: int) -> set[str]:
        d = decode(*run(start=START, days=1, orgs=5, events_per_hour=60, seed=seed))
        return {obj["user_id"] for _, obj in d.valid if "user_id" in obj}

    assert users(5) == users(5)
    assert not users(5) & users(6)


def test_until_ends_the_range_early_and_event_seed_draws_another_stream_of_the_same_organizations():
    """The demo's month to date: no event at or after ``until``, its hour the last delivery hour;
    ``event_seed`` changes the events, never the organizations."""
    until = datetime(2026, 11, 2, 10, 25, tzinfo=UTC)
    objects: dict[str, bytes] = {}
    summary = generate_usage_logs(objects.__setitem__, start=date(2026, 11, 1), days=2, orgs=4, models=3,
                                  events_per_hour=40, seed=7, until=until, event_seed=99)
    times = [orjson.loads(line)["timestamp"] for data in objects.values()
             for line in gzip.decompress(data).splitlines()]
    assert len(times) == summary.valid_events > 0
    assert max(times) < "2026-11-02T10:25:00.000Z" and max(times) >= "2026-11-02T10:00:00.000Z"
    full = generate_usage_logs(lambda key, data: None, start=date(2026, 11, 1), days=2, orgs=4, models=3,
                               events_per_hour=40, seed=7)
    assert set(summary.totals_by_org) <= set(full.totals_by_org)  # the same tenants
    assert summary.valid_events < full.valid_events
    with pytest.raises(ValueError, match="until must lie"):
        generate_usage_logs(lambda key, data: None, start=date(2026, 11, 1), days=1, until=until)
