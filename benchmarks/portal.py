"""The portal's pages under load on the demo's month, beside /healthz of the same server.

    .venv/bin/python benchmarks/portal.py [--month 2026-10] [--clients 8] [--seconds 5] [--home DIR]
                                          [--screenshots docs/screenshots]

Runs ``analytics-pipeline demo --start <month>-01`` into a temporary ``ANALYTICS_HOME`` (or into
``--home``, reused when it already holds that month), creates a key of the month's busiest
organization and a finance-wide key, signs both in through the portal's form, and starts the API
in a process of its own (one uvicorn worker, as shipped) with its clock at the month's last hour,
so "now", the month to date and the status page's last hours fall in the demo's data. Each page
then takes ``--clients`` concurrent keep-alive clients for ``--seconds`` seconds; the table has
requests/s, the client's latency and the server time of each page (its ``Server-Timing``
header: from the request reaching the app to the response starting), p50 and p95, with the load
average, and ``/healthz`` of the same server first as the baseline.

The exports page is measured with a pending job of the organization listed, as the page's own
polling (every 2 s while a job is pending or running) requests it; the status page both anonymous
(cached whole) and signed in (rendered for the session's navigation); the business page with the
directory's names and the lines of cost no billed organization carries.

Target: every page's server time under 300 ms at p95 with 8 clients.

``--screenshots DIR`` also writes a PNG of each page, taken in headless Chromium (Playwright), to
DIR: the README's ``docs/screenshots/`` are made so.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from analytics_pipeline.api.keys import create_key  # noqa: E402
from analytics_pipeline.cli.services import free_port, wait_until_ready  # noqa: E402
from analytics_pipeline.exports.export_jobs import ExportRequest, create_job  # noqa: E402
from analytics_pipeline.settings import load_settings  # noqa: E402
from analytics_pipeline.warehouse.database import connect, resolve_database_url  # noqa: E402
from benchmarks._common import closed_loop_load, load_average, log, print_table  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SESSION_COOKIE = "analytics_portal_session"
TARGET_MS = 300.0


def _month_start(text: str) -> date:
    return date.fromisoformat(text + "-01")


def _next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def demo_into(home: Path, first: date) -> None:
    """The demo's month in ``home`` (skipped when a previous run left it there)."""
    marker = home / f".portal-benchmark-demo-{first:%Y-%m}"
    if marker.exists():
        log(f"reusing the demo's {first:%B %Y} in {home}")
        return
    log(f"running the demo for {first:%B %Y} into {home} (a few minutes)...")
    began = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(REPO), "ANALYTICS_HOME": str(home)}
    for name in ("ANALYTICS_DATABASE_URL", "DAGSTER_PG_URL", "DAGSTER_HOME"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-m", "analytics_pipeline.cli", "demo", "--start", first.isoformat()], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    marker.touch()
    log(f"demo done in {time.perf_counter() - began:.0f} s (load average {load_average()})")


class FrozenClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def _serve(home: str, port: int, now: str, environ: dict[str, str]) -> None:
    """The API in this (child) process, as ``analytics-pipeline api`` runs it, its clock at ``now``."""
    import uvicorn

    from analytics_pipeline.api.app import create_app, log_config

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    settings = load_settings({**os.environ, **environ, "ANALYTICS_HOME": home,
                              "ANALYTICS_API_SIGNING_KEY": "bench-signing-key-0123456789abcdefghij",
                              "ANALYTICS_API_PUBLIC_URL": f"http://127.0.0.1:{port}"})
    app = create_app(settings, clock=FrozenClock(datetime.fromisoformat(now)))
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=log_config(True), access_log=True,
                server_header=False)


@contextlib.contextmanager
def api_at(home: Path, now: datetime, environ: dict[str, str] | None = None) -> Iterator[int]:
    """The API (one uvicorn worker) in a process of its own, ``home`` its ANALYTICS_HOME (``environ``:
    more settings) and its clock at ``now``; yields its port once /readyz answers, stops it after."""
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(str(home), port, now.isoformat(), environ or {}), daemon=True)
    server.start()
    try:
        if not wait_until_ready(port, alive=server.is_alive, timeout=60):
            raise RuntimeError("the API did not start")
        yield port
    finally:
        server.terminate()
        server.join(timeout=30)


def sign_in(base: str, token: str) -> str:
    """The session id the portal's sign-in form gives for ``token``."""
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
        form = client.get("/portal/sign-in")
        form_token = re.search(r'name="form_token" value="([^"]+)"', form.text)[1]
        response = client.post("/portal/sign-in", data={"api_key": token, "form_token": form_token})
        assert response.status_code == 303, response.text
        return client.cookies[SESSION_COOKIE]


@dataclass
class Phase:
    name: str
    requests: int
    seconds: float
    client_p50: float
    client_p95: float
    server_p50: float | None
    server_p95: float | None
    unexpected: int
    bytes_per_page: int
    load: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_phase(name: str, port: int, path: str, session: str | None, clients: int, seconds: float, *,
              token: str | None = None) -> Phase:
    """``clients`` keep-alive clients GET ``path`` for ``seconds``, signed in with the portal
    ``session`` or the API key ``token`` (or neither)."""
    cookie = f"Cookie: {SESSION_COOKIE}={session}\r\n" if session else ""
    bearer = f"Authorization: Bearer {token}\r\n" if token else ""
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n{cookie}{bearer}\r\n".encode()
    began = time.perf_counter()
    responses = closed_loop_load(port, lambda _: request, clients, seconds)
    latencies = [r.seconds * 1000 for r in responses]
    servers = [r.server_ms for r in responses if r.server_ms is not None]
    sizes = [r.body_bytes for r in responses]
    unexpected = sum(1 for r in responses if r.status != 200)
    phase = Phase(name, len(latencies), time.perf_counter() - began, _percentile(latencies, 0.5),
                  _percentile(latencies, 0.95), _percentile(servers, 0.5), _percentile(servers, 0.95), unexpected,
                  int(sum(sizes) / max(len(sizes), 1)), load_average())
    server = f"server p50 {phase.server_p50:.1f} ms, p95 {phase.server_p95:.1f} ms; " if servers else ""
    log(f"  {name}: {phase.rate:,.0f}/s, {server}client p50 {phase.client_p50:.1f} ms, p95 {phase.client_p95:.1f} ms "
        f"({unexpected} unexpected; load average {phase.load})")
    return phase


def pages(org: str, first: date) -> list[tuple[str, str, str]]:
    """(name, path, whose session) of every page measured; '' needs none."""
    last = _next_month(first) - timedelta(days=1)
    week = last - timedelta(days=6)
    return [
        ("GET /healthz (baseline)", "/healthz", ""),
        ("status (public)", "/portal/status", ""),
        ("sign-in form", "/portal/sign-in", ""),
        ("usage, 30 days per day", f"/portal/orgs/{org}/usage", "org"),
        ("usage, 7 days per hour", f"/portal/orgs/{org}/usage?start={week}&end={last}&granularity=hourly", "org"),
        ("performance, 30 days", f"/portal/orgs/{org}/performance", "org"),
        ("costs, the month", f"/portal/orgs/{org}/costs?month={first:%Y-%m}", "org"),
        ("exports (a job pending: its polling)", f"/portal/orgs/{org}/exports", "org"),
        ("status (signed in)", "/portal/status", "org"),
        ("docs (Swagger UI, vendored)", "/docs", ""),
        ("business (internal)", f"/portal/internal/business?month={first:%Y-%m}", "finance"),
        ("SRE (internal)", "/portal/internal/sre", "finance"),
    ]


def screenshots(base: str, tokens: dict[str, str], targets: list[tuple[str, str, str]], directory: Path) -> None:
    from playwright.sync_api import sync_playwright

    from analytics_pipeline_tests.api.portal.conftest import CHROMIUM_ARGS, chromium_executable

    directory.mkdir(parents=True, exist_ok=True)
    names = {"status (public)": "status", "sign-in form": "sign-in", "usage, 30 days per day": "usage",
             "performance, 30 days": "performance", "costs, the month": "costs",
             "exports (a job pending: its polling)": "exports",
             "business (internal)": "business", "SRE (internal)": "sre"}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)
        for whose in ("", "org", "finance"):
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            page = context.new_page()
            if whose:
                page.goto(f"{base}/portal/sign-in")
                page.fill("#api_key", tokens[whose])
                page.click("form[action='/portal/sign-in'] button[type=submit]")
                page.wait_for_load_state()
            for name, path, owner in targets:
                if owner != whose or name not in names:
                    continue
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=directory / f"{names[name]}.png")
                log(f"  screenshot {directory / (names[name] + '.png')}")
            context.close()
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--month", default="2026-10", help="the demo's month, YYYY-MM")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--home", type=Path, help="ANALYTICS_HOME to run the demo into (default: a temporary one)")
    parser.add_argument("--screenshots", type=Path, help="write a PNG of each page here")
    args = parser.parse_args(argv)
    first = _month_start(args.month)
    home = (args.home or Path(tempfile.mkdtemp(prefix="analytics-portal-bench-"))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    demo_into(home, first)
    end = datetime.combine(_next_month(first), datetime.min.time(), UTC)
    now = end - timedelta(minutes=30)  # the month's last hour, in progress
    url = resolve_database_url(None, home / "postgres")
    with connect(url, autocommit=True) as conn:
        org, requests = conn.execute(
            "SELECT organization_id, sum(request_count) FROM analytics_daily_rollups WHERE bucket_start >= %s "
            "AND bucket_start < %s GROUP BY 1 ORDER BY 2 DESC LIMIT 1", (first, end)).fetchone()
        _, org_key = create_key(conn, name="bench customer", organization_id=org, finance=False, now=now)
        _, finance_key = create_key(conn, name="bench finance", organization_id=None, finance=True, now=now)
        # A pending export of the organization: the exports page then polls itself, and is measured so.
        month_start = datetime.combine(first, datetime.min.time(), UTC)
        create_job(conn, ExportRequest.parse(organization_id=org, start=month_start, end=end, granularity="daily",
                                             initiated_by="bench customer"), created_at=now, max_active=10)
    log(f"the busiest organization: {org} ({requests:,} requests in {first:%B %Y}); the clock at {now:%Y-%m-%d %H:%M}Z")

    with api_at(home, now) as port:
        base = f"http://127.0.0.1:{port}"
        sessions = {"": None, "org": sign_in(base, org_key.token), "finance": sign_in(base, finance_key.token)}
        targets = pages(org, first)
        for name, path, whose in targets:  # each page once, so a broken one fails here and not in a figure
            response = httpx.get(base + path, cookies={SESSION_COOKIE: sessions[whose]} if whose else None)
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {path} answered {response.status_code}")
        log(f"{args.clients} clients x {args.seconds:g} s per page (load average {load_average()})")
        results = [run_phase(name, port, path, sessions[whose], args.clients, args.seconds)
                   for name, path, whose in targets]
        if args.screenshots:
            screenshots(base, {"org": org_key.token, "finance": finance_key.token}, targets, args.screenshots)

    print_table(["page", "requests", "requests/s", "server p50 ms", "server p95 ms", "client p50 ms", "client p95 ms",
                 "KiB", "unexpected", "load average after"],
                [[p.name, f"{p.requests:,}", f"{p.rate:,.0f}", "" if p.server_p50 is None else f"{p.server_p50:.1f}",
                  "" if p.server_p95 is None else f"{p.server_p95:.1f}", f"{p.client_p50:.1f}", f"{p.client_p95:.1f}",
                  f"{p.bytes_per_page / 1024:.1f}", p.unexpected, p.load] for p in results])
    measured = [p for p in results if p.server_p95 is not None]
    slow = [p.name for p in measured if p.server_p95 >= TARGET_MS]
    worst = max(measured, key=lambda p: p.server_p95)
    log(f"target: every page's server time under {TARGET_MS:.0f} ms at p95 with {args.clients} clients: "
        f"{'met' if not slow else 'not met (' + ', '.join(slow) + ')'}; the slowest: {worst.name}, "
        f"{worst.server_p95:.1f} ms")
    if not args.home:
        log(f"the demo's home is left in {home} (its embedded PostgreSQL still running): reuse it with --home {home}, "
            f"or stop it with: ANALYTICS_HOME={home} .venv/bin/analytics-pipeline db stop && rm -rf {home}")
    return 0 if not slow else 1


if __name__ == "__main__":
    sys.exit(main())
