"""The run-file loader against a real PostgreSQL: exactly once, dedupe on run_id, quarantine."""

from datetime import UTC, date, datetime

import pytest

from analytics_pipeline.build_metrics.contract import QUARANTINE_REASONS, RunFileValidator
from analytics_pipeline.build_metrics.loader import (
    BUILD_METRICS_SOURCE,
    RunFileLoader,
    RunFileTotals,
    file_date_of,
    load_run_files,
    run_file_totals,
    run_files_between,
)
from analytics_pipeline.storage.object_store import LocalDirectoryStore, StoredObject
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.build_metrics.payloads import NOW, run_file
from analytics_pipeline_tests.build_metrics.test_contract import BAD_FILES

DAY = "metrics/2025/11/08/"


@pytest.fixture
def store(tmp_path):
    return LocalDirectoryStore(tmp_path / "build-metrics")


@pytest.fixture
def conn(warehouse_url):
    with connect(warehouse_url) as conn:
        yield conn


@pytest.fixture
def loader(conn):
    return RunFileLoader(conn, RunFileValidator(now=NOW), run_id="test-run")


def ledger(conn):
    return conn.execute(
        "SELECT object_key, source, lines_read, accepted, duplicates, quarantined FROM analytics_ingested_objects "
        "ORDER BY object_id").fetchall()


def quarantine(conn):
    return conn.execute("SELECT object_key, reason, detail, line_number, raw_sha256 IS NOT NULL "
                        "FROM analytics_quarantine ORDER BY quarantine_id").fetchall()


def test_a_run_file_is_loaded_once_with_every_column(loader, store, conn):
    obj = store.write(DAY + "ci-2025-11-08-001.json", run_file(runner="ubuntu-22.04"))
    result = loader.ingest(store, obj)
    assert (result.status, result.outcome, result.file_date) == ("loaded", "accepted", date(2025, 11, 8))
    row = conn.execute(
        "SELECT run_id, service, command, status, started_at, finished_at, duration_seconds, commit_sha, actor, "
        "actor_hash, environment, collector_version, attributes, file_date FROM analytics_ci_runs").fetchone()
    assert row == ("ci-2025-11-08-001", "user-org-service", "make check", "success",
                   datetime(2025, 11, 8, 15, 4, 5, tzinfo=UTC), datetime(2025, 11, 8, 15, 6, 7, tzinfo=UTC), 122.3,
                   "abcdef1234567890", "dev@example.com", result.run.actor_hash, "github-actions", "1.0.0",
                   {"runner": "ubuntu-22.04"}, date(2025, 11, 8))
    # The redacted view carries the hash, never the email.
    columns = [c.name for c in conn.execute("SELECT * FROM analytics_ci_runs_redacted").description]
    assert "actor" not in columns and "actor_hash" in columns

    assert loader.ingest(store, obj).status == "skipped"
    assert ledger(conn) == [(obj.key, BUILD_METRICS_SOURCE, 1, 1, 0, 0)]
    assert conn.execute("SELECT count(*) FROM analytics_ci_runs").fetchone()[0] == 1


def test_a_repeated_run_id_is_a_duplicate_or_a_conflicting_duplicate(loader, store, conn):
    first = store.write(DAY + "ci-2025-11-08-001.json", run_file())
    same = store.write("metrics/2025/11/09/ci-2025-11-08-001.json", run_file(actor="dev@example.com"))
    other = store.write(DAY + "ci-2025-11-08-001-retry.json", run_file(status="failure"))
    outcomes = [loader.ingest(store, obj).outcome for obj in (first, same, other)]
    assert outcomes == ["accepted", "duplicate", "quarantined"]
    assert run_file_totals(conn, date(2025, 11, 8), date(2025, 11, 9)) == RunFileTotals(
        files=2, accepted=1, duplicates=0, quarantined=1, runs=1, successful_runs=1, services=1)
    assert run_file_totals(conn, date(2025, 11, 9), date(2025, 11, 10)).duplicates == 1
    assert [row[3:] for row in ledger(conn)] == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    [(key, reason, detail, line_number, has_sha)] = quarantine(conn)
    assert (key, reason, line_number, has_sha) == (other.key, "conflicting_duplicate", None, True)
    assert first.key in detail
    assert conn.execute("SELECT status FROM analytics_ci_runs").fetchall() == [("success",)]


def test_an_overwritten_file_is_read_again(loader, store, conn):
    key = DAY + "ci-2025-11-08-001.json"
    loader.ingest(store, store.write(key, run_file()))
    # Same run, re-serialised (new etag): a duplicate. Different content: conflicting.
    reformatted = store.write(key, run_file() + b"\n")
    assert loader.ingest(store, reformatted).outcome == "duplicate"
    changed = store.write(key, run_file(duration_seconds=122.0))
    result = loader.ingest(store, changed)
    assert (result.outcome, result.reason) == ("quarantined", "conflicting_duplicate")


def test_every_quarantine_reason_lands_in_the_shared_quarantine(loader, store, conn):
    store.write(DAY + "ci-2025-11-08-001.json", run_file())
    store.write(DAY + "ci-2025-11-08-001-conflict.json", run_file(status="error"))
    for reason, data in BAD_FILES.items():
        store.write(f"{DAY}bad-{reason}.json", data)
    objects = list(run_files_between(store, datetime(2025, 11, 8, tzinfo=UTC), datetime(2025, 11, 9, tzinfo=UTC)))
    summary = load_run_files(loader, store, objects)
    assert (summary.files_loaded, summary.accepted, summary.quarantined) == (len(BAD_FILES) + 2, 1, len(BAD_FILES) + 1)
    rows = quarantine(conn)
    assert {reason for _, reason, *_ in rows} == set(QUARANTINE_REASONS)
    for key, reason, detail, line_number, has_sha in rows:
        assert key.startswith(DAY) and detail and line_number is None and has_sha, (key, reason)
    assert dict(summary.quarantine_reasons) == {reason: 1 for reason in QUARANTINE_REASONS}
    raw = conn.execute("SELECT raw_text, raw_size_bytes FROM analytics_quarantine WHERE reason = 'file_too_large'")
    text, size = raw.fetchone()
    assert len(text) == 4096 and size == len(BAD_FILES["file_too_large"])


def test_a_failure_mid_file_commits_nothing_and_a_retry_loads_it(loader, store, conn, monkeypatch):
    obj = store.write(DAY + "ci-2025-11-08-001.json", run_file())

    def broken_stream(key):
        raise ConnectionError("network down")
        yield  # pragma: no cover

    monkeypatch.setattr(store, "stream", broken_stream)
    with pytest.raises(ConnectionError):
        loader.ingest(store, obj)
    assert ledger(conn) == []
    monkeypatch.undo()
    assert loader.ingest(store, obj).outcome == "accepted"


def test_file_date_comes_from_the_key_or_else_the_arrival_day():
    modified = datetime(2025, 11, 10, 23, 0, tzinfo=UTC)
    assert file_date_of(StoredObject("metrics/2025/11/08/x.json", 1, "e", modified)) == date(2025, 11, 8)
    assert file_date_of(StoredObject("metrics/2025/13/08/x.json", 1, "e", modified)) == date(2025, 11, 10)
    assert file_date_of(StoredObject("metrics/x.json", 1, "e", modified)) == date(2025, 11, 10)


def test_only_run_files_of_the_window_are_listed(store):
    store.write("metrics/2025/11/07/a.json", run_file())
    store.write("metrics/2025/11/08/b.json", run_file())
    store.write("metrics/2025/11/08/notes.txt", b"not a run file")
    (store.root / "metrics/2025/11/08/has space.json").write_bytes(run_file())  # a key the store refuses
    store.write("metrics/2025/11/09/c.json", run_file())
    keys = [o.key for o in run_files_between(store, datetime(2025, 11, 8, tzinfo=UTC),
                                             datetime(2025, 11, 10, tzinfo=UTC))]
    assert keys == ["metrics/2025/11/08/b.json", "metrics/2025/11/09/c.json"]
