"""POST an alert as JSON to a webhook, with retries; never raises.

Network errors (refused, reset, timeout), 5xx and 429 answers are retried with exponential
backoff (``backoff_seconds`` x 1, 2, 4, ...); another 4xx is the receiver rejecting this message
and is not retried. The caller gets a :class:`Delivery` saying what happened, so a sensor can log
a clear error and carry on instead of failing its tick.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

DEFAULT_ATTEMPTS = 3
DEFAULT_BACKOFF_SECONDS = 0.5
DEFAULT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Delivery:
    """The outcome of :func:`post_json`."""

    delivered: bool
    attempts: int
    status: int | None = None  # the last HTTP status, None if no answer came
    error: str | None = None
    retryable: bool = False  # a later try may succeed (network error, 5xx, 429)


def _retryable_status(status: int) -> bool:
    return status >= 500 or status == 429


def post_json(url: str, payload: dict, *, attempts: int = DEFAULT_ATTEMPTS,
              backoff_seconds: float = DEFAULT_BACKOFF_SECONDS, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
              sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """POST ``payload`` to ``url`` (http or https); a 2xx answer is delivered."""
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):  # the URL itself is never logged: webhook URLs carry secrets
        return Delivery(False, 0, error=f"the webhook URL is not http(s) (scheme {scheme!r})")
    try:
        body = json.dumps(payload, allow_nan=False, default=str).encode()
    except ValueError as exc:  # NaN/Infinity: not JSON
        return Delivery(False, 0, error=f"payload is not valid JSON: {exc}")
    attempts = max(1, attempts)
    status: int | None = None
    error = ""
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8",
                                                  "User-Agent": "analytics-pipeline-alerts"})
        try:
            with urllib.request.urlopen(request, timeout=timeout_seconds) as response:  # noqa: S310 (scheme checked)
                status = response.status
                response.read()
            return Delivery(True, attempt, status)
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code} {exc.reason}"
            exc.close()
            if not _retryable_status(exc.code):
                return Delivery(False, attempt, status, error, retryable=False)
        except (OSError, http.client.HTTPException) as exc:  # URLError, refused, reset, timeout
            status, error = None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        if attempt < attempts:
            delay = backoff_seconds * 2 ** (attempt - 1)
            log.warning("alert webhook attempt %d/%d failed (%s); retrying in %.2f s", attempt, attempts, error, delay)
            sleep(delay)
    return Delivery(False, attempts, status, error, retryable=True)
