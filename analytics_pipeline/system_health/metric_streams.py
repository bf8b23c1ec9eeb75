"""CloudWatch Metric Streams' JSON output format, one datapoint per line.

AWS documents each line (``OutputFormat: json``) as an object::

    {"metric_stream_name": "platform", "account_id": "123456789012", "region": "us-east-1",
     "namespace": "AWS/ECS", "metric_name": "CPUUtilization",
     "dimensions": {"ClusterName": "prod", "ServiceName": "api"},
     "timestamp": 1730628000000, "value": {"max": 71.2, "min": 12.0, "sum": 410.5, "count": 10.0},
     "unit": "Percent"}

``timestamp`` is milliseconds since the epoch (the start of the minute aggregated); ``value`` holds
the statistics of the minute. :func:`parse_line` turns a line into a :class:`Datapoint` or a
rejection reason; a datapoint belongs to a **service**, named from its dimensions
(:func:`service_name`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

#: Per namespace, the dimensions that name a service, most significant first (others follow, sorted).
SERVICE_DIMENSIONS = {
    "AWS/ECS": ("ClusterName", "ServiceName"),
    "ECS/ContainerInsights": ("ClusterName", "ServiceName"),
    "AWS/Lambda": ("FunctionName", "Resource"),
    "LambdaInsights": ("function_name",),
    "AWS/RDS": ("DBClusterIdentifier", "DBInstanceIdentifier"),
    "AWS/ApplicationELB": ("LoadBalancer", "TargetGroup"),
}
ALL = "(all)"
STATISTICS = ("max", "min", "sum", "count")
MAX_NAME_CHARS = 255
REJECTIONS = ("invalid_json", "not_an_object", "missing_field", "invalid_field", "invalid_value")


@dataclass(frozen=True)
class Datapoint:
    """One metric of one service over one minute."""

    minute: datetime
    namespace: str
    service: str
    metric_name: str
    unit: str | None
    sample_max: float
    sample_min: float
    sample_sum: float
    sample_count: float
    account_id: str | None
    region: str | None

    @property
    def key(self) -> tuple:
        return (self.minute, self.namespace, self.service, self.metric_name)


def service_name(namespace: str, dimensions: dict[str, str]) -> str:
    """The service a datapoint's dimensions name: their values joined by ``/``, the namespace's naming
    dimensions first; ``(all)`` for a datapoint without dimensions (a namespace-wide aggregate)."""
    if not dimensions:
        return ALL
    preferred = [name for name in SERVICE_DIMENSIONS.get(namespace, ()) if name in dimensions]
    rest = sorted(name for name in dimensions if name not in preferred)
    return "/".join(str(dimensions[name]) for name in [*preferred, *rest])


def _name(body: dict, field: str, *, required: bool = True) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_NAME_CHARS:
        raise ValueError(field)
    return value


def parse_line(line: bytes) -> tuple[Datapoint | None, str | None, str | None]:
    """``(datapoint, None, None)`` for a good line, else ``(None, reason, detail)``."""
    try:
        body = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        return None, "invalid_json", str(error)[:200]
    if not isinstance(body, dict):
        return None, "not_an_object", f"a JSON {type(body).__name__}, not an object"
    missing = [f for f in ("namespace", "metric_name", "timestamp", "value") if f not in body]
    if missing:
        return None, "missing_field", f"no {', '.join(missing)}"
    try:
        namespace, metric_name = _name(body, "namespace"), _name(body, "metric_name")
        account_id, region, unit = (_name(body, f, required=False) for f in ("account_id", "region", "unit"))
        dimensions = body.get("dimensions") or {}
        if not isinstance(dimensions, dict) or not all(isinstance(v, str) for v in dimensions.values()):
            raise ValueError("dimensions")
        stamp = body["timestamp"]
        if isinstance(stamp, bool) or not isinstance(stamp, int) or not 0 <= stamp < 32503680000000:
            raise ValueError("timestamp")
    except ValueError as error:
        return None, "invalid_field", f"{error} is not valid"
    value = body["value"]
    if not isinstance(value, dict):
        return None, "invalid_value", "value is not an object of max, min, sum, count"
    stats = {}
    for name in STATISTICS:
        number = value.get(name)
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            return None, "invalid_value", f"value.{name} is not a finite number"
        stats[name] = float(number)
    if stats["count"] <= 0 or stats["min"] > stats["max"]:
        return None, "invalid_value", "count must be positive and min at most max"
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=stamp)
    return Datapoint(moment.replace(second=0, microsecond=0), namespace, service_name(namespace, dimensions),
                     metric_name, unit, stats["max"], stats["min"], stats["sum"], stats["count"], account_id,
                     region), None, None


def datapoint_line(*, stream: str, account_id: str, region: str, namespace: str, metric_name: str,
                   dimensions: dict[str, str], minute: datetime, maximum: float, minimum: float, total: float,
                   count: float, unit: str) -> bytes:
    """One line of the format, as CloudWatch writes it (the generator's and the tests' writer)."""
    return orjson.dumps({
        "metric_stream_name": stream, "account_id": account_id, "region": region, "namespace": namespace,
        "metric_name": metric_name, "dimensions": dimensions,
        "timestamp": int(minute.timestamp() * 1000),
        "value": {"max": maximum, "min": minimum, "sum": total, "count": count}, "unit": unit})
