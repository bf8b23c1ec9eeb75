"""The event's field table (contract.EVENT_FIELDS) against everything that states the event again:
the published JSON schema, the warehouse's analytics_events columns and the loader's staging table."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics_pipeline.ingestion import contract
from analytics_pipeline.ingestion.contract import EVENT_COLUMN_TYPES, EVENT_FIELDS, INTEGER, NUMBER, STRING
from analytics_pipeline.ingestion.loader import WarehouseEncodingError, create_staging_tables, event_key_bytes
from analytics_pipeline.warehouse.database import connect, drop_database, with_database

SCHEMA_FILE = Path(contract.__file__).with_name("event_contract.schema.json")
JSON_TYPES = {STRING: "string", INTEGER: "integer", NUMBER: "number"}
COLUMNS_OF = ("SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns "
              "WHERE table_name = %s AND table_schema = ANY (current_schemas(true)) ORDER BY ordinal_position")


def test_the_json_schema_states_each_field_as_the_table_does():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    properties = schema["properties"]
    assert list(properties) == [f.name for f in EVENT_FIELDS]
    assert schema["required"] == [f.name for f in EVENT_FIELDS if not f.optional]
    for field in EVENT_FIELDS:
        stated = properties[field.name]
        json_type = JSON_TYPES[field.kind]
        assert stated["type"] == ([json_type, "null"] if field.optional else json_type), field.name
        if field.bounds is None:
            assert not {"minimum", "maximum", "minLength", "maxLength"} & set(stated), field.name
        elif field.kind == STRING:
            assert (stated["minLength"], stated["maxLength"]) == field.bounds, field.name
        else:
            assert (stated["minimum"], stated.get("maximum")) == field.bounds, field.name


def test_the_warehouse_stores_each_field_in_the_declared_column_and_type(warehouse_url):
    with connect(warehouse_url) as conn:
        stored = {name: (pg_type, nullable) for name, pg_type, nullable in conn.execute(COLUMNS_OF,
                                                                                       ("analytics_events",))}
    assert stored.pop("object_id") == ("bigint", False)  # the ledger entry, added by the loader
    assert stored == {column: (pg_type, column in {f.column for f in EVENT_FIELDS if f.optional} | {"attributes"})
                      for column, pg_type in EVENT_COLUMN_TYPES.items()}


def test_the_staging_table_holds_the_event_columns_as_declared(warehouse_url):
    with connect(warehouse_url) as conn:
        create_staging_tables(conn)
        staged = {name: pg_type for name, pg_type, _ in conn.execute(COLUMNS_OF, ("incoming_lines",))}
    event_columns = {name: staged[name] for name in EVENT_COLUMN_TYPES}
    assert list(event_columns) == list(staged)[-len(EVENT_COLUMN_TYPES):]  # the row follows the line's columns
    assert event_columns == {**EVENT_COLUMN_TYPES, "attributes": "text"}  # JSON text until the insert


def test_the_fast_path_is_spelled_from_the_table():
    source = contract._clean_row_source(tuple(f for f in EVENT_FIELDS if f.optional))
    for field in EVENT_FIELDS:
        assert (f"get({field.name!r})" in source) == field.optional, field.name
        if field.optional and field.bounds is not None and field.kind != NUMBER:
            assert f"{field.bounds[0]} <= " in source and f"<= {field.bounds[1]}" in source, field.name


# Text the server stores: no NUL (the contract refuses it), no lone surrogate (not UTF-8).
STORED_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(STORED_TEXT, STORED_TEXT), min_size=1, max_size=30))
def test_the_staged_event_key_is_the_warehouse_event_key(warehouse_url, identities):
    # The loader stages each line's key and the claim trusts it; the conflicting-duplicate check
    # and tracing compute it in SQL: the two must be the same uuid, or a repeat would go unseen.
    organizations, request_ids = [list(column) for column in zip(*identities, strict=True)]
    with connect(warehouse_url, autocommit=True) as conn:
        keys = conn.execute("SELECT array_agg(analytics_event_key(o, r) ORDER BY n) "
                            "FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS i (o, r, n)",
                            (organizations, request_ids)).fetchone()[0]
    assert keys == [uuid.UUID(bytes=event_key_bytes(o, r)) for o, r in identities]


def test_a_warehouse_not_in_utf8_is_refused_before_anything_is_staged(pg_server_url):
    # The staged keys are MD5 of the UTF-8 bytes; in a LATIN1 or SQL_ASCII database the database's
    # own analytics_event_key would hash other bytes for the same text, and a repeat of an event
    # whose ids are not ASCII would get a second key: refused, with the reason.
    name = f"t_ascii_{uuid.uuid4().hex[:8]}"
    with connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    try:
        with connect(with_database(pg_server_url, name), autocommit=True) as conn:
            with pytest.raises(WarehouseEncodingError, match="SQL_ASCII, not UTF8"):
                create_staging_tables(conn)
            assert conn.execute("SELECT to_regclass('pg_temp.incoming_lines')").fetchone()[0] is None
    finally:
        drop_database(pg_server_url, name)
