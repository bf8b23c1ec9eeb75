"""Alert rules as code: the rules document (TOML or JSON, read by :mod:`analytics_pipeline.configuration.documents`)
parsed into :class:`RuleSet`, refused with :class:`RulesFileError` naming the file and the rule.

The shipped rules (``default_rules.toml`` beside this module) document every kind and its
parameters; ``ANALYTICS_ALERT_RULES_FILE`` replaces them. Pure: no warehouse, no Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from analytics_pipeline.alerts.routing import PIPELINE_RULES
from analytics_pipeline.configuration.documents import parse_document

SHIPPED_RULES = Path(__file__).resolve().parent / "default_rules.toml"
SEVERITIES = ("critical", "warning", "info")

#: Each kind of rule and its parameters with their defaults (a type instead of a default: required).
KIND_PARAMETERS: dict[str, dict[str, Any]] = {
    "endpoint_availability": {"degraded_severity": "warning"},
    "endpoint_5xx_rate": {"above_percent": float, "min_requests": 50},
    "endpoint_p95_latency": {"above_ms": float, "min_requests": 50},
    "organization_error_rate": {"baseline_hours": 168, "factor": 3.0, "min_increase_percent": 5.0,
                                "min_errors": 20},
    "ingestion_stalled": {"stalled_minutes": 30, "expected_hours": 24},
    "export_queue_stuck": {"pending_minutes": 15},
    "service_metric_above": {"metric_name": str, "above": float, "minutes": 5, "statistic": "mean"},
}
STATISTICS = ("mean", "max", "sum")
EVALUATION_DEFAULTS = {"window_minutes": 15, "hold_seconds": 30, "renotify_minutes": 60,
                       "retry_max_backoff_seconds": 900}


class RulesFileError(ValueError):
    """The rules document cannot be used; the message names the file and the rule."""


@dataclass(frozen=True)
class Rule:
    """One rule: its unique name, its kind (:data:`KIND_PARAMETERS`), severity and parameters."""

    name: str
    kind: str
    severity: str
    params: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, parameter: str) -> Any:
        return self.params[parameter]


@dataclass(frozen=True)
class RuleSet:
    """The rules and how they are evaluated (the ``[evaluation]`` table)."""

    rules: tuple[Rule, ...]
    window_minutes: int = EVALUATION_DEFAULTS["window_minutes"]
    hold_seconds: int = EVALUATION_DEFAULTS["hold_seconds"]
    renotify_minutes: int = EVALUATION_DEFAULTS["renotify_minutes"]
    retry_max_backoff_seconds: int = EVALUATION_DEFAULTS["retry_max_backoff_seconds"]

    def of_kind(self, kind: str) -> list[Rule]:
        return [rule for rule in self.rules if rule.kind == kind]

    @property
    def names(self) -> set[str]:
        return {rule.name for rule in self.rules}


def _plain(value: Any, default: Any, where: str) -> Any:
    """A parameter as the type of its default: exact Decimals become int or float."""
    if isinstance(value, bool) or isinstance(default, bool):
        raise RulesFileError(f"{where}: booleans are not parameters of rules")
    if isinstance(value, Decimal | int | float):
        if isinstance(default, str):
            raise RulesFileError(f"{where}: must be text, not {value}")
        if isinstance(default, int) and value == int(value):
            return int(value)
        return float(value)
    if isinstance(value, str):
        if isinstance(default, int | float):
            raise RulesFileError(f"{where}: must be a number, not {value!r}")
        return value
    raise RulesFileError(f"{where}: must be a number or text")


def _rule(entry: Any, index: int, source: str) -> Rule:
    where = f"{source}: rule {index + 1}"
    if not isinstance(entry, dict):
        raise RulesFileError(f"{where}: must be a table/object")
    name, kind, severity = entry.get("name"), entry.get("kind"), entry.get("severity")
    if not isinstance(name, str) or not name.strip():
        raise RulesFileError(f"{where}: needs a name")
    where = f"{source}: rule {name!r}"
    if name in PIPELINE_RULES:
        raise RulesFileError(f"{where}: the name is reserved for the pipeline's own alerts")
    if kind not in KIND_PARAMETERS:
        raise RulesFileError(f"{where}: unknown kind {kind!r} (one of {', '.join(KIND_PARAMETERS)})")
    if severity not in SEVERITIES:
        raise RulesFileError(f"{where}: severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    known = KIND_PARAMETERS[kind]
    unknown = sorted(set(entry) - set(known) - {"name", "kind", "severity", "description"})
    if unknown:
        raise RulesFileError(f"{where}: unknown parameter(s) {', '.join(unknown)} for kind {kind}")
    params: dict[str, Any] = {}
    for parameter, default in known.items():
        required = isinstance(default, type)
        if parameter not in entry:
            if required:
                raise RulesFileError(f"{where}: needs {parameter}")
            params[parameter] = default
            continue
        value = _plain(entry[parameter], default() if required else default, f"{where}: {parameter}")
        if isinstance(value, int | float) and value < 0:
            raise RulesFileError(f"{where}: {parameter} must be 0 or more")
        params[parameter] = value
    if kind == "service_metric_above":
        if params["statistic"] not in STATISTICS:
            raise RulesFileError(f"{where}: statistic must be one of {', '.join(STATISTICS)}")
    if kind == "endpoint_availability" and params["degraded_severity"] not in SEVERITIES:
        raise RulesFileError(f"{where}: degraded_severity must be one of {', '.join(SEVERITIES)}")
    return Rule(name=name, kind=kind, severity=severity, params=params)


def parse_rules(text: str, *, fmt: str = "toml", source: str = "alert rules") -> RuleSet:
    """The rules of a document in ``fmt`` ("toml" or "json"); :class:`RulesFileError` if unusable."""
    data = parse_document(text, fmt=fmt, source=source, kind="alert rules", error=RulesFileError)
    unknown = sorted(set(data) - {"evaluation", "rules"})
    if unknown:
        raise RulesFileError(f"{source}: unknown table(s) {', '.join(unknown)} (evaluation, rules)")
    evaluation = data.get("evaluation", {})
    if not isinstance(evaluation, dict) or set(evaluation) - set(EVALUATION_DEFAULTS):
        raise RulesFileError(f"{source}: [evaluation] takes only {', '.join(EVALUATION_DEFAULTS)}")
    timing = {}
    for name, default in EVALUATION_DEFAULTS.items():
        value = _plain(evaluation.get(name, default), default, f"{source}: evaluation.{name}")
        if not isinstance(value, int) or value < (1 if name != "hold_seconds" else 0):
            raise RulesFileError(f"{source}: evaluation.{name} must be a whole number"
                                 f"{' of 0 or more' if name == 'hold_seconds' else ' of 1 or more'}")
        timing[name] = value
    entries = data.get("rules", [])
    if not isinstance(entries, list):
        raise RulesFileError(f"{source}: rules must be an array of tables")
    rules = tuple(_rule(entry, index, source) for index, entry in enumerate(entries))
    names = [rule.name for rule in rules]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise RulesFileError(f"{source}: rule names must be unique: {', '.join(duplicated)}")
    return RuleSet(rules=rules, **timing)


def load_rules(path: str | Path | None = None) -> RuleSet:
    """The rules of ``path`` (``.toml`` or ``.json``), or the shipped rules when None."""
    location = Path(path) if path else SHIPPED_RULES
    fmt = "json" if location.suffix.lower() == ".json" else "toml"
    try:
        text = location.read_text(encoding="utf-8")
    except OSError as problem:
        raise RulesFileError(f"{location}: cannot be read: {problem}") from None
    return parse_rules(text, fmt=fmt, source=str(location))
