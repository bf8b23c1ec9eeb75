"""Where each notification goes, by severity, and the JSON each receiver is sent.

* ``critical`` -> PagerDuty's Events API v2 (``ANALYTICS_PAGERDUTY_ROUTING_KEY``, posted to
  ``ANALYTICS_PAGERDUTY_EVENTS_URL``): ``trigger`` when an alert fires or re-notifies, ``resolve``
  when it clears, both under the alert's ``dedup_key`` so PagerDuty folds them into one incident.
  Without a routing key, critical alerts go to the webhook instead (they are never dropped).
* ``warning`` -> the Slack-compatible incoming webhook (``ANALYTICS_ALERT_WEBHOOK_URL``).
* ``info`` -> the alert history only.

Every alert is kept in the history table whatever its route. The outbox stores the payload
without the routing key: the key, a secret, is added when the row is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from analytics_pipeline.alerts.messages import slack_escape

PAGERDUTY, SLACK = "pagerduty", "slack"
SOURCE = "analytics-pipeline"
TRIGGER, RESOLVE = "trigger", "resolve"
#: The pipeline's own event alerts (failed runs, failed checks: :mod:`.pipeline_events`); their Slack
#: message carries their fields.
PIPELINE_RULES = ("run_failure", "asset_check")
_ICONS = {"critical": ":rotating_light:", "warning": ":warning:", "info": ":information_source:"}


@dataclass(frozen=True)
class Routes:
    """The receivers configured (their secrets never leave this object but for the POST itself)."""

    # Secrets (a webhook URL carries its own): kept out of the repr, so no log or traceback shows them.
    pagerduty_routing_key: str | None = field(default=None, repr=False)
    pagerduty_events_url: str = "https://events.pagerduty.com/v2/enqueue"
    webhook_url: str | None = field(default=None, repr=False)

    def routes_for(self, severity: str) -> list[str]:
        """The receivers of a notification of ``severity`` (none: the history only)."""
        if severity == "critical":
            if self.pagerduty_routing_key:
                return [PAGERDUTY]
            return [SLACK] if self.webhook_url else []
        if severity == "warning" and self.webhook_url:
            return [SLACK]
        return []

    def url_of(self, route: str) -> str | None:
        return self.pagerduty_events_url if route == PAGERDUTY else self.webhook_url

    def body_to_send(self, route: str, payload: dict) -> dict:
        """The body posted: the stored payload, with PagerDuty's routing key added."""
        return {"routing_key": self.pagerduty_routing_key, **payload} if route == PAGERDUTY else payload


def pagerduty_event(action: str, *, dedup_key: str, summary: str, severity: str, subject: str, rule: str,
                    at: datetime, details: dict) -> dict:
    """A PagerDuty Events API v2 event (without ``routing_key``): ``trigger`` carries the payload
    PagerDuty documents (summary, source, severity, timestamp, component, group, class,
    custom_details); ``resolve`` needs only the dedup key."""
    if action == RESOLVE:
        return {"event_action": RESOLVE, "dedup_key": dedup_key}
    event = {"event_action": TRIGGER, "dedup_key": dedup_key, "payload": {
        "summary": summary[:1024], "source": SOURCE, "severity": severity,
        "timestamp": at.isoformat(), "component": subject, "group": rule, "class": details.get("kind", rule),
        "custom_details": details}}
    if details.get("link"):
        event["links"] = [{"href": details["link"], "text": "Open in Dagster"}]
    return event


def slack_message(action: str, *, dedup_key: str, summary: str, severity: str, rule: str, at: datetime,
                  renotify: bool = False, details: dict | None = None) -> dict:
    """A Slack incoming-webhook message: ``text`` (mrkdwn, with a link to the Dagster UI when
    ``details`` has one) plus the same facts under ``alert``."""
    details = details or {}
    if action == RESOLVE:
        text = f":white_check_mark: *Resolved* [{severity}] {slack_escape(summary)}"
    else:
        prefix = "Still firing" if renotify else "Firing"
        text = f"{_ICONS.get(severity, '')} *{prefix}* [{severity}] {slack_escape(summary)}"
    text = f"{text}\n`{slack_escape(dedup_key)}` at {at:%Y-%m-%d %H:%M:%S} UTC"
    if details.get("link"):
        text += f"\n<{details['link']}|Open in Dagster>"
    message = {"kind": details.get("kind") if rule in PIPELINE_RULES else "platform", "action": action,
               "dedup_key": dedup_key, "rule": rule, "severity": severity, "summary": summary, "at": at.isoformat()}
    if rule in PIPELINE_RULES:
        message["fields"] = details
    return {"text": text, "alert": message}


def payload_for(route: str, action: str, *, dedup_key: str, summary: str, severity: str, subject: str, rule: str,
                at: datetime, details: dict, renotify: bool = False) -> dict:
    """The stored payload of one notification to ``route``."""
    if route == PAGERDUTY:
        return pagerduty_event(action, dedup_key=dedup_key, summary=summary, severity=severity, subject=subject,
                               rule=rule, at=at, details=details)
    return slack_message(action, dedup_key=dedup_key, summary=summary, severity=severity, rule=rule, at=at,
                         renotify=renotify, details=details)
