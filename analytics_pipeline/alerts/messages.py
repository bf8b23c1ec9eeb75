"""Alert messages: a Slack-compatible ``text`` plus the same facts as structured fields.

The payload posted to ``ANALYTICS_ALERT_WEBHOOK_URL`` is::

    {"text": "<Slack mrkdwn summary with a link>",
     "alert": {"kind": "run_failure" | "asset_check", "severity": "error" | "warning",
               "title": ..., "summary": ..., "link": ..., "fields": {...}}}

Slack incoming webhooks show ``text`` and ignore ``alert``; other receivers read ``alert``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

MAX_ERROR_CHARS = 1_500
MAX_TAGS = 10
MAX_VALUE_CHARS = 200

FieldValue = str | int | float | None


@dataclass(frozen=True)
class Alert:
    kind: str  # run_failure | asset_check
    severity: str  # error | warning
    title: str
    summary: str
    link: str
    fields: dict[str, FieldValue] = field(default_factory=dict)

    def payload(self) -> dict:
        """The JSON body to post."""
        icon = ":red_circle:" if self.severity == "error" else ":warning:"
        lines = [f"{icon} *{slack_escape(self.title)}*"]
        if self.summary:
            lines.append(slack_escape(self.summary))
        lines += [f"• {slack_escape(name)}: {slack_escape(_show(value))}" for name, value in self.fields.items()
                  if value is not None and value != ""]
        lines.append(f"<{self.link}|Open in Dagster>")
        return {
            "text": "\n".join(lines),
            "alert": {"kind": self.kind, "severity": self.severity, "title": self.title, "summary": self.summary,
                      "link": self.link, "fields": dict(self.fields)},
        }


def slack_escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _show(value: FieldValue) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_url(ui_url: str, run_id: str) -> str:
    """The run's page in the Dagster UI."""
    return f"{ui_url.rstrip('/')}/runs/{quote(run_id, safe='')}"


def asset_checks_url(ui_url: str, asset_path: Sequence[str], check_name: str) -> str:
    """The asset's checks tab in the Dagster UI, opened on ``check_name``."""
    path = "/".join(quote(part, safe="") for part in asset_path)
    return f"{ui_url.rstrip('/')}/assets/{path}?{urlencode({'view': 'checks', 'checkDetail': check_name})}"


def visible_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The run tags worth showing: no hidden (``.dagster/...``) ones, at most MAX_TAGS, values clipped."""
    shown = {k: _clip(str(v), MAX_VALUE_CHARS) for k, v in sorted(tags.items()) if not k.startswith(".")}
    return dict(list(shown.items())[:MAX_TAGS])


def run_failure_alert(*, ui_url: str, job_name: str, run_id: str, error: str, partition: str | None,
                      tags: Mapping[str, str]) -> Alert:
    """The alert for a failed run."""
    fields: dict[str, FieldValue] = {"job": job_name, "run_id": run_id, "partition": partition}
    fields.update({f"tag {k}": v for k, v in visible_tags(tags).items()})
    return Alert(
        kind="run_failure",
        severity="error",
        title=f"Run of {job_name} failed" + (f" (partition {partition})" if partition else ""),
        summary=_clip(error.strip() or "no error message", MAX_ERROR_CHARS),
        link=run_url(ui_url, run_id),
        fields=fields,
    )


def numeric_or_short(metadata: Mapping[str, object], limit: int = 12) -> dict[str, FieldValue]:
    """The metadata entries fit for an alert: finite numbers and short texts, at most ``limit``."""
    kept: dict[str, FieldValue] = {}
    for name, value in metadata.items():
        if len(kept) >= limit:
            break
        if isinstance(value, bool):
            kept[name] = str(value).lower()
        elif isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
            kept[name] = value
        elif isinstance(value, str) and len(value) <= MAX_VALUE_CHARS:
            kept[name] = value
    return kept


def asset_check_alert(*, ui_url: str, asset_path: Sequence[str], check_name: str, severity: str,
                      description: str | None, partition: str | None, run_id: str | None,
                      metadata: Mapping[str, FieldValue]) -> Alert:
    """The alert for a check evaluation that failed (``severity="error"``) or warned (``"warning"``)."""
    asset = "/".join(asset_path)
    outcome = "failed" if severity == "error" else "warned"
    fields: dict[str, FieldValue] = {"check": check_name, "asset": asset, "partition": partition, "run_id": run_id}
    fields.update({name: value for name, value in metadata.items() if name not in fields})
    return Alert(
        kind="asset_check",
        severity=severity,
        title=f"Check {check_name} on {asset} {outcome}" + (f" (partition {partition})" if partition else ""),
        summary=_clip((description or "").strip(), MAX_ERROR_CHARS),
        link=asset_checks_url(ui_url, asset_path, check_name),
        fields=fields,
    )
