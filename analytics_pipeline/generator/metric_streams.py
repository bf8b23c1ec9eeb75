"""Deterministic synthetic CloudWatch Metric Streams objects, laid out as Firehose delivers them::

    YYYY/MM/DD/HH/platform-metrics-1-YYYY-MM-DD-HH-MM-SS-<hex>.gz    (gzip, one JSON datapoint per line)

One object per hour of ``days`` days from ``start``, with a datapoint per minute of each series
(:data:`SERIES`): the API's and the worker's ECS CPU and memory, the ingest Lambda's Lambda
Insights CPU time and memory, the warehouse's RDS CPU and connections, the load balancer's
requests and 5xx. Values follow a daily curve (busier in UTC daytime) with seeded noise;
``incident_at`` plants one hour of saturated CPU on the API service and a burst of 5xx at the load
balancer (the alert rules' demo). Identical arguments give identical objects.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from analytics_pipeline.system_health.metric_streams import datapoint_line

STREAM = "platform-metrics"
ACCOUNT = "123456789012"
REGION = "us-east-1"
LOAD_BALANCER = "app/analytics-api/50dc6c495c0c9188"

#: (namespace, dimensions, metric, unit, base, daily swing, noise, kind): kind "gauge" (a level, e.g. %) or
#: "count" (a count per minute, its sum).
SERIES = (
    ("AWS/ECS", {"ClusterName": "analytics", "ServiceName": "api"}, "CPUUtilization", "Percent", 35, 25, 4, "gauge"),
    ("AWS/ECS", {"ClusterName": "analytics", "ServiceName": "api"}, "MemoryUtilization", "Percent", 55, 8, 2, "gauge"),
    ("AWS/ECS", {"ClusterName": "analytics", "ServiceName": "worker"}, "CPUUtilization", "Percent", 20, 10, 3,
     "gauge"),
    ("AWS/ECS", {"ClusterName": "analytics", "ServiceName": "worker"}, "MemoryUtilization", "Percent", 45, 5, 2,
     "gauge"),
    ("LambdaInsights", {"function_name": "usage-ingest"}, "cpu_total_time", "Milliseconds", 120, 60, 15, "gauge"),
    ("LambdaInsights", {"function_name": "usage-ingest"}, "memory_utilization", "Percent", 40, 10, 3, "gauge"),
    ("AWS/RDS", {"DBInstanceIdentifier": "analytics-warehouse"}, "CPUUtilization", "Percent", 30, 20, 3, "gauge"),
    ("AWS/RDS", {"DBInstanceIdentifier": "analytics-warehouse"}, "DatabaseConnections", "Count", 40, 25, 4, "gauge"),
    ("AWS/ApplicationELB", {"LoadBalancer": LOAD_BALANCER}, "RequestCount", "Count", 900, 600, 60, "count"),
    ("AWS/ApplicationELB", {"LoadBalancer": LOAD_BALANCER}, "HTTPCode_Target_5XX_Count", "Count", 1, 1, 1, "count"),
)


@dataclass
class MetricStreamSummary:
    objects_written: int = 0
    datapoints: int = 0


def _level(base: float, swing: float, minute: datetime) -> float:
    """A daily curve: lowest at 03:00 UTC, highest at 15:00."""
    hours = minute.hour + minute.minute / 60
    return base + swing * (0.5 - 0.5 * math.cos((hours - 3) / 24 * 2 * math.pi))


def hour_object(hour: datetime, *, seed: int, incident: bool = False) -> tuple[str, bytes, int]:
    """The key, gzip body and datapoint count of the object of one hour."""
    rng = random.Random(f"{seed}:{hour.isoformat()}")
    lines = []
    for minute_index in range(60):
        minute = hour + timedelta(minutes=minute_index)
        for namespace, dimensions, metric, unit, base, swing, noise, kind in SERIES:
            level = max(0.0, _level(base, swing, minute) + rng.gauss(0, noise))
            if incident and dimensions.get("ServiceName") == "api" and metric == "CPUUtilization":
                level = 96.0 + rng.random() * 3
            if incident and metric == "HTTPCode_Target_5XX_Count":
                level = 250.0 + rng.random() * 50
            if kind == "count":
                total = float(round(level))
                lines.append(datapoint_line(stream=STREAM, account_id=ACCOUNT, region=REGION, namespace=namespace,
                                            metric_name=metric, dimensions=dimensions, minute=minute,
                                            maximum=total, minimum=total, total=total, count=1.0, unit=unit))
            else:
                samples = 4.0  # a datapoint a quarter minute
                high, low = min(level * 1.15, 100.0 if unit == "Percent" else level * 1.15), level * 0.85
                lines.append(datapoint_line(stream=STREAM, account_id=ACCOUNT, region=REGION, namespace=namespace,
                                            metric_name=metric, dimensions=dimensions, minute=minute,
                                            maximum=round(max(high, level), 3), minimum=round(min(low, level), 3),
                                            total=round(level * samples, 3), count=samples, unit=unit))
    body = b"\n".join(lines) + b"\n"
    suffix = hashlib.sha256(f"{seed}:{hour.isoformat()}".encode()).hexdigest()[:12]
    key = f"{hour:%Y/%m/%d/%H}/{STREAM}-1-{hour:%Y-%m-%d-%H}-00-00-{suffix}.gz"
    return key, gzip.compress(body, mtime=0), len(lines)


def generate_metric_streams(write_object: Callable[[str, bytes], object], *, start: date, days: int, seed: int = 7,
                            incident_at: datetime | None = None) -> MetricStreamSummary:
    """Write one metric-stream object per hour of ``days`` days from ``start``."""
    summary = MetricStreamSummary()
    first = datetime.combine(start, time(), UTC)
    for index in range(days * 24):
        hour = first + timedelta(hours=index)
        key, body, count = hour_object(hour, seed=seed, incident=incident_at is not None and hour == incident_at)
        write_object(key, body)
        summary.objects_written += 1
        summary.datapoints += count
    return summary
