"""The ingest API killed with SIGKILL while clients send batches: retried with their
Idempotency-Keys against the restarted API, every event is counted exactly once; and
``api-keys create --ingest``."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime

import httpx
import orjson

from analytics_pipeline import cli
from analytics_pipeline.api.keys import create_key, find_key
from analytics_pipeline.api.security import parse_key
from analytics_pipeline.cli.services import start_api_process
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.api.conftest import free_socket
from analytics_pipeline_tests.api.test_cli import cli_env  # noqa: F401 - a fixture
from analytics_pipeline_tests.api.test_ingest_api import event

CLIENTS, BATCHES, EVENTS_PER_BATCH = 4, 12, 500


def test_api_keys_create_ingest_makes_a_key_that_only_sends(cli_env, capsys):  # noqa: F811
    assert cli.main(["api-keys", "create", "--ingest", "--name", "cloudwatch-firehose"]) == 0
    out, err = capsys.readouterr()
    key_id, _secret = parse_key(out.strip())
    assert "ingest" in err
    with connect(cli_env) as conn:
        key = find_key(conn, key_id)
    assert key.scope == "ingest" and key.organization_id is None and key.may_ingest and not key.may_read("org-a")
    assert cli.main(["api-keys", "create", "--ingest", "--org", "org-a", "--name", "x"]) == 2
    assert cli.main(["api-keys", "create", "--ingest", "--finance", "--name", "x"]) == 2


def start_api(env: dict, port: int) -> subprocess.Popen:
    return start_api_process(port, env=env)


def test_a_killed_api_loses_and_doubles_nothing_when_clients_retry(warehouse_url, tmp_path):
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "ANALYTICS_DATABASE_URL": warehouse_url, "ANALYTICS_HOME": str(tmp_path / "home"),
           "ANALYTICS_EXPORTS_URL": str(tmp_path / "exports"), "ANALYTICS_RAW_RETENTION_DAYS": "36500",
           "ANALYTICS_API_KEY_CACHE_SECONDS": "0"}
    with connect(warehouse_url, autocommit=True) as conn:
        _row, new = create_key(conn, name="crash-test", organization_id=None, finance=False, ingest=True,
                               now=datetime(2024, 2, 1, tzinfo=UTC))
    token = new.token
    batches = {f"c{client}-b{batch}": orjson.dumps([
        event(f"org-{(client + i) % 9}", f"{client}-{batch}-{i}", tokens=i) for i in range(EVENTS_PER_BATCH)])
        for client in range(CLIENTS) for batch in range(BATCHES)}
    acknowledged: dict[str, dict] = {}
    lock = threading.Lock()

    def send(keys: list[str]) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for key in keys:
                try:
                    response = client.post("/analytics/v1/events", content=batches[key], headers={
                        "Authorization": f"Bearer {token}", "Idempotency-Key": key})
                except httpx.TransportError:
                    return  # the server died: this client retries later
                assert response.status_code == 200, response.text
                with lock:
                    acknowledged[key] = response.json()

    server = start_api(env, port)
    clients = [threading.Thread(target=send, args=([k for k in batches if k.startswith(f"c{c}-")],))
               for c in range(CLIENTS)]
    for thread in clients:
        thread.start()
    while len(acknowledged) < 8:
        assert any(thread.is_alive() for thread in clients)
        time.sleep(0.01)
    server.send_signal(signal.SIGKILL)  # four clients have batches in flight
    server.wait()
    for thread in clients:
        thread.join()
    assert len(acknowledged) < len(batches)
    first_answers = dict(acknowledged)

    server = start_api(env, port)
    try:
        # Every batch is sent again, the acknowledged ones too (a client that lost an answer).
        retries = [threading.Thread(target=send, args=([k for k in batches if k.startswith(f"c{c}-")],))
                   for c in range(CLIENTS)]
        for thread in retries:
            thread.start()
        for thread in retries:
            thread.join()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert set(acknowledged) == set(batches)
    for key, answer in first_answers.items():
        assert acknowledged[key] == {**answer, "replayed": True}
    sent = CLIENTS * BATCHES * EVENTS_PER_BATCH
    with connect(warehouse_url, autocommit=True) as conn:
        events, tokens = conn.execute("SELECT count(*), sum(tokens_consumed) FROM analytics_events").fetchone()
        ledger = conn.execute("SELECT count(*), sum(lines_read), sum(accepted), sum(duplicates), sum(quarantined) "
                              "FROM analytics_ingested_objects WHERE source = 'ingest_api'").fetchone()
    assert events == sent and tokens == CLIENTS * BATCHES * sum(range(EVENTS_PER_BATCH))
    assert ledger == (CLIENTS * BATCHES, sent, sent, 0, 0)
