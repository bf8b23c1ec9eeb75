"""usage_log_sensor on an S3 bucket (moto's server) with new, seen and overwritten objects."""

import gzip
from datetime import UTC, datetime, timedelta

import dagster as dg
import orjson
import pytest

from analytics_pipeline.defs.ingestion.assets import raw_usage_events
from analytics_pipeline.defs.ingestion.sensors import usage_log_sensor
from analytics_pipeline.defs.rollups.sensors import daily_rollups_follow_hours_sensor, usage_rollup_restatement_sensor
from analytics_pipeline.defs.shared import contiguous_ranges, hourly_partitions
from analytics_pipeline.ingestion.contract import EventValidator
from analytics_pipeline.ingestion.loader import ObjectLoader
from analytics_pipeline.rollups.pricing import parse_catalog, read_catalog_text, replace_model_prices
from analytics_pipeline.rollups.usage import Granularity, replace_usage_rollups
from analytics_pipeline.storage.object_store import S3ObjectStore
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.resources import pipeline_resources

NOW = datetime(2026, 7, 8, 16, tzinfo=UTC)  # the sensor's clock


def log_object(request_ids, hour):
    lines = [orjson.dumps({"timestamp": (hour + timedelta(minutes=1)).isoformat(), "customer_id": "org-1",
                           "request_id": r, "status_code": 200}) for r in request_ids]
    return gzip.compress(b"\n".join(lines) + b"\n", mtime=0)


@pytest.fixture
def resources(warehouse_url, s3_endpoint, s3_bucket):
    return pipeline_resources(warehouse_url, f"s3://{s3_bucket}", s3_endpoint=s3_endpoint, now=NOW,
                              environ={"ANALYTICS_SENSOR_LOOKBACK_DAYS": "2"})


def evaluate(resources, instance):
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        return usage_log_sensor(context)


def test_sensor_requests_new_hours_skips_seen_and_rerequests_overwritten(resources, s3_client, s3_bucket,
                                                                         warehouse_url):
    store = S3ObjectStore(s3_client, s3_bucket, "logs")
    h1, h2 = NOW - timedelta(hours=5), NOW - timedelta(hours=1)
    old = NOW - timedelta(days=5)
    seen = store.write(f"{h1:%Y/%m/%d/%H}/stream-seen.jsonl.gz", log_object(["a", "b"], h1))
    new = store.write(f"{h1:%Y/%m/%d/%H}/stream-new.jsonl.gz", log_object(["c"], h1))
    other = store.write(f"{h2:%Y/%m/%d/%H}/stream-other.jsonl.gz", log_object(["d"], h2))
    store.write(f"{old:%Y/%m/%d/%H}/stream-too-old.jsonl.gz", log_object(["e"], old))  # outside the look-back

    with connect(warehouse_url) as conn, connect(warehouse_url, autocommit=True) as ddl:
        loader = ObjectLoader(conn, ddl, EventValidator(now=NOW))
        assert loader.ingest(store, seen).status == "loaded"

    with dg.instance_for_test() as instance:
        result = evaluate(resources, instance)
        requests = {r.partition_key: r for r in result.run_requests}
        assert set(requests) == {h1.strftime("%Y-%m-%d-%H:%M"), h2.strftime("%Y-%m-%d-%H:%M")}
        keys = requests[h1.strftime("%Y-%m-%d-%H:%M")].run_config["ops"]["raw_usage_events"]["config"]["object_keys"]
        assert keys == [new.key]  # the seen object is not requested again
        assert requests[h2.strftime("%Y-%m-%d-%H:%M")].run_config["ops"]["raw_usage_events"]["config"][
            "object_keys"] == [other.key]

        # Evaluated again before anything ran: the same run keys, so Dagster launches nothing twice.
        again = evaluate(resources, instance)
        assert {r.run_key for r in again.run_requests} == {r.run_key for r in result.run_requests}

        # Overwriting the seen object (new etag) makes it new again, under a new run key.
        overwritten = store.write(seen.key, log_object(["a", "b", "z"], h1))
        assert overwritten.etag != seen.etag
        third = {r.partition_key: r for r in evaluate(resources, instance).run_requests}
        h1_request = third[h1.strftime("%Y-%m-%d-%H:%M")]
        assert sorted(h1_request.run_config["ops"]["raw_usage_events"]["config"]["object_keys"]) == sorted(
            [new.key, seen.key])
        assert h1_request.run_key != requests[h1.strftime("%Y-%m-%d-%H:%M")].run_key


def test_sensor_with_nothing_new_requests_nothing(resources):
    with dg.instance_for_test() as instance:
        assert evaluate(resources, instance).run_requests == []


def test_contiguous_ranges_group_consecutive_hours():
    keys = ["2026-01-01-03:00", "2026-01-01-01:00", "2026-01-01-02:00", "2026-01-01-07:00", "2026-01-01-02:00"]
    assert contiguous_ranges(keys, hourly_partitions) == [
        ("2026-01-01-01:00", "2026-01-01-03:00"), ("2026-01-01-07:00", "2026-01-01-07:00")]
    assert contiguous_ranges(["1999-01-01-00:00"], hourly_partitions) == []  # before the first partition


def test_restatement_requests_only_the_hours_whose_rollups_lag_their_events(warehouse_url, s3_endpoint, s3_bucket,
                                                                           s3_client, dagster_instance):
    store = S3ObjectStore(s3_client, s3_bucket, "logs")
    resources = pipeline_resources(warehouse_url, f"s3://{s3_bucket}", s3_endpoint=s3_endpoint, now=NOW)
    with connect(warehouse_url) as conn, conn.transaction():
        replace_model_prices(conn, parse_catalog(read_catalog_text(None)))
    h3, h4, h5, h6 = (NOW - timedelta(hours=n) for n in (6, 5, 4, 3))

    def deliver(hour, name, event_hours):
        lines = [orjson.dumps({"timestamp": (at + timedelta(minutes=10)).isoformat(), "customer_id": "org-1",
                               "request_id": f"{name}-{i}", "status_code": 200}) for i, at in enumerate(event_hours)]
        store.write(f"{hour:%Y/%m/%d/%H}/{name}.jsonl.gz", gzip.compress(b"\n".join(lines) + b"\n", mtime=0))
        dg.materialize([raw_usage_events], instance=dagster_instance, resources=resources,
                       partition_key=hour.strftime("%Y-%m-%d-%H:%M"))

    def tick(cursor=None):
        with dg.build_sensor_context(instance=dagster_instance, cursor=cursor, resources=resources) as context:
            result = usage_rollup_restatement_sensor(context)
        return result, [(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
                        for r in result.run_requests]

    def key(hour):
        return hour.strftime("%Y-%m-%d-%H:%M")

    deliver(h5, "first", [h3, h4, h5, h5])  # two late hours and its own
    first, ranges = tick()
    assert ranges == [(key(h3), key(h5))]
    assert all(r.job_name == "hourly_rollups_job" for r in first.run_requests)

    with connect(warehouse_url) as conn:  # what hourly_rollups_job does for 03:00..05:00
        replace_usage_rollups(conn, Granularity.HOURLY, h3, h6)
    # The same materializations, read again from the start: every hour they touched is rolled up.
    assert tick()[1] == []
    assert tick(first.cursor)[1] == []  # nothing new either

    deliver(h6, "late", [h4, h6])  # a late event for 04:00, and 06:00's own
    late, ranges = tick(first.cursor)
    assert ranges == [(key(h4), key(h4)), (key(h6), key(h6))]  # 03:00 and 05:00 are up to date
    with connect(warehouse_url) as conn:
        replace_usage_rollups(conn, Granularity.HOURLY, h4, h5)
        replace_usage_rollups(conn, Granularity.HOURLY, h6, h6 + timedelta(hours=1))
    assert tick(first.cursor)[1] == []


@dg.op
def _nothing():
    pass


@dg.job
def _finished_hourly_run():
    _nothing()


def _run_success_context(instance, tags):
    result = _finished_hourly_run.execute_in_process(instance=instance, tags=tags)
    success = instance.get_records_for_run(result.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS).records[0]
    return dg.build_run_status_sensor_context(
        sensor_name="daily_rollups_follow_hours_sensor", dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id), dagster_event=success.event_log_entry.dagster_event)


def test_days_follow_a_successful_hourly_run():
    with dg.instance_for_test() as instance:
        context = _run_success_context(instance, {"dagster/asset_partition_range_start": "2026-01-01-22:00",
                                                  "dagster/asset_partition_range_end": "2026-01-03-01:00"})
        request = daily_rollups_follow_hours_sensor(context)
        assert isinstance(request, dg.RunRequest)
        assert (request.tags["dagster/asset_partition_range_start"],
                request.tags["dagster/asset_partition_range_end"]) == ("2026-01-01", "2026-01-03")
        assert request.run_key == f"{context.dagster_run.run_id}:days"

        single = daily_rollups_follow_hours_sensor(_run_success_context(instance, {"dagster/partition":
                                                                                   "2026-01-05-07:00"}))
        assert single.tags["dagster/asset_partition_range_start"] == "2026-01-05"
        assert isinstance(daily_rollups_follow_hours_sensor(_run_success_context(instance, {})), dg.SkipReason)
