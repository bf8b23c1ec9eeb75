"""Raw event days archived as Parquet on (moto's) S3: the same rows, verified, recorded once."""

import hashlib
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics_pipeline.retention import raw_archive
from analytics_pipeline.retention.policy import RetentionPolicy
from analytics_pipeline.retention.raw_archive import (
    ARCHIVE_SCHEMA,
    ArchiveVerificationError,
    archive_key,
    archive_raw_event_days,
    verify_archive,
)
from analytics_pipeline.storage.object_store import LocalDirectoryStore
from analytics_pipeline.warehouse.sql import load_sql
from analytics_pipeline_tests.retention.helpers import (
    TODAY,
    database_rows,
    day_events,
    days_ago,
    insert_full_events,
    record_ingested_object,
)

CUTOFFS = RetentionPolicy().cutoffs(TODAY)
OLD, MID, RECENT = days_ago(20), days_ago(8), days_ago(6)  # archived, archived, not yet (6 days + today)


@pytest.fixture
def events(conn):
    insert_full_events(conn, day_events(OLD, 250) + day_events(MID, 30) + day_events(RECENT, 10))


def stored_parquet(store, day):
    data = store.read(archive_key(day))
    return data, pq.ParquetFile(io.BytesIO(data))


def ledger(conn):
    return {row[0]: row[1:] for row in conn.execute(
        "SELECT day, row_count, sha256, bytes, object_key, location, verified_at FROM analytics_raw_archives")}


def test_days_past_seven_days_read_back_to_the_same_rows(conn, archive_store, events, monkeypatch):
    # Small batches, so a day crosses several cursor fetches and Parquet row groups.
    monkeypatch.setattr(raw_archive, "FETCH_ROWS", 7)
    monkeypatch.setattr(raw_archive, "ROW_GROUP_ROWS", 60)
    report = archive_raw_event_days(conn, archive_store, CUTOFFS)

    assert not report.problems
    assert report.figures["days_archived"] == 2 and report.figures["rows_archived"] == 280
    assert report.figures["oldest_day_archived"] == OLD.isoformat()
    assert [o.key for o in archive_store.list("raw_events/")] == [archive_key(OLD), archive_key(MID)]
    recorded = ledger(conn)
    assert set(recorded) == {OLD, MID}  # RECENT is 6 days old: not yet
    for day, count in ((OLD, 250), (MID, 30)):
        data, parquet = stored_parquet(archive_store, day)
        row_count, sha256, size, key, location, verified_at = recorded[day]
        assert (row_count, size, key, location) == (count, len(data), archive_key(day), archive_store.url)
        assert sha256 == hashlib.sha256(data).hexdigest() and verified_at is not None
        assert parquet.schema_arrow == ARCHIVE_SCHEMA
        assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"
        table = parquet.read()
        archived = [tuple(r.values()) for r in table.to_pylist()]
        assert archived == database_rows(conn, day)  # every column, NULLs, unicode and jsonb text included
    assert stored_parquet(archive_store, OLD)[1].num_row_groups == 5  # 250 rows in groups of 60


def test_unchanged_days_are_skipped_and_late_events_re_archive_the_day(conn, archive_store, events):
    archive_raw_event_days(conn, archive_store, CUTOFFS)
    etags = {o.key: o.etag for o in archive_store.list("raw_events/")}

    again = archive_raw_event_days(conn, archive_store, CUTOFFS)
    assert again.figures["days_archived"] == 0 and again.figures["days_unchanged"] == 2
    assert {o.key: o.etag for o in archive_store.list("raw_events/")} == etags

    late = day_events(OLD, 2, seed=99, prefix="late")
    insert_full_events(conn, late)
    record_ingested_object(conn, "2026/late/object.jsonl", late)  # the ingest ledger shows the late object
    report = archive_raw_event_days(conn, archive_store, CUTOFFS)
    assert [(i["day"], i["action"], i["reason"], i["previous_rows"], i["rows"]) for i in report.items] == [
        (OLD.isoformat(), "archived", "changed since archived", 250, 252)]
    assert report.figures["days_rearchived"] == 1 and report.figures["days_unchanged"] == 1
    assert ledger(conn)[OLD][0] == 252
    assert [tuple(r.values()) for r in stored_parquet(archive_store, OLD)[1].read().to_pylist()] == \
        database_rows(conn, OLD)
    assert archive_store.head(archive_key(MID)).etag == etags[archive_key(MID)]


def test_a_dry_run_reports_the_days_and_writes_nothing(conn, archive_store, events):
    report = archive_raw_event_days(conn, archive_store, CUTOFFS, dry_run=True)
    assert [(i["day"], i["action"], i["rows"]) for i in report.items] == [
        (OLD.isoformat(), "would archive", 250), (MID.isoformat(), "would archive", 30)]
    assert report.figures["rows_archived"] == 280
    assert list(archive_store.list()) == []
    assert ledger(conn) == {}


class TruncatingStore(LocalDirectoryStore):
    """A store that loses the last bytes of what it is given (a faulty upload)."""

    def write_file(self, key, path, content_type="application/octet-stream"):
        return self.write(key, path.read_bytes()[:-10], content_type)


def test_an_archive_that_does_not_read_back_is_never_recorded(conn, events, tmp_path):
    report = archive_raw_event_days(conn, TruncatingStore(tmp_path / "archive"), CUTOFFS)
    assert report.figures["days_archived"] == 0 and report.figures["days_failed"] == 2
    assert "read back" in report.problems[0] and "sha256" in report.problems[0]
    assert ledger(conn) == {}  # so neither day can ever be dropped


def test_verification_counts_the_rows_of_the_stored_file(conn, archive_store, events, tmp_path):
    archive_raw_event_days(conn, archive_store, CUTOFFS)
    row_count, sha256, size, key, *_ = ledger(conn)[MID]
    verify_archive(archive_store, key, sha256=sha256, size=size, rows=30, workdir=tmp_path)
    with pytest.raises(ArchiveVerificationError, match="read back 30 rows, wrote 31"):
        verify_archive(archive_store, key, sha256=sha256, size=size, rows=31, workdir=tmp_path)
    with pytest.raises(ArchiveVerificationError, match="sha256"):
        verify_archive(archive_store, key, sha256="0" * 64, size=size, rows=30, workdir=tmp_path)


def test_verification_refuses_a_file_without_every_column(conn, archive_store, tmp_path):
    # What a version before user_id / error_type wrote: the right rows, not the right columns.
    older = pa.schema([field for field in ARCHIVE_SCHEMA if field.name not in ("user_id", "error_type")])
    path = tmp_path / "older.parquet"
    pq.write_table(pa.Table.from_pylist([], schema=older), path)
    archive_store.write_file("raw_events/older.parquet", path)
    sha256, size = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size
    with pytest.raises(ArchiveVerificationError, match="expected .*'user_id', 'error_type'"):
        verify_archive(archive_store, "raw_events/older.parquet", sha256=sha256, size=size, rows=0,
                       workdir=tmp_path)


def test_the_archive_schema_lists_every_column_of_the_events_table(conn):
    columns = [row[0] for row in conn.execute(load_sql("retention/event_table_columns"))]
    assert columns == ARCHIVE_SCHEMA.names
