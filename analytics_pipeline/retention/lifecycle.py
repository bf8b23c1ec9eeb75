"""The S3 lifecycle rule of the raw-event archive: Glacier after a year, gone after seven.

Lifecycle is a bucket setting, not an object operation, and only S3 has it, so it is not part
of the ``ObjectStore`` interface: on an S3 store this reads the bucket's configuration,
merges our rule by its ID (other rules are kept as they are) and writes it back only when it
changed; on a local directory it reports "not applicable".
"""

from __future__ import annotations

from analytics_pipeline.retention.policy import RetentionPolicy
from analytics_pipeline.retention.raw_archive import ARCHIVE_PREFIX
from analytics_pipeline.retention.report import ActionReport
from analytics_pipeline.storage.object_store import ObjectStore, S3ObjectStore

RULE_ID = "analytics-raw-event-archive-tiering"
GLACIER = "GLACIER"


def archive_rule(prefix: str, policy: RetentionPolicy) -> dict:
    """Our rule for the objects under ``prefix`` (the bucket-level key prefix)."""
    return {
        "ID": RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": prefix},
        "Transitions": [{"Days": policy.archive_glacier_after_days, "StorageClass": GLACIER}],
        "Expiration": {"Days": policy.archive_expire_after_days},
    }


def _comparable(rule: dict) -> tuple:
    """What makes two rules the same (S3 may echo a rule back with extra empty fields)."""
    prefix = rule.get("Filter", {}).get("Prefix", rule.get("Prefix", ""))
    transitions = tuple(sorted((t.get("Days"), t.get("StorageClass")) for t in rule.get("Transitions", [])))
    return rule.get("ID"), rule.get("Status"), prefix, transitions, rule.get("Expiration", {}).get("Days")


def merge_rule(existing: list[dict], rule: dict) -> tuple[list[dict], str]:
    """``existing`` with ``rule`` in place of the rule with its ID; the status is
    ``created``, ``updated`` or ``unchanged``."""
    for index, current in enumerate(existing):
        if current.get("ID") == rule["ID"]:
            if _comparable(current) == _comparable(rule):
                return existing, "unchanged"
            return [*existing[:index], rule, *existing[index + 1:]], "updated"
    return [*existing, rule], "created"


def _current_rules(store: S3ObjectStore) -> list[dict]:
    from botocore.exceptions import ClientError

    try:
        return store.client.get_bucket_lifecycle_configuration(Bucket=store.bucket)["Rules"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchLifecycleConfiguration":
            return []
        raise


def ensure_archive_lifecycle(store: ObjectStore, policy: RetentionPolicy, dry_run: bool = False) -> ActionReport:
    """Put the archive's lifecycle rule on its bucket, once (idempotent)."""
    report = ActionReport("ensure_archive_lifecycle_rule", dry_run)
    if not isinstance(store, S3ObjectStore):
        report.figures.update({"status": "not applicable", "location": store.url,
                               "reason": "the archive is a local directory: no lifecycle rules"})
        return report
    prefix = store.prefix + ARCHIVE_PREFIX
    rule = archive_rule(prefix, policy)
    existing = _current_rules(store)
    rules, status = merge_rule(existing, rule)
    if status != "unchanged" and not dry_run:
        store.client.put_bucket_lifecycle_configuration(Bucket=store.bucket, LifecycleConfiguration={"Rules": rules})
    report.figures.update({
        "status": status if not dry_run or status == "unchanged" else f"would be {status}",
        "rule_id": RULE_ID,
        "bucket": store.bucket,
        "prefix": prefix,
        "glacier_after_days": policy.archive_glacier_after_days,
        "expire_after_days": policy.archive_expire_after_days,
        "other_rules_kept": len(rules) - 1,
    })
    report.items.append({"rule_id": RULE_ID, "prefix": prefix, "action": report.figures["status"],
                         "transition": f"{GLACIER} after {policy.archive_glacier_after_days} days",
                         "expiration": f"after {policy.archive_expire_after_days} days"})
    return report
