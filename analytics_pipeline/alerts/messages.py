"""Text helpers of alert messages: Slack escaping, clipping, the Dagster UI links, and which run
tags and check metadata are worth showing. (The messages themselves: :mod:`.routing`.)"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlencode

MAX_ERROR_CHARS = 1_500
MAX_TAGS = 10
MAX_VALUE_CHARS = 200

FieldValue = str | int | float | None


def slack_escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis when cut."""
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
    shown = {k: clip(str(v), MAX_VALUE_CHARS) for k, v in sorted(tags.items()) if not k.startswith(".")}
    return dict(list(shown.items())[:MAX_TAGS])


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
