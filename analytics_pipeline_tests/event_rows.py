"""Raw events written straight into the warehouse, for tests of what is built from them."""

EVENT_COLUMNS = ("event_time", "organization_id", "request_id", "model_id", "status_code", "duration_ms",
                 "tokens_consumed", "tokens_input", "tokens_output")


def insert_events(conn, rows, columns: tuple[str, ...] = EVENT_COLUMNS) -> None:
    """COPY rows of ``columns`` values (``event_time`` first) into analytics_events (creating
    their day partitions) and commit."""
    for day in {row[0].date() for row in rows}:
        conn.execute("SELECT analytics_ensure_event_partition(%s)", (day,))
    copy_sql = f"COPY analytics_events ({', '.join(columns)}, content_hash, object_id) FROM STDIN"
    with conn.cursor().copy(copy_sql) as copy:
        for row in rows:
            copy.write_row((*row, "h", 1))
    conn.commit()
