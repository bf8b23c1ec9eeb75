"""CloudWatch Metric Streams objects on S3 (moto over HTTP) land exactly: every datapoint once, every
line accounted for, nothing twice on a re-evaluated tick; the SRE page and the alert rules read them."""

import gzip
from datetime import UTC, date, datetime, timedelta

import boto3
import dagster as dg
import orjson
import pytest

from analytics_pipeline.alerts.evaluation import evaluate_and_dispatch
from analytics_pipeline.alerts.routing import Routes
from analytics_pipeline.alerts.rules import load_rules
from analytics_pipeline.defs.system_health.sensors import metric_stream_sensor
from analytics_pipeline.generator.metric_streams import SERIES, generate_metric_streams, hour_object
from analytics_pipeline.system_health.metric_streams import parse_line, service_name
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.alerts.conftest import webhook  # noqa: F401 (the receiver fixture)
from analytics_pipeline_tests.resources import pipeline_resources

DAY = date(2026, 11, 2)
NOW = datetime(2026, 11, 2, 3, 30, tzinfo=UTC)
INCIDENT = datetime(2026, 11, 2, 2, tzinfo=UTC)


def test_a_documented_line_parses_and_bad_lines_say_why():
    line = (b'{"metric_stream_name":"s","account_id":"1","region":"us-east-1","namespace":"AWS/RDS",'
            b'"metric_name":"DatabaseConnections","dimensions":{"DBInstanceIdentifier":"db1"},'
            b'"timestamp":1762045260000,"value":{"max":40.0,"min":31.0,"sum":142.0,"count":4.0},"unit":"Count"}')
    point, reason, _ = parse_line(line)
    assert reason is None and point.service == "db1" and point.minute == datetime(2025, 11, 2, 1, 1, tzinfo=UTC)
    assert (point.sample_max, point.sample_sum, point.sample_count) == (40.0, 142.0, 4.0)
    assert parse_line(b"{not json")[1] == "invalid_json"
    assert parse_line(b"[1]")[1] == "not_an_object"
    assert parse_line(b'{"namespace":"AWS/RDS"}')[1] == "missing_field"
    bad_value = orjson.loads(line)
    bad_value["value"]["sum"] = "lots"
    assert parse_line(orjson.dumps(bad_value))[1] == "invalid_value"
    assert service_name("AWS/ECS", {"ServiceName": "api", "ClusterName": "prod"}) == "prod/api"
    assert service_name("AWS/ApplicationELB", {}) == "(all)"


@pytest.fixture
def streams(s3_endpoint, s3_bucket, warehouse_url):
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")

    def put(key, body):
        client.put_object(Bucket=s3_bucket, Key=f"metric-streams/{key}", Body=body)

    summary = generate_metric_streams(put, start=DAY, days=1, incident_at=INCIDENT)
    # Firehose retried one object's delivery under another name; and one object has broken lines.
    key, body, _ = hour_object(datetime(2026, 11, 2, 1, tzinfo=UTC), seed=7)
    put(key.replace(".gz", "-retry.gz"), body)
    put("2026/11/02/02/broken.gz", gzip.compress(b'{"oops"\n[]\n' + gzip.decompress(body).split(b"\n")[0] + b"\n"))
    resources = pipeline_resources(warehouse_url, f"s3://{s3_bucket}", s3_endpoint=s3_endpoint, now=NOW)
    return summary, resources


def tick(resources):
    with dg.build_sensor_context(resources={k: resources[k] for k in ("warehouse", "object_storage", "clock")}) as ctx:
        return metric_stream_sensor(ctx)


def test_metric_stream_objects_land_exactly_once(streams, warehouse_url):
    summary, resources = streams
    # The clock is 03:30: the objects of hours to 03:00 are listed (the day prefix), later ones too.
    first = tick(resources)
    assert first.asset_events[0].metadata["objects"].value == 26
    again = tick(resources)
    assert not again.asset_events and "loaded 0 object(s)" in again.skip_reason.skip_message
    minutes_per_object = 60 * len(SERIES)
    with connect(warehouse_url) as conn:
        rows = conn.execute("SELECT count(*), count(DISTINCT (minute, namespace, service, metric_name)) "
                            "FROM analytics_service_minute_metrics").fetchone()
        assert rows == (summary.datapoints, summary.datapoints) == (24 * minutes_per_object,) * 2
        ledger = conn.execute("SELECT sum(lines_read), sum(datapoints), sum(duplicates), sum(rejected) "
                              "FROM analytics_metric_stream_objects").fetchone()
        assert ledger == (24 * minutes_per_object + minutes_per_object + 3, 24 * minutes_per_object,
                          minutes_per_object + 1, 2)
        rejections = conn.execute("SELECT rejections FROM analytics_metric_stream_objects "
                                  "WHERE object_key LIKE '%%broken.gz'").fetchone()[0]
        assert {reason: entry["lines"] for reason, entry in rejections.items()} == {
            "invalid_json": 1, "not_an_object": 1}
        # The load balancer's 5xx of the incident hour, exactly as written.
        five_xx = conn.execute("SELECT sum(sample_sum) FROM analytics_service_minute_metrics WHERE metric_name = "
                               "'HTTPCode_Target_5XX_Count' AND minute >= %s AND minute < %s",
                               (INCIDENT, INCIDENT + timedelta(hours=1))).fetchone()[0]
        assert five_xx >= 60 * 250


def test_metric_thresholds_feed_the_alert_rules(streams, warehouse_url, webhook):  # noqa: F811
    _, resources = streams
    tick(resources)
    rules = load_rules()  # the shipped rules: service CPU above 85 %, load balancer 5xx above 500 in 5 min
    with connect(warehouse_url) as conn:
        for seconds in (0, 60, 120):  # inside the incident hour, past the hold time
            run = evaluate_and_dispatch(conn, rules, Routes(webhook_url=webhook.url),
                                        now=INCIDENT + timedelta(minutes=30, seconds=seconds))
        firing = {row[0] for row in conn.execute("SELECT dedup_key FROM analytics_alerts WHERE status = 'firing'")}
    assert firing == {"service_cpu_high/AWS/ECS/analytics/api",
                      "load_balancer_5xx/AWS/ApplicationELB/app/analytics-api/50dc6c495c0c9188"}
    assert run.evaluation.fired == []  # fired once, on the second evaluation
    assert len(webhook.posts) == 2  # the CPU warning, and the critical 5xx (no PagerDuty key: the webhook)


def test_the_demo_writes_and_loads_a_day_of_metric_streams(warehouse_url, tmp_path, monkeypatch, capsys):
    import argparse

    from analytics_pipeline.cli.demo import demo_metric_streams
    from analytics_pipeline.settings import current_settings, load_settings

    monkeypatch.setenv("ANALYTICS_DATABASE_URL", warehouse_url)
    monkeypatch.setenv("ANALYTICS_METRIC_STREAMS_URL", str(tmp_path / "streams"))
    current_settings.cache_clear()
    try:
        demo_metric_streams(argparse.Namespace(start=DAY, days=1, seed=7), load_settings())
    finally:
        current_settings.cache_clear()
    assert "generated and loaded 24 CloudWatch metric-stream objects (14,400 datapoints" in capsys.readouterr().out
    with connect(warehouse_url) as conn:
        assert conn.execute("SELECT count(*) FROM analytics_metric_stream_objects").fetchone()[0] == 24
