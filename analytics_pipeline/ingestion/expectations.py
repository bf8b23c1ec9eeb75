"""A Great Expectations suite over the raw events delivered in a window of hours.

Pure domain code (no Dagster). :func:`raw_event_expectations` lists the rules of the event
contract (``contract.py``, ``event_contract.schema.json``) that can be stated on the stored
rows; :func:`validate_raw_events` runs them with Great Expectations 1.x against PostgreSQL,
every metric computed in SQL (nothing is pulled into pandas), and returns a small summary.

``great_expectations`` is imported only inside :func:`validate_raw_events`: importing it takes
seconds, and the Dagster definitions must load without it.

The event-time window of a delivery hour ``[H, H + 1h)``: the validator accepts
``[now - retention_days, now + future_tolerance]`` at ingestion, and an object is ingested
after it is delivered (``now >= H``), so every stored event of the hour satisfies
``H - retention_days <= event_time``. Upward, an event cannot be logged after its object was
delivered (``H + 1h``) except by a client clock running ahead, by at most ``future_tolerance``:
``event_time <= H + 1h + future_tolerance``. That bound is stricter than the validator's own
when an hour is ingested late (a backfill accepts ``now + 1 day``), which is the point: it is
anchored to the delivery, not to when we happened to load it. Both bounds are inclusive, as in
the contract, and are checked per event against its own object's delivery hour.
"""

from __future__ import annotations

import logging
import os
import re
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from psycopg import sql

from analytics_pipeline.ingestion.contract import MAX_REQUEST_ID_CHARS, STRING_LENGTHS
from analytics_pipeline.ingestion.loader import USAGE_LOGS_SOURCE
from analytics_pipeline.warehouse.database import SESSION_OPTIONS, connect, sqlalchemy_url
from analytics_pipeline.warehouse.sql import load_sql

DEFAULT_FUTURE_TOLERANCE = timedelta(days=1)  # EventValidator's default
MAX_FINITE_DOUBLE = 1.7976931348623157e308  # PostgreSQL sorts NaN and Infinity above it
EXAMPLES_PER_EXPECTATION = 3
# contract.CUSTOMER_ID_PATTERN, [A-Za-z0-9][A-Za-z0-9_.:-]{0,127}, as characters and a length.
ORGANIZATION_ID_CHARACTERS = "[A-Za-z0-9][A-Za-z0-9_.:-]*"
MAX_ORGANIZATION_ID_CHARS = 128
_SOURCE_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_LEADING_COMMENTS = re.compile(r"\A(?:\s*--[^\n]*\n)+")


@dataclass(frozen=True)
class RawEventExpectation:
    """One rule: a name for the UI, what it means, and the GX expectation that states it."""

    name: str
    rule: str
    gx_type: str  # class name in great_expectations.expectations
    kwargs: Mapping[str, Any]


def raw_event_expectations(retention_days: int = 400,
                           future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE) -> tuple[RawEventExpectation, ...]:
    """The suite, as plain data (so it can be listed without importing GX). Column map
    expectations ignore NULLs, which the contract allows for every optional field."""
    earliest = -timedelta(days=retention_days).total_seconds()
    latest = (timedelta(hours=1) + future_tolerance).total_seconds()

    def rule(name: str, text: str, gx_type: str, **kwargs: Any) -> RawEventExpectation:
        return RawEventExpectation(name, text, gx_type, kwargs)

    def non_negative(column: str, finite: bool) -> RawEventExpectation:
        if finite:  # double precision: NaN and Infinity compare >= 0 in PostgreSQL
            return rule(f"{column}_non_negative", f"{column} >= 0 and finite", "ExpectColumnValuesToBeBetween",
                        column=column, min_value=0, max_value=MAX_FINITE_DOUBLE)
        return rule(f"{column}_non_negative", f"{column} >= 0", "ExpectColumnValuesToBeBetween",
                    column=column, min_value=0)

    return (
        rule("organization_id_not_null", "organization_id is present", "ExpectColumnValuesToNotBeNull",
             column="organization_id"),
        # The contract's pattern is [A-Za-z0-9][A-Za-z0-9_.:-]{0,127}. PostgreSQL's regex engine
        # expands bounded repetition into a large automaton (~30 us a row); a starred pattern plus
        # a length rule states the same ~30x faster.
        rule("organization_id_well_formed", "organization_id starts with [A-Za-z0-9], then only [A-Za-z0-9_.:-]",
             "ExpectColumnValuesToMatchRegex", column="organization_id", regex=f"^{ORGANIZATION_ID_CHARACTERS}$"),
        rule("organization_id_length", f"organization_id has 1..{MAX_ORGANIZATION_ID_CHARS} characters",
             "ExpectColumnValueLengthsToBeBetween", column="organization_id", min_value=1,
             max_value=MAX_ORGANIZATION_ID_CHARS),
        rule("request_id_not_null", "request_id is present", "ExpectColumnValuesToNotBeNull", column="request_id"),
        rule("request_id_length", f"request_id has 1..{MAX_REQUEST_ID_CHARS} characters",
             "ExpectColumnValueLengthsToBeBetween", column="request_id", min_value=1, max_value=MAX_REQUEST_ID_CHARS),
        rule("request_id_not_blank", "request_id is not whitespace only", "ExpectColumnValuesToMatchRegex",
             column="request_id", regex=r"\S"),
        rule("request_id_unique_per_organization", "(organization_id, request_id) is unique",
             "ExpectCompoundColumnsToBeUnique", column_list=["organization_id", "request_id"]),
        rule("event_time_not_null", "event_time is present", "ExpectColumnValuesToNotBeNull", column="event_time"),
        rule("event_time_within_contract_window",
             f"delivery hour - {retention_days} d <= event_time <= delivery hour + 1 h + {_hours(future_tolerance)}",
             "ExpectColumnValuesToBeBetween", column="seconds_after_delivery_hour",
             min_value=earliest, max_value=latest),
        rule("event_time_whole_milliseconds", "event_time is truncated to milliseconds",
             "ExpectColumnValuesToBeInSet", column="event_time_whole_milliseconds", value_set=[True]),
        rule("status_code_in_http_range", "status_code in 100..599", "ExpectColumnValuesToBeBetween",
             column="status_code", min_value=100, max_value=599),
        non_negative("duration_ms", finite=True),
        non_negative("queue_wait_ms", finite=True),
        non_negative("tokens_consumed", finite=False),
        non_negative("tokens_input", finite=False),
        non_negative("tokens_output", finite=False),
        *(rule(f"{column}_length", f"{column}, when present, has {lo}..{hi} characters",
               "ExpectColumnValueLengthsToBeBetween", column=column, min_value=lo, max_value=hi)
          for column, (lo, hi) in STRING_LENGTHS.items()),
        rule("content_hash_not_null", "content_hash is present", "ExpectColumnValuesToNotBeNull",
             column="content_hash"),
        rule("content_hash_is_hex", "content_hash is lowercase hex", "ExpectColumnValuesToMatchRegex",
             column="content_hash", regex="^[0-9a-f]+$"),
        rule("content_hash_is_md5_length", "content_hash has 32 characters (an MD5)", "ExpectColumnValueLengthsToEqual",
             column="content_hash", value=32),
        rule("attributes_is_json_object", "attributes, when present, is a JSON object of the unknown fields",
             "ExpectColumnValuesToBeInSet", column="attributes_json_type", value_set=["object"]),
    )


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} h"


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation on the window's events."""

    name: str
    rule: str
    success: bool
    unexpected_count: int | None = None
    observed_value: Any = None
    examples: tuple = ()  # a few unexpected values
    error: str | None = None  # the expectation could not be evaluated


@dataclass(frozen=True)
class RawEventsValidation:
    """Every expectation's outcome on the events delivered in ``[window_start, window_end)``."""

    window_start: datetime
    window_end: datetime
    rows_checked: int
    outcomes: tuple[ExpectationOutcome, ...]  # empty when the window held no events
    objects: int = 0  # objects delivered in the window (ledger)
    events_in_ledger: int = 0  # events the ledger says they hold
    seconds: float = 0.0  # the engine's time (GX's without its import)
    failed_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "failed_names", tuple(o.name for o in self.outcomes if not o.success))

    @property
    def success(self) -> bool:
        return not self.failed_names

    @property
    def evaluated(self) -> int:
        return len(self.outcomes)

    @property
    def failed(self) -> int:
        return len(self.failed_names)

    @property
    def unexpected_total(self) -> int:
        return sum(o.unexpected_count or 0 for o in self.outcomes)

    def markdown(self) -> str:
        """One row per expectation: rule, result, unexpected rows, observed value or examples."""
        lines = ["| expectation | rule | result | unexpected | observed / examples |", "|---|---|---|---|---|"]
        for o in self.outcomes:
            result = "pass" if o.success else ("error" if o.error else "**FAIL**")
            shown = o.error or (o.observed_value if o.observed_value is not None else
                                ", ".join(map(str, o.examples)))
            cells = [o.name, o.rule, result, "" if o.unexpected_count is None else f"{o.unexpected_count:,}",
                     str(shown)[:200]]
            lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
        return "\n".join(lines)


def window_query(start: datetime, end: datetime, events_from: datetime, events_to: datetime,
                 source: str = USAGE_LOGS_SOURCE) -> str:
    """The SQL text of the GX query asset: the events of the objects delivered in ``[start, end)``,
    whose event times lie in ``[events_from, events_to]`` (the objects' range in the ledger).

    GX query assets cannot bind parameters, so the values are rendered as SQL literals by
    psycopg, and only from values whose type is checked here: timezone-aware datetimes and a
    lowercase identifier-like source name. Nothing else reaches the text.
    """
    values = {"range_start": start, "range_end": end, "events_from": events_from, "events_to": events_to}
    for name, value in values.items():
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise TypeError(f"{name} must be a timezone-aware datetime, got {value!r}")
    if not isinstance(source, str) or not _SOURCE_NAME.fullmatch(source):
        raise ValueError(f"source must be a lowercase identifier, got {source!r}")
    template = _LEADING_COMMENTS.sub("", load_sql("ingestion/events_delivered_in_window"))  # must start with SELECT
    literals = {name: sql.Literal(value) for name, value in values.items()}
    return sql.SQL(template).format(source=sql.Literal(source), **literals).as_string(None)


def _import_great_expectations():
    """Import GX with its chatter silenced, affecting nothing else: warnings raised from GX's
    own modules are ignored (e.g. its advice to prefer a PostgresDatasource, which rejects our
    Unix-socket URLs), and only the ``great_expectations`` logger is raised to ERROR."""
    warnings.filterwarnings("ignore", module=r"great_expectations(\.|$)")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx, gxe


def _outcome(expectation: RawEventExpectation, result) -> ExpectationOutcome:
    details = result.result or {}
    error = None
    if result.exception_info and result.exception_info.get("raised_exception"):
        error = str(result.exception_info.get("exception_message") or "the expectation raised")[:300]
    examples = tuple(details.get("partial_unexpected_list") or ())[:EXAMPLES_PER_EXPECTATION]
    return ExpectationOutcome(
        name=expectation.name, rule=expectation.rule, success=bool(result.success),
        unexpected_count=details.get("unexpected_count"), observed_value=details.get("observed_value"),
        examples=tuple(str(e) for e in examples), error=error)


def validate_raw_events(database_url: str, start: datetime, end: datetime, *, retention_days: int = 400,
                        future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
                        source: str = USAGE_LOGS_SOURCE) -> RawEventsValidation:
    """Run the suite on the events of the objects delivered in ``[start, end)``.

    An ephemeral GX context (nothing written to disk, analytics and progress bars off) with a
    SQL data source on ``database_url`` (a libpq URL, Unix-socket URLs included) and a query
    asset over the window; every metric is computed by PostgreSQL. An expectation that cannot be
    evaluated is reported failed, with its error. A window whose objects hold no events is not
    handed to GX at all: it passes with ``rows_checked == 0`` and no outcomes.
    """
    expectations = raw_event_expectations(retention_days, future_tolerance)
    with connect(database_url) as conn:
        events_from, events_to, objects, in_ledger = conn.execute(
            load_sql("ingestion/event_time_range_of_delivery_window"),
            {"source": source, "range_start": start, "range_end": end}).fetchone()
    if events_from is None:
        return RawEventsValidation(start, end, rows_checked=0, outcomes=(), objects=objects,
                                   events_in_ledger=in_ledger)
    query = window_query(start, end, events_from, events_to, source)

    gx, gxe = _import_great_expectations()
    from sqlalchemy.pool import StaticPool

    started = time.perf_counter()  # the import (seconds, once per process) is not counted
    # GX's SQL engine sets SF_PARTNER (a Snowflake partner tag) in os.environ; put it back.
    saved_partner = os.environ.get("SF_PARTNER")
    context = gx.get_context(mode="ephemeral")
    context.enable_analytics(enable=False)
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    datasource = context.data_sources.add_sql(
        name="warehouse", connection_string=sqlalchemy_url(database_url),
        # The window's rows are computed once into a temporary table that every metric then
        # scans (about twice as fast as re-running the join per metric at 100,000 rows). A
        # temporary table lives in one session: StaticPool gives GX exactly one connection.
        create_temp_table=True,
        kwargs={"poolclass": StaticPool,
                # The warehouse session: tables in schema analytics, UTC (as warehouse.database.connect).
                "connect_args": {"options": SESSION_OPTIONS}})
    try:
        batch = datasource.add_query_asset(name="raw_usage_events", query=query).add_batch_definition_whole_table(
            "delivery_window")
        suite = context.suites.add(gx.ExpectationSuite(name="raw_usage_events_contract", expectations=[
            getattr(gxe, e.gx_type)(**e.kwargs, meta={"name": e.name}, catch_exceptions=True)
            for e in expectations]))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name="raw_usage_events_window", data=batch, suite=suite))
        run = definition.run(result_format={"result_format": "BASIC",
                                            "partial_unexpected_count": EXAMPLES_PER_EXPECTATION})
    finally:  # GX keeps two SQLAlchemy engines (data source, execution engine): close both pools
        datasource.get_execution_engine().close()
        datasource.get_engine().dispose()
        if saved_partner is None:
            os.environ.pop("SF_PARTNER", None)
        else:
            os.environ["SF_PARTNER"] = saved_partner

    by_name = {(r.expectation_config.meta or {}).get("name"): r for r in run.results}
    outcomes = tuple(
        _outcome(e, by_name[e.name]) if e.name in by_name else
        ExpectationOutcome(e.name, e.rule, success=False, error="no result returned by Great Expectations")
        for e in expectations)
    rows = max(((r.result or {}).get("element_count") or 0 for r in run.results), default=0)
    return RawEventsValidation(start, end, rows_checked=rows, outcomes=outcomes, objects=objects,
                               events_in_ledger=in_ledger, seconds=time.perf_counter() - started)


# Conditions under which a value surely matches a regex, tested first because PostgreSQL's regex
# engine costs ~0.3 us a row even where the answer is plain: a first character that is printable,
# non-space ASCII is a non-space character, so the value matches \S. A shortcut, never a different
# answer: a row the shortcut does not clear goes through the regex.
_SURE_REGEX_MATCHES = {r"\S": sql.SQL("ascii({column}) BETWEEN 33 AND 126")}


def _unexpected_sql(expectation: RawEventExpectation) -> sql.Composable:
    """The rows an expectation does not expect, as a SQL condition on the window's rows (NULLs
    are not unexpected for column-map rules, as in GX); one per GX type the suite uses."""
    args = expectation.kwargs
    if expectation.gx_type == "ExpectCompoundColumnsToBeUnique":
        raise ValueError("compound uniqueness is counted by its own grouping, not a row condition")
    column = sql.Identifier(args["column"])
    if expectation.gx_type == "ExpectColumnValuesToNotBeNull":
        return sql.SQL("{} IS NULL").format(column)
    if expectation.gx_type == "ExpectColumnValuesToMatchRegex":
        mismatch = sql.SQL("{c} !~ {regex}").format(c=column, regex=sql.Literal(args["regex"]))
        sure = _SURE_REGEX_MATCHES.get(args["regex"])
        return mismatch if sure is None else sql.SQL("NOT ({}) AND {}").format(sure.format(column=column), mismatch)
    if expectation.gx_type in ("ExpectColumnValuesToBeBetween", "ExpectColumnValueLengthsToBeBetween"):
        lengths = expectation.gx_type == "ExpectColumnValueLengthsToBeBetween"
        value = sql.SQL("length({})").format(column) if lengths else column
        low, high = args.get("min_value"), args.get("max_value")
        outside = sql.SQL("NOT ({})").format(_within(value, low, high))
        if not lengths:
            return outside
        # length() counts characters byte by byte; octet_length() reads the header. A character is
        # 1 to 4 bytes in every server encoding, so octet_length / 4 <= length <= octet_length: a
        # value whose byte count proves it within the bounds needs no count of its characters
        # (length >= ceil(octet_length / 4) >= low when octet_length >= 4 low - 3).
        octets = sql.SQL("octet_length({})").format(column)
        surely_within = _within(octets, None if low is None else 4 * low - 3, high)
        return sql.SQL("NOT ({}) AND {}").format(surely_within, outside)
    if expectation.gx_type == "ExpectColumnValueLengthsToEqual":
        return sql.SQL("length({}) <> {}").format(column, sql.Literal(args["value"]))
    if expectation.gx_type == "ExpectColumnValuesToBeInSet":
        return sql.SQL("{} <> ALL({})").format(column, sql.Literal(list(args["value_set"])))
    raise ValueError(f"no SQL form for {expectation.gx_type}")


def _within(value: sql.Composable, low: float | None, high: float | None) -> sql.Composed:
    """``low <= value <= high`` in SQL, each bound only when given."""
    bounds = []
    if low is not None:
        bounds.append(sql.SQL("{} >= {}").format(value, sql.Literal(low)))
    if high is not None:
        bounds.append(sql.SQL("{} <= {}").format(value, sql.Literal(high)))
    return sql.SQL(" AND ").join(bounds)


def row_rule_counts(expectations: tuple[RawEventExpectation, ...]) -> list[sql.Composed]:
    """For each expectation stated on single rows, the count of its unexpected rows as a SQL
    aggregate over the window's rows (compound uniqueness is counted by its own grouping)."""
    counts = []
    for expectation in expectations:
        if expectation.gx_type == "ExpectCompoundColumnsToBeUnique":
            continue
        column = sql.Identifier(expectation.kwargs["column"])
        null_is_fine = sql.SQL("") if expectation.gx_type == "ExpectColumnValuesToNotBeNull" else \
            sql.SQL("{} IS NOT NULL AND ").format(column)
        counts.append(sql.SQL("count(*) FILTER (WHERE {}{})").format(null_is_fine, _unexpected_sql(expectation)))
    return counts


def unique_column_lists(expectations: tuple[RawEventExpectation, ...]) -> list[list[str]]:
    """The column lists of the suite's compound-uniqueness expectations, in suite order."""
    return [e.kwargs["column_list"] for e in expectations if e.gx_type == "ExpectCompoundColumnsToBeUnique"]

