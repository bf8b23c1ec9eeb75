"""The archive's S3 lifecycle rule: put once, merged with the bucket's other rules."""

from analytics_pipeline.retention.lifecycle import RULE_ID, ensure_archive_lifecycle
from analytics_pipeline.retention.policy import RetentionPolicy
from analytics_pipeline.storage.object_store import LocalDirectoryStore

OTHER_RULE = {"ID": "logs-expiry", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 30}}


def rules(s3_client, bucket):
    return s3_client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]


def test_the_rule_is_put_once_and_other_rules_are_kept(s3_client, s3_bucket, archive_store):
    s3_client.put_bucket_lifecycle_configuration(Bucket=s3_bucket, LifecycleConfiguration={"Rules": [OTHER_RULE]})

    first = ensure_archive_lifecycle(archive_store, RetentionPolicy())
    second = ensure_archive_lifecycle(archive_store, RetentionPolicy())

    assert (first.figures["status"], second.figures["status"]) == ("created", "unchanged")
    current = rules(s3_client, s3_bucket)
    assert [r["ID"] for r in current] == ["logs-expiry", RULE_ID]
    ours = current[1]
    assert ours["Filter"]["Prefix"] == "archive/raw_events/" and ours["Status"] == "Enabled"
    assert ours["Transitions"] == [{"Days": 365, "StorageClass": "GLACIER"}]
    assert ours["Expiration"] == {"Days": 2555}

    changed = ensure_archive_lifecycle(archive_store, RetentionPolicy(archive_expire_after_days=3650))
    assert changed.figures["status"] == "updated"
    assert [r["Expiration"]["Days"] for r in rules(s3_client, s3_bucket)] == [30, 3650]


def test_a_dry_run_puts_nothing(s3_client, s3_bucket, archive_store):
    report = ensure_archive_lifecycle(archive_store, RetentionPolicy(), dry_run=True)
    assert report.figures["status"] == "would be created"
    assert not _has_config(s3_client, s3_bucket)


def _has_config(s3_client, bucket):
    from botocore.exceptions import ClientError

    try:
        s3_client.get_bucket_lifecycle_configuration(Bucket=bucket)
    except ClientError:
        return False
    return True


def test_a_local_archive_has_no_lifecycle(tmp_path):
    report = ensure_archive_lifecycle(LocalDirectoryStore(tmp_path), RetentionPolicy())
    assert report.figures["status"] == "not applicable"
