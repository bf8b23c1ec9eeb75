"""The live paths' speed and freshness, beside baselines measured in the same run.

    .venv/bin/python benchmarks/realtime.py [--seconds 10] [--kinesis-records 20000] [--samples 40] [--workers N]
                                            [--keep]

On a throwaway embedded PostgreSQL, with the API running as its own processes
(``analytics-pipeline api``, as deployed: two worker processes per CPU unless ``--workers``):

  (1) HTTP ingestion: 4 keep-alive clients POST batches of 1,000 NDJSON events to
      /analytics/v1/events for ``--seconds``; events/s = events the ledger accepted / wall time.
      Baseline: a psycopg COPY (text) of the same events, already parsed, into a table indexed
      like analytics_events (the limit of any loader on this server). Also the CPU seconds per
      accepted event of the API's processes and of PostgreSQL's (steadier than the rate on a
      shared machine: 50,000 events/s on 2 CPUs leaves 40 us per event for everything).
  (2) Firehose HTTP endpoint delivery: the same clients, requests of 10 records x 100 events
      (CloudWatch Logs payloads), 1,000 events each.
  (3) Kinesis: ``--kinesis-records`` one-event records on a 2-shard stream in moto's server;
      moto's own GetRecords rate (reading every shard, 1,000 records a call, nothing loaded)
      beside the consumer's records/s (read, decode, validate, load, checkpoint).
  (4) Freshness: a batch of 100 events sent, then /usage polled until it counts them; p50/p95
      of send -> visible over ``--samples`` batches.

Targets on the project's 2-core machine: (1) >= 50,000 events/s; (4) p95 < 5 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analytics_pipeline.api.app import worker_count  # noqa: E402
from analytics_pipeline.api.keys import create_key  # noqa: E402
from analytics_pipeline.cli.services import free_port, start_api_process  # noqa: E402
from analytics_pipeline.generator.send import cloudwatch_payload, firehose_request, ndjson  # noqa: E402
from analytics_pipeline.ingestion.contract import EVENT_COLUMNS, EventValidator  # noqa: E402
from analytics_pipeline.settings import load_settings  # noqa: E402
from analytics_pipeline.warehouse.database import connect  # noqa: E402
from benchmarks._common import (  # noqa: E402
    closed_loop_load,
    load_average,
    log,
    print_table,
    rate,
    throwaway_postgres,
)

CLIENTS = 4
BATCH = 1000


def event_line(n: int, at: datetime) -> bytes:
    return orjson.dumps({"timestamp": at.isoformat().replace("+00:00", "Z"), "customer_id": f"org-{n % 50}",
                         "request_id": f"req-{n}", "endpoint": "/v1/messages", "method": "POST", "status_code": 200,
                         "duration_ms": 120.5 + n % 300, "tokens_input": 400 + n % 50, "tokens_output": 200,
                         "model_id": "bench-model"})


def http_request(path: str, port: int, headers: dict[str, str], body: bytes) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body


def process_cpus(root_pid: int) -> dict[int, float]:
    """CPU seconds (user + system) used so far by ``root_pid`` and by each of its descendants alive
    now, by pid (Linux /proc): the API's worker processes, or the PostgreSQL server's backends."""
    tick = os.sysconf("SC_CLK_TCK")
    cpus, pending = {}, [root_pid]
    while pending:
        pid = pending.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:  # exited meanwhile
            continue
        cpus[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        pending += map(int, children)
    return cpus


def ledger_accepted(url: str, source: str) -> int:
    with connect(url, autocommit=True) as conn:
        return int(conn.execute("SELECT coalesce(sum(accepted), 0) FROM analytics_ingested_objects WHERE source = %s",
                                (source,)).fetchone()[0])


def copy_baseline(url: str, lines: list[bytes], now: datetime) -> float:
    """Seconds for a COPY (text) of ``lines``' parsed rows into a table indexed like analytics_events."""
    validator = EventValidator(now=now)
    rows = [validator.validate(line)[0] for line in lines]
    with connect(url) as conn:
        conn.execute("CREATE TABLE bench_copy (LIKE analytics_events INCLUDING DEFAULTS)")
        conn.execute("CREATE INDEX ON bench_copy (organization_id, event_time)")
        conn.execute("CREATE INDEX ON bench_copy USING brin (event_time)")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY bench_copy ({', '.join(EVENT_COLUMNS)}, object_id) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, 1))
        conn.commit()
        return time.perf_counter() - started


def kinesis_rates(url: str, records: int, now: datetime) -> tuple[float, float]:
    """(moto's GetRecords records/s, the consumer's records/s) over ``records`` one-event records."""
    import boto3
    from moto.server import ThreadedMotoServer

    from analytics_pipeline.ingestion.kinesis import KinesisConsumer

    for name, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        os.environ.setdefault(name, value)
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        kinesis = boto3.client("kinesis", endpoint_url=f"http://{host}:{port}", region_name="us-east-1")
        kinesis.create_stream(StreamName="bench", ShardCount=2)
        kinesis.get_waiter("stream_exists").wait(StreamName="bench", WaiterConfig={"Delay": 0.1})
        lines = [event_line(10_000_000 + n, now) for n in range(records)]
        for start in range(0, records, 500):
            kinesis.put_records(StreamName="bench", Records=[
                {"PartitionKey": str(n), "Data": line} for n, line in enumerate(lines[start:start + 500], start)])
        shards = [s["ShardId"] for s in kinesis.list_shards(StreamName="bench")["Shards"]]
        started, read = time.perf_counter(), 0
        for shard in shards:
            iterator = kinesis.get_shard_iterator(StreamName="bench", ShardId=shard,
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while True:
                answer = kinesis.get_records(ShardIterator=iterator, Limit=1000)
                read += len(answer["Records"])
                iterator = answer["NextShardIterator"]
                if not answer["Records"]:
                    break
        moto_seconds = time.perf_counter() - started
        assert read == records, read
        with connect(url) as conn, connect(url, autocommit=True) as ddl:
            consumer = KinesisConsumer(kinesis, conn, ddl, "bench", validator_at=lambda at: EventValidator(now=at),
                                       owner="bench", batch_records=1000)
            started = time.perf_counter()
            while consumer.records_loaded < records:
                consumer.run_round()
            consumer_seconds = time.perf_counter() - started
        return records / moto_seconds, records / consumer_seconds
    finally:
        server.stop()


def freshness(port: int, ingest_token: str, reader_token: str, samples: int) -> list[float]:
    """Seconds from sending a batch of 100 events until /usage counts them, per sample."""
    seen = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        org = "org-fresh"
        expected = 0
        for sample in range(samples):
            now = datetime.now(UTC)
            hour = now.replace(minute=0, second=0, microsecond=0)
            lines = [orjson.dumps({"timestamp": now.isoformat().replace("+00:00", "Z"), "customer_id": org,
                                   "request_id": f"fresh-{sample}-{i}", "status_code": 200, "tokens_input": 10,
                                   "model_id": "bench-model"}) for i in range(100)]
            expected += 100
            started = time.perf_counter()
            response = client.post("/analytics/v1/events", content=ndjson(lines), headers={
                "Authorization": f"Bearer {ingest_token}", "Content-Type": "application/x-ndjson"})
            response.raise_for_status()
            while True:
                usage = client.get(f"/analytics/v1/orgs/{org}/usage", headers={
                    "Authorization": f"Bearer {reader_token}"}, params={
                    "start": hour.isoformat().replace("+00:00", "Z"),
                    "end": (hour + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
                    "granularity": "hourly"}).json()
                if usage["totals"]["requestCount"] >= expected:
                    break
                time.sleep(0.05)
            seen.append(time.perf_counter() - started)
            if datetime.now(UTC).replace(minute=0, second=0, microsecond=0) != hour:
                expected = 0  # the hour turned: the next sample counts in the new hour
    return seen


def firehose_throughput(url: str, port: int, token: str, batches: int, now: datetime,
                        seconds: float) -> tuple[int, float]:
    """(2) Firehose: requests of 10 CloudWatch payload records of 100 events, from CLIENTS
    clients for ``seconds``; returns the events accepted and the seconds taken."""
    firehose_lines = [event_line(50_000_000 + n, now) for n in range(batches * BATCH)]
    bodies = []
    for b in range(batches):
        chunk = firehose_lines[b * BATCH:(b + 1) * BATCH]
        records = [cloudwatch_payload(chunk[r:r + 100]) for r in range(0, BATCH, 100)]
        request_id, body = firehose_request(records)
        bodies.append(http_request("/analytics/v1/firehose", port, {
            "X-Amz-Firehose-Request-Id": request_id, "X-Amz-Firehose-Access-Key": token,
            "Content-Type": "application/json"}, body))
    del firehose_lines
    started = time.perf_counter()
    responses = closed_loop_load(port, lambda n: bodies[n % batches], CLIENTS, seconds)
    firehose_seconds = time.perf_counter() - started
    firehose_events = ledger_accepted(url, "firehose")
    log(f"  Firehose: {len(responses):,} requests, statuses {sorted({r.status for r in responses})}, "
        f"{firehose_events:,} events in {firehose_seconds:.1f} s")
    return firehose_events, firehose_seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--kinesis-records", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--workers", type=int, default=None,
                        help="the API's worker processes (default: the API's own, two per CPU)")
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    with throwaway_postgres(keep=args.keep) as pg:
        url = pg.create_database("bench_live")
        with connect(url, autocommit=True) as conn:
            _, ingest = create_key(conn, name="bench-ingest", organization_id=None, finance=False, ingest=True,
                                   now=now)
            _, reader = create_key(conn, name="bench-reader", organization_id="org-fresh", finance=False, now=now)
        port = free_port()
        env = {**os.environ, "ANALYTICS_DATABASE_URL": url, "ANALYTICS_HOME": str(pg.scratch_dir("home")),
               "ANALYTICS_EXPORTS_URL": str(pg.scratch_dir("exports")), "PYTHONPATH": str(REPO)}
        server = start_api_process(port, env=env, workers=args.workers)
        try:
            # (1) HTTP: enough distinct batches for the run at 100,000 events/s.
            batches = int(args.seconds * 100_000 / BATCH) + CLIENTS
            log(f"building {batches:,} batches of {BATCH:,} events")
            lines = [event_line(n, now) for n in range(batches * BATCH)]
            headers = {"Authorization": f"Bearer {ingest.token}", "Content-Type": "application/x-ndjson"}
            requests = [http_request("/analytics/v1/events", port, headers, ndjson(lines[b * BATCH:(b + 1) * BATCH]))
                        for b in range(batches)]
            # Where the CPU goes (the machine is shared, so CPU seconds say more than the rate).
            postmaster = int((pg.pgdata / "postmaster.pid").read_text().split()[0])
            api_before, pg_before = process_cpus(server.pid), process_cpus(postmaster)
            started = time.perf_counter()
            responses = closed_loop_load(port, lambda n: requests[n % batches], CLIENTS, args.seconds)
            http_seconds = time.perf_counter() - started
            api_after, pg_after = process_cpus(server.pid), process_cpus(postmaster)
            # Per API process, busiest first: how the clients' connections fell on the workers.
            worker_cpu = sorted((api_after[pid] - api_before.get(pid, 0.0) for pid in api_after), reverse=True)
            api_cpu = sum(worker_cpu)
            pg_cpu = sum(pg_after.values()) - sum(pg_before.values())
            http_events = ledger_accepted(url, "ingest_api")
            log(f"  HTTP: {len(responses):,} requests, statuses {sorted({r.status for r in responses})}, "
                f"{http_events:,} events accepted in {http_seconds:.1f} s (load average {load_average()})")
            requests = []
            copy_seconds = copy_baseline(pg.create_database("bench_copy"), lines[:http_events or BATCH], now)
            copied = http_events or BATCH
            del lines

            firehose_events, firehose_seconds = firehose_throughput(url, port, ingest.token, batches, now,
                                                                    args.seconds)

            # (4) freshness, on the same server
            fresh = freshness(port, ingest.token, reader.token, args.samples)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        # (3) Kinesis
        moto_rate, consumer_rate = kinesis_rates(url, args.kinesis_records, now)

    print()
    print_table(["path", "events", "seconds", "events/s", "baseline (same run)", "baseline/s"], [
        ["(1) HTTP /events, 4 clients x 1,000-event batches", f"{http_events:,}", f"{http_seconds:.1f}",
         rate(http_events, http_seconds), "COPY (text) of the parsed rows", rate(copied, copy_seconds)],
        ["(2) Firehose HTTP delivery, 4 clients x 1,000 events", f"{firehose_events:,}", f"{firehose_seconds:.1f}",
         rate(firehose_events, firehose_seconds), "(1) HTTP /events", rate(http_events, http_seconds)],
        ["(3) Kinesis consumer (records/s)", f"{args.kinesis_records:,}", "",
         f"{consumer_rate:,.0f}", "moto GetRecords alone", f"{moto_rate:,.0f}"],
    ])
    per_event = 1e6 / max(http_events, 1)
    print(f"\n(1) CPU per accepted event: API processes {api_cpu * per_event:.1f} us, PostgreSQL "
          f"{pg_cpu * per_event:.1f} us (the benchmark's own clients not counted); 2 CPUs allow "
          f"{2e6 / 50_000:.0f} us per event in all for 50,000 events/s; CPU seconds per API process, busiest first: "
          f"{', '.join(f'{cpu:.1f}' for cpu in worker_cpu if cpu >= 0.05)} of {args.seconds:g} s")
    fresh.sort()
    p95 = fresh[min(len(fresh) - 1, int(0.95 * len(fresh)))]
    print(f"\n(4) freshness, send -> visible in /usage over {len(fresh)} batches: p50 "
          f"{statistics.median(fresh) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {fresh[-1] * 1000:.0f} ms")
    http_rate = http_events / http_seconds
    print(f"\ntarget (1) >= 50,000 events/s: {http_rate:,.0f} -> {'PASS' if http_rate >= 50_000 else 'FAIL'} "
          f"(API workers: {worker_count(load_settings(env), args.workers)}; load average {load_average()} "
          "on this machine)")
    print(f"target (4) p95 < 5 s: {p95:.2f} s -> {'PASS' if p95 < 5 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
