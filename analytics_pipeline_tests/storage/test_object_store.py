import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import pytest

from analytics_pipeline.storage.object_store import (
    InvalidKeyError,
    LocalDirectoryStore,
    S3ObjectStore,
    check_key,
    open_store,
)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalDirectoryStore(tmp_path / "store")
    client = request.getfixturevalue("s3_client")
    bucket = request.getfixturevalue("s3_bucket")
    # A small page size makes listings of a few objects cross several pages.
    return S3ObjectStore(client, bucket, prefix="logs/raw", page_size=2)


def test_write_list_stream_delete_round_trip(store):
    written = store.write("2026/01/02/03/a.jsonl.gz", b"x" * 10)
    store.write("2026/01/02/03/b.jsonl.gz", b"hello")
    store.write("2026/01/02/04/c.jsonl.gz", b"")
    store.write("2026/01/03/00/d.jsonl.gz", b"later")

    listed = list(store.list("2026/01/02/"))
    assert [o.key for o in listed] == [
        "2026/01/02/03/a.jsonl.gz", "2026/01/02/03/b.jsonl.gz", "2026/01/02/04/c.jsonl.gz"]
    assert [o.size for o in listed] == [10, 5, 0]
    assert listed[0].etag == written.etag == "336311a016184326ddbdd61edd4eeb52"  # md5 of ten x's
    assert listed[0].last_modified.tzinfo is not None
    assert [o.key for o in store.list("2026/01/02/03/", start_after="2026/01/02/03/a.jsonl.gz")] == [
        "2026/01/02/03/b.jsonl.gz"
    ]
    assert b"".join(store.stream("2026/01/02/03/b.jsonl.gz")) == b"hello"
    assert store.head("2026/01/03/00/d.jsonl.gz").size == 5
    assert store.head("2026/01/03/00/missing") is None

    store.delete("2026/01/02/03/a.jsonl.gz")
    store.delete("2026/01/02/03/a.jsonl.gz")  # deleting twice is fine
    assert [o.key for o in store.list("2026/01/02/03/")] == ["2026/01/02/03/b.jsonl.gz"]


def test_overwrite_changes_etag(store):
    first = store.write("k/obj", b"one")
    second = store.write("k/obj", b"two")
    assert first.etag != second.etag
    assert store.read("k/obj") == b"two"


def test_listing_pages_through_many_objects(store):
    for i in range(7):
        store.write(f"p/{i:02d}", b"%d" % i)
    assert [o.key for o in store.list("p/")] == [f"p/{i:02d}" for i in range(7)]


def _lifetime_seconds(url: str) -> float:
    query = parse_qs(urlsplit(url).query)
    if "X-Amz-Expires" in query:  # SigV4
        return float(query["X-Amz-Expires"][0])
    return float(query["Expires"][0]) - time.time()  # SigV2: an absolute epoch


def test_share_url_is_presigned_for_a_day_on_s3(s3_client, s3_bucket):
    store = S3ObjectStore(s3_client, s3_bucket, prefix="exports")
    store.write("a/b.csv", b"a,b\n1,2\n")
    url = store.share_url("a/b.csv")
    assert "Signature" in url
    assert abs(_lifetime_seconds(url) - 86_400) < 60
    with urlopen(url) as response:  # a real HTTP GET against the S3 endpoint
        assert response.read() == b"a,b\n1,2\n"
    assert abs(_lifetime_seconds(store.share_url("a/b.csv", expires_in=timedelta(seconds=600))) - 600) < 60


def test_local_share_url_is_the_path(tmp_path):
    store = LocalDirectoryStore(tmp_path)
    store.write("x/y.csv", b"1")
    assert store.share_url("x/y.csv") == str(tmp_path / "x" / "y.csv")


@pytest.mark.parametrize("key", ["", "/abs", "../up", "a/../../b", "a//b", "a/./b", "a\\b", "a b", "a\nb", "a/.."])
def test_unsafe_keys_are_refused(key, tmp_path):
    with pytest.raises(InvalidKeyError):
        check_key(key)
    with pytest.raises(InvalidKeyError):
        LocalDirectoryStore(tmp_path).write(key, b"x")


def test_open_store_by_url(tmp_path, s3_client, s3_bucket):
    assert isinstance(open_store(str(tmp_path)), LocalDirectoryStore)
    assert isinstance(open_store(f"file://{tmp_path}"), LocalDirectoryStore)
    s3_store = open_store(f"s3://{s3_bucket}/some/prefix", s3_client_factory=lambda: s3_client)
    assert isinstance(s3_store, S3ObjectStore) and s3_store.prefix == "some/prefix/"
    with pytest.raises(ValueError, match="no S3 client"):
        open_store("s3://bucket/x")


def test_the_buckets_of_the_s3_stores_once_each_in_order():
    from analytics_pipeline.storage.object_store import s3_buckets_of

    urls = ["s3://usage-logs/firehose", "/var/lib/exports", "s3://archive", "s3://usage-logs/other", "file:///x"]
    assert s3_buckets_of(urls) == ["usage-logs", "archive"]


def test_ensure_buckets_creates_the_missing_ones_and_can_run_again(s3_client, s3_bucket):
    import uuid

    from analytics_pipeline.storage.object_store import ensure_buckets

    fresh = f"fresh-{uuid.uuid4().hex[:10]}"
    assert ensure_buckets(s3_client, [s3_bucket, fresh, fresh]) == [fresh]
    assert ensure_buckets(s3_client, [s3_bucket, fresh]) == []
    names = {b["Name"] for b in s3_client.list_buckets()["Buckets"]}
    assert {s3_bucket, fresh} <= names
