"""Raw partitions past 400 days: dropped whole with their dedupe keys, only once archived and verified."""

import pytest

from analytics_pipeline.retention.policy import RetentionPolicy
from analytics_pipeline.retention.raw_archive import archive_key, archive_raw_event_days
from analytics_pipeline.retention.raw_partitions import drop_expired_raw_partitions
from analytics_pipeline_tests.retention.helpers import (
    TODAY,
    day_events,
    days_ago,
    insert_event_keys,
    insert_full_events,
    partition_days,
    warehouse_snapshot,
)

CUTOFFS = RetentionPolicy().cutoffs(TODAY)
GONE_1, GONE_2, KEPT = days_ago(420), days_ago(402), days_ago(400)  # 400 days + today's hours: not yet


@pytest.fixture
def events(conn):
    events = {day: day_events(day, n) for day, n in ((GONE_1, 40), (GONE_2, 25), (KEPT, 15))}
    for day_rows in events.values():
        insert_full_events(conn, day_rows)
        insert_event_keys(conn, day_rows)
    return events


def key_days(conn):
    return dict(conn.execute("SELECT event_time::date, count(*) FROM analytics_event_keys GROUP BY 1").fetchall())


def test_an_unarchived_old_day_is_never_dropped(conn, archive_store, events):
    before = warehouse_snapshot(conn)
    report = drop_expired_raw_partitions(conn, archive_store, CUTOFFS)
    assert report.figures["partitions_dropped"] == 0 and report.figures["partitions_kept"] == 2
    assert all("not archived" in p for p in report.problems)
    assert warehouse_snapshot(conn) == before


def test_archived_days_past_retention_are_dropped_with_their_keys(conn, archive_store, events):
    archive_raw_event_days(conn, archive_store, CUTOFFS)
    report = drop_expired_raw_partitions(conn, archive_store, CUTOFFS)

    assert not report.problems
    assert [(i["day"], i["action"], i["rows"], i["event_keys_deleted"]) for i in report.items] == [
        (GONE_1.isoformat(), "dropped", 40, 40), (GONE_2.isoformat(), "dropped", 25, 25)]
    assert report.figures["rows_dropped"] == 65 and report.figures["oldest_age_days"] == 420
    assert partition_days(conn) == [KEPT]
    assert key_days(conn) == {KEPT: 15}  # the kept day's dedupe keys stay
    dropped = dict(conn.execute("SELECT day, dropped_at IS NOT NULL FROM analytics_raw_archives").fetchall())
    assert dropped == {GONE_1: True, GONE_2: True, KEPT: False}
    assert archive_store.head(archive_key(GONE_1)) is not None  # the archive outlives the partition
    # Nothing left to do; the dropped days are not archived again.
    assert drop_expired_raw_partitions(conn, archive_store, CUTOFFS).figures["partitions_dropped"] == 0
    assert archive_raw_event_days(conn, archive_store, CUTOFFS).figures["days_archived"] == 0


def test_a_day_whose_archive_vanished_is_kept_then_archived_again(conn, archive_store, events):
    archive_raw_event_days(conn, archive_store, CUTOFFS)
    archive_store.delete(archive_key(GONE_1))

    report = drop_expired_raw_partitions(conn, archive_store, CUTOFFS)
    assert [i["day"] for i in report.items if i["action"] == "dropped"] == [GONE_2.isoformat()]
    assert "missing" in report.problems[0] and GONE_1 in partition_days(conn)

    rearchived = archive_raw_event_days(conn, archive_store, CUTOFFS)
    assert [(i["day"], i["reason"]) for i in rearchived.items] == [(GONE_1.isoformat(), "archive missing from storage")]
    assert drop_expired_raw_partitions(conn, archive_store, CUTOFFS).figures["partitions_dropped"] == 1
    assert partition_days(conn) == [KEPT]


def test_a_day_changed_since_its_archive_is_kept_until_archived_again(conn, archive_store, events):
    archive_raw_event_days(conn, archive_store, CUTOFFS)
    # A late row the ingest ledger does not show (written straight into the table).
    insert_full_events(conn, day_events(GONE_2, 1, seed=7, prefix="late"))

    report = drop_expired_raw_partitions(conn, archive_store, CUTOFFS)
    assert report.problems == [f"{GONE_2}: kept, holds 26 rows, the archive 25: re-archived on the next run"]
    assert GONE_2 in partition_days(conn)

    # Days due to be dropped are always counted again, so the next archive picks the change up.
    rearchived = archive_raw_event_days(conn, archive_store, CUTOFFS)
    assert [(i["day"], i["reason"], i["rows"]) for i in rearchived.items] == [
        (GONE_2.isoformat(), "changed since archived", 26)]
    assert drop_expired_raw_partitions(conn, archive_store, CUTOFFS).figures["rows_dropped"] == 26


def test_a_dry_run_reports_the_drops_and_changes_nothing(conn, archive_store, events):
    archive_raw_event_days(conn, archive_store, CUTOFFS)
    before = warehouse_snapshot(conn)
    report = drop_expired_raw_partitions(conn, archive_store, CUTOFFS, dry_run=True)
    assert [(i["day"], i["action"], i["rows"], i["event_keys_deleted"]) for i in report.items] == [
        (GONE_1.isoformat(), "would drop", 40, 40), (GONE_2.isoformat(), "would drop", 25, 25)]
    assert warehouse_snapshot(conn) == before
