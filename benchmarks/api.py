"""The export API under load: GET job, the filtered list and POST, beside /healthz of the same server.

    .venv/bin/python benchmarks/api.py [--jobs 100000] [--clients 16] [--seconds 10]

Fills ``analytics_export_jobs`` with ``--jobs`` jobs (100 organizations, a year of creation
times, most succeeded), starts ``analytics-pipeline api`` in its own process (as shipped: one
uvicorn worker, the access log on, to /dev/null), and for each endpoint in turn runs
``--clients`` concurrent keep-alive connections for ``--seconds`` seconds from this process
(a small asyncio HTTP/1.1 client, so the client costs little next to the server). Prints
requests/s, p50 and p99 latency, the CPU seconds the server and the client spent, and the load
average, with /healthz of the same server as the baseline.

Targets (2-core machine): GET job at least 40% of the /healthz rate with p99 under 25 ms; the
filtered list p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from analytics_pipeline.api.keys import create_key  # noqa: E402
from analytics_pipeline.cli.services import free_port, start_api_process  # noqa: E402
from analytics_pipeline.warehouse.database import connect  # noqa: E402
from benchmarks._common import closed_loop_load, load_average, log, print_table, throwaway_postgres  # noqa: E402

ORGS = 100
REPO = Path(__file__).resolve().parents[1]


def fill_jobs(url: str, jobs: int) -> None:
    """``jobs`` rows spread over ORGS organizations and the year 2025 (70% succeeded)."""
    with connect(url) as conn:
        conn.execute(
            """
            INSERT INTO analytics_export_jobs
                (job_id, organization_id, range_start, range_end, granularity, by_model, status, created_at,
                 started_at, completed_at, output_key, output_uri, checksum, row_count, initiated_by, error,
                 run_id, expired_at)
            SELECT gen_random_uuid(), 'org-' || lpad((i %% %(orgs)s)::text, 4, '0'),
                   timestamptz '2025-01-01' + (i %% 365) * interval '1 day',
                   timestamptz '2025-01-02' + (i %% 365) * interval '1 day', 'daily', true, s.status,
                   timestamptz '2025-01-01' + i * interval '5 minutes', t.done, t.done,
                   'adhoc/org/' || i || '/usage_daily.csv', '/exports/adhoc/org/' || i || '/usage_daily.csv',
                   'sha256:' || md5(i::text) || md5(i::text), 31, 'finance-reporting',
                   CASE WHEN s.status = 'failed' THEN 'the export failed (Timeout); details are in the run''s logs' END,
                   'run-' || i, CASE WHEN s.status = 'expired' THEN t.done END
            FROM generate_series(1, %(jobs)s) AS i
            CROSS JOIN LATERAL (SELECT CASE WHEN (i / %(orgs)s) %% 10 < 7 THEN 'succeeded'
                                            WHEN (i / %(orgs)s) %% 10 < 9 THEN 'expired'
                                            ELSE 'failed' END AS status) AS s
            CROSS JOIN LATERAL (SELECT timestamptz '2025-01-01' + i * interval '5 minutes' + interval '2 minutes'
                                       AS done) AS t
            """, {"jobs": jobs, "orgs": ORGS})
        conn.execute("ANALYZE analytics_export_jobs")
        conn.commit()


@dataclass
class Phase:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    unexpected: int
    server_cpu: float
    client_cpu: float
    load: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_phase(name: str, port: int, server_pid: int, make: Callable[[int], bytes], expected: set[int],
              clients: int, seconds: float) -> Phase:
    server_before, client_before, began = _cpu_seconds(server_pid), time.process_time(), time.perf_counter()
    responses = closed_loop_load(port, make, clients, seconds)
    elapsed = time.perf_counter() - began
    latencies = sorted(r.seconds for r in responses)
    unexpected = sum(1 for r in responses if r.status not in expected)

    def percentile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    phase = Phase(name, len(latencies), elapsed, percentile(0.50), percentile(0.99), unexpected,
                  _cpu_seconds(server_pid) - server_before, time.process_time() - client_before, load_average())
    log(f"  {name}: {phase.rate:,.0f} requests/s, p50 {phase.p50_ms:.2f} ms, p99 {phase.p99_ms:.2f} ms "
        f"({phase.unexpected} unexpected statuses; load average {phase.load})")
    return phase


def _get(path: str, token: str | None = None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n{auth}\r\n".encode()


def _post(path: str, token: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    rng = random.Random(5)

    with throwaway_postgres() as pg:
        url = pg.create_database("bench_api")
        began = time.perf_counter()
        fill_jobs(url, args.jobs)
        log(f"{args.jobs:,} jobs in analytics_export_jobs ({ORGS} organizations) "
            f"in {time.perf_counter() - began:.1f} s")
        org = "org-0007"
        with connect(url, autocommit=True) as conn:
            _, org_key = create_key(conn, name="bench org", organization_id=org, finance=False,
                                    now=datetime.now(UTC))
            _, finance_key = create_key(conn, name="bench finance", organization_id=None, finance=True,
                                        now=datetime.now(UTC))
            job_ids = [str(r[0]) for r in conn.execute(
                "SELECT job_id FROM analytics_export_jobs WHERE organization_id = %s", (org,)).fetchall()]
        rng.shuffle(job_ids)

        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(REPO), "ANALYTICS_DATABASE_URL": url,
               "ANALYTICS_HOME": str(pg.scratch_dir("home")), "ANALYTICS_EXPORTS_URL": str(pg.scratch_dir("exports")),
               "ANALYTICS_API_SIGNING_KEY": "bench-signing-key-0123456789abcdefghij"}
        server = start_api_process(port, env=env, workers=1)  # one uvicorn process: the figures are per process
        try:
            list_path = f"/analytics/v1/orgs/{org}/exports?status=succeeded&limit=50"
            first = httpx.get(f"http://127.0.0.1:{port}{list_path}",
                              headers={"Authorization": f"Bearer {org_key.token}"}).json()
            log(f"filtered list: {len(first['jobs'])} jobs a page of {len(job_ids):,} jobs of {org}")
            body = json.dumps({"timeRange": {"start": "2025-01-01T00:00:00Z", "end": "2025-01-31T23:59:59Z"},
                               "granularity": "daily"}).encode()
            phases = [
                ("GET /healthz", lambda i: _get("/healthz"), {200}),
                ("GET job", lambda i: _get(f"/analytics/v1/orgs/{org}/exports/{job_ids[i % len(job_ids)]}",
                                           org_key.token), {200}),
                ("GET list ?status=succeeded&limit=50", lambda i: _get(list_path, org_key.token), {200}),
                # 10 new jobs per organization at most: each request goes to the next organization in tens.
                ("POST export (finance key)", lambda i: _post(f"/analytics/v1/orgs/bench-post-{i // 10}/exports",
                                                              finance_key.token, body), {202}),
            ]
            log(f"{args.clients} clients x {args.seconds:g} s per endpoint (load average {load_average()})")
            results = [run_phase(name, port, server.pid, make, expected, args.clients, args.seconds)
                       for name, make, expected in phases]
        finally:
            server.terminate()
            server.wait(timeout=30)

    baseline = results[0].rate
    print_table(["endpoint", "requests", "requests/s", "of /healthz", "p50 ms", "p99 ms", "unexpected",
                 "server CPU s", "client CPU s", "load average after"],
                [[p.name, f"{p.requests:,}", f"{p.rate:,.0f}", f"{p.rate / baseline:.0%}", f"{p.p50_ms:.2f}",
                  f"{p.p99_ms:.2f}", p.unexpected, f"{p.server_cpu:.1f}", f"{p.client_cpu:.1f}", p.load]
                 for p in results])
    get_job, listing = results[1], results[2]
    log(f"targets: GET job >= 40% of /healthz: {get_job.rate / baseline:.0%} "
        f"({'met' if get_job.rate >= 0.4 * baseline else 'not met'}); GET job p99 < 25 ms: {get_job.p99_ms:.1f} ms "
        f"({'met' if get_job.p99_ms < 25 else 'not met'}); list p99 < 50 ms: {listing.p99_ms:.1f} ms "
        f"({'met' if listing.p99_ms < 50 else 'not met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
