"""build_metrics_sensor on an S3 bucket (moto's server): new, seen and overwritten run files."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from analytics_pipeline.build_metrics.loader import RunFileLoader
from analytics_pipeline.defs.build_metrics.sensors import build_metrics_sensor
from analytics_pipeline.delivery.discovery import run_key_for
from analytics_pipeline.storage.object_store import S3ObjectStore, StoredObject
from analytics_pipeline.warehouse.database import connect
from analytics_pipeline_tests.build_metrics.payloads import run_key, timed_run
from analytics_pipeline_tests.resources import pipeline_resources

TODAY = datetime(2026, 5, 20, tzinfo=UTC)  # the sensor's clock: 00:00 of a fixed day


@pytest.fixture
def store(s3_client, s3_bucket):
    return S3ObjectStore(s3_client, s3_bucket, "ci")


@pytest.fixture
def resources(warehouse_url, s3_endpoint, s3_bucket):
    return pipeline_resources(warehouse_url, f"s3://{s3_bucket}", s3_endpoint=s3_endpoint,
                              build_metrics_url=f"s3://{s3_bucket}/ci", now=TODAY + timedelta(hours=12),
                              environ={"ANALYTICS_SENSOR_LOOKBACK_DAYS": "2"})


def evaluate(resources, instance):
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        return build_metrics_sensor(context)


def put(store, day, run_id, seconds=100.0):
    return store.write(run_key(day, run_id), timed_run(run_id, day + timedelta(hours=1), seconds))


def keys_of(request):
    return request.run_config["ops"]["ci_build_runs"]["config"]["object_keys"]


def test_sensor_requests_new_days_skips_seen_and_rerequests_overwritten(store, resources, warehouse_url,
                                                                        dagster_instance):
    yesterday = TODAY - timedelta(days=1)
    seen = put(store, yesterday, "ci-seen")
    new = put(store, yesterday, "ci-new")
    today = put(store, TODAY, "ci-today")
    put(store, TODAY - timedelta(days=5), "ci-too-old")  # outside the look-back
    store.write(f"metrics/{TODAY:%Y/%m/%d}/README.txt", b"not a run file")
    with connect(warehouse_url) as conn:
        assert RunFileLoader(conn).ingest(store, seen).outcome == "accepted"

    result = evaluate(resources, dagster_instance)
    requests = {r.partition_key: r for r in result.run_requests}
    assert set(requests) == {f"{yesterday:%Y-%m-%d}", f"{TODAY:%Y-%m-%d}"}
    assert keys_of(requests[f"{yesterday:%Y-%m-%d}"]) == [new.key]  # the seen file is not requested again
    assert keys_of(requests[f"{TODAY:%Y-%m-%d}"]) == [today.key]
    assert build_metrics_sensor.job_name == "build_metrics_job"

    # Evaluated again before anything ran: the same run keys, so Dagster launches nothing twice.
    again = evaluate(resources, dagster_instance)
    assert {r.run_key for r in again.run_requests} == {r.run_key for r in result.run_requests}

    # Overwriting the seen file (new etag) makes it new again, under a new run key.
    overwritten = put(store, yesterday, "ci-seen", seconds=130.0)
    assert overwritten.etag != seen.etag
    third = {r.partition_key: r for r in evaluate(resources, dagster_instance).run_requests}
    request = third[f"{yesterday:%Y-%m-%d}"]
    assert keys_of(request) == sorted([new.key, seen.key])
    assert request.run_key != requests[f"{yesterday:%Y-%m-%d}"].run_key


def test_sensor_with_nothing_new_requests_nothing(store, resources, dagster_instance):
    assert evaluate(resources, dagster_instance).run_requests == []


def test_run_keys_depend_on_keys_and_etags_not_order():
    a = StoredObject("metrics/a.json", 1, "e1", TODAY)
    b = StoredObject("metrics/b.json", 1, "e2", TODAY)
    assert run_key_for([a, b]) == run_key_for([b, a])
    assert run_key_for([a, b]) != run_key_for([a, StoredObject("metrics/b.json", 1, "e3", TODAY)])
