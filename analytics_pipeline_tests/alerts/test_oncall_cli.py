"""``analytics-pipeline alerts`` and ``trace``, run as the operator runs them (a subprocess)."""

import os
import subprocess
import sys
from datetime import timedelta

from analytics_pipeline.alerts.evaluation import evaluate_and_dispatch
from analytics_pipeline.alerts.routing import Routes
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.alerts.platform_events import insert_endpoint_events
from analytics_pipeline_tests.alerts.test_platform_alerts import ENDPOINT, RULES, T0
from analytics_pipeline_tests.tracing.conftest import FIRST_KEY, traced_warehouse  # noqa: F401 (a fixture)


def cli(url, *args):
    env = {**os.environ, "ANALYTICS_DATABASE_URL": url, "ANALYTICS_ALERT_WEBHOOK_URL": "",
           "ANALYTICS_PAGERDUTY_ROUTING_KEY": ""}
    return subprocess.run([sys.executable, "-m", "analytics_pipeline.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_list_and_acknowledge_an_alert(warehouse_url):
    with connect(warehouse_url) as conn:
        insert_endpoint_events(conn, endpoint=ENDPOINT, start=T0, count=200, status=503,
                               spacing=timedelta(milliseconds=250))
        for seconds in (60, 120):
            evaluate_and_dispatch(conn, RULES, Routes(), now=T0 + timedelta(seconds=seconds))
    listed = cli(warehouse_url, "alerts", "list", "--open")
    key = f"endpoint_availability/critical/{ENDPOINT}"
    assert listed.returncode == 0 and key in listed.stdout and "firing" in listed.stdout
    acked = cli(warehouse_url, "alerts", "ack", key, "--by", "oncall")
    assert acked.returncode == 0, acked.stderr
    assert cli(warehouse_url, "alerts", "ack", key).returncode == 1  # no longer firing
    with connect(warehouse_url) as conn:
        assert conn.execute("SELECT status, acknowledged_by FROM analytics_alerts WHERE dedup_key = %s",
                            (key,)).fetchone() == ("acknowledged", "oncall")


def test_trace_prints_the_object_and_line(traced_warehouse):  # noqa: F811
    found = cli(traced_warehouse, "trace", "req-ok", "--org", "org-a")
    assert found.returncode == 0, found.stderr
    assert f"accepted    object {FIRST_KEY}, line 1" in found.stdout
    assert f"duplicate   object {FIRST_KEY}, line 3" in found.stdout and "price: 0.0039" in found.stdout
    assert cli(traced_warehouse, "trace", "req-ok", "--org", "org-zzz").returncode == 1
