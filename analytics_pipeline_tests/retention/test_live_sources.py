"""Events that reach an archived day by a live path (ingest API, Firehose, Kinesis) are noticed by
the archive's recount like late S3 objects: the day is archived again with them."""

from datetime import timedelta

import orjson
import pytest

from analytics_pipeline.ingestion.contract import EventValidator
from analytics_pipeline.ingestion.live import LIVE_SOURCES, load_batch
from analytics_pipeline.retention.policy import RetentionPolicy
from analytics_pipeline.retention.raw_archive import archive_raw_event_days
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.retention.helpers import TODAY, day_events, days_ago, insert_full_events

CUTOFFS = RetentionPolicy().cutoffs(TODAY)
OLD, MID = days_ago(20), days_ago(8)


def live_lines(day, count: int, prefix: str):
    """``count`` contract events of ``day`` as the live paths hand them to the ingest core."""
    at = TODAY.replace(year=day.year, month=day.month, day=day.day, hour=10, minute=0)
    return [(n, orjson.dumps({"timestamp": (at + timedelta(minutes=n)).isoformat(), "customer_id": "org-live",
                              "request_id": f"{prefix}-{n}", "status_code": 200}), None, None)
            for n in range(1, count + 1)]


@pytest.mark.parametrize("source", LIVE_SOURCES)
def test_a_live_batch_onto_an_archived_day_re_archives_the_day(conn, archive_store, warehouse_url, source):
    insert_full_events(conn, day_events(OLD, 40) + day_events(MID, 12))
    first = archive_raw_event_days(conn, archive_store, CUTOFFS)
    assert first.figures["days_archived"] == 2

    # Three events of the archived day OLD arrive by the live path, after the archive's snapshot.
    with connect(warehouse_url) as batch_conn:
        outcome = load_batch(batch_conn, conn, EventValidator(now=TODAY), source=source, batch_key=f"{source}/b1",
                             lines=live_lines(OLD, 3, source), size=1, received_at=TODAY)
    assert outcome.accepted == 3

    report = archive_raw_event_days(conn, archive_store, CUTOFFS)
    assert [(i["day"], i["action"], i["reason"], i["previous_rows"], i["rows"]) for i in report.items] == [
        (OLD.isoformat(), "archived", "changed since archived", 40, 43)]
    assert report.figures["days_unchanged"] == 1
    assert conn.execute("SELECT row_count FROM analytics_raw_archives WHERE day = %s", (OLD,)).fetchone()[0] == 43
