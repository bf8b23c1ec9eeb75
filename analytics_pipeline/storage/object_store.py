"""One small object-store interface, two implementations: S3 and a local directory.

Keys are always ``/``-separated and relative to the store's root (its S3 prefix or its
directory). Nothing here knows about Dagster; the resource in ``defs/resources.py`` builds
stores from URLs (``s3://bucket/prefix`` or a directory path).
"""

from __future__ import annotations

import abc
import hashlib
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

CHUNK_SIZE = 1024 * 1024
SHARE_URL_LIFETIME = timedelta(hours=24)
_SAFE_KEY = re.compile(r"^(?!/)(?!.*(^|/)\.\.?(/|$))[A-Za-z0-9_.:=+@/-]+$")


class InvalidKeyError(ValueError):
    """A key that could escape the store's root or holds characters we never write."""


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key; raise :class:`InvalidKeyError` otherwise."""
    if not key or len(key) > 1024 or "//" in key or not _SAFE_KEY.match(key):
        raise InvalidKeyError(f"unsafe object key: {key!r}")
    return key


@dataclass(frozen=True)
class StoredObject:
    """What a listing tells about one object."""

    key: str
    size: int
    etag: str
    last_modified: datetime


class ObjectStore(abc.ABC):
    """The operations the pipeline needs from object storage."""

    url: str

    @abc.abstractmethod
    def list(self, prefix: str = "", start_after: str | None = None) -> Iterator[StoredObject]:
        """Objects under ``prefix`` in key order, fetched page by page."""

    @abc.abstractmethod
    def stream(self, key: str) -> Iterator[bytes]:
        """The object's bytes in chunks, without reading it whole into memory."""

    @abc.abstractmethod
    def write(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject:
        """Create or replace an object."""

    def write_file(self, key: str, path: str | Path,
                   content_type: str = "application/octet-stream") -> StoredObject:
        """Create or replace an object from a local file (large files: S3 uploads it in parts)."""
        return self.write(key, Path(path).read_bytes(), content_type)

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Delete an object; deleting a missing object is not an error."""

    @abc.abstractmethod
    def share_url(self, key: str, expires_in: timedelta = SHARE_URL_LIFETIME, *,
                  download_name: str | None = None) -> str:
        """A URL to hand to a person: presigned on S3 (24 h by default), the path locally.
        ``download_name``: the file name a browser saves it under (S3's response Content-Disposition)."""

    @abc.abstractmethod
    def object_url(self, key: str) -> str:
        """Where the object is, without any credential: an http(s) URL on S3, the path locally."""

    def read(self, key: str) -> bytes:
        """The whole object (for small objects such as manifests)."""
        return b"".join(self.stream(key))

    def head(self, key: str) -> StoredObject | None:
        """The object's listing entry, or None when it does not exist."""
        for obj in self.list(prefix=key):
            if obj.key == key:
                return obj
        return None


class LocalDirectoryStore(ObjectStore):
    """Objects as files under a directory; etags are MD5 hex digests, as S3 gives for single-part uploads."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()
        self.url = str(self.root)
        self._etag_cache: dict[tuple[str, int, int], str] = {}

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _etag(self, path: Path, stat: os.stat_result) -> str:
        cache_key = (str(path), stat.st_mtime_ns, stat.st_size)
        etag = self._etag_cache.get(cache_key)
        if etag is None:
            digest = hashlib.md5(usedforsecurity=False)
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(CHUNK_SIZE), b""):
                    digest.update(chunk)
            etag = self._etag_cache[cache_key] = digest.hexdigest()
        return etag

    def _entry(self, key: str, path: Path) -> StoredObject:
        stat = path.stat()
        return StoredObject(
            key=key,
            size=stat.st_size,
            etag=self._etag(path, stat),
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
        )

    def list(self, prefix: str = "", start_after: str | None = None) -> Iterator[StoredObject]:
        # Walk only the directory the prefix names, so date-bounded prefixes stay cheap.
        directory = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not directory.is_dir():
            return
        keys = []
        for dirpath, dirnames, filenames in os.walk(directory):
            dirnames.sort()
            for name in filenames:
                if name.startswith(".") or name.endswith(".partial"):
                    continue
                key = Path(dirpath, name).relative_to(self.root).as_posix()
                if key.startswith(prefix) and (start_after is None or key > start_after):
                    keys.append(key)
        for key in sorted(keys):
            yield self._entry(key, self.root / key)

    def stream(self, key: str) -> Iterator[bytes]:
        with self._path(key).open("rb") as handle:
            yield from iter(lambda: handle.read(CHUNK_SIZE), b"")

    def write(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        partial.replace(path)  # readers never see a half-written object
        return self._entry(key, path)

    def write_file(self, key: str, path: str | Path,
                   content_type: str = "application/octet-stream") -> StoredObject:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(path, partial)
        partial.replace(target)
        return self._entry(key, target)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def share_url(self, key: str, expires_in: timedelta = SHARE_URL_LIFETIME, *,
                  download_name: str | None = None) -> str:
        return str(self._path(key))

    def object_url(self, key: str) -> str:
        return str(self._path(key))

    def path_of(self, key: str) -> Path:
        """The file holding the object (served by the export API's signed downloads)."""
        return self._path(key)


class S3ObjectStore(ObjectStore):
    """Objects under ``s3://bucket/prefix``, through a boto3 S3 client.

    The client comes from ``dagster_aws.s3.S3Resource`` (endpoint, region, profile and
    retry attempts are configured there), so AWS, MinIO and Linode Object Storage all work.
    """

    def __init__(self, client, bucket: str, prefix: str = "", page_size: int = 1000):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.page_size = page_size
        self.url = f"s3://{bucket}/{self.prefix}"

    def _full_key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def list(self, prefix: str = "", start_after: str | None = None) -> Iterator[StoredObject]:
        kwargs = {"Bucket": self.bucket, "Prefix": self.prefix + prefix, "MaxKeys": self.page_size}
        if start_after:
            kwargs["StartAfter"] = self.prefix + start_after
        while True:
            page = self.client.list_objects_v2(**kwargs)
            for item in page.get("Contents", []):
                yield StoredObject(
                    key=item["Key"][len(self.prefix) :],
                    size=item["Size"],
                    etag=item["ETag"].strip('"'),
                    last_modified=item["LastModified"].astimezone(UTC),
                )
            if not page.get("IsTruncated"):
                return
            kwargs["ContinuationToken"] = page["NextContinuationToken"]

    def stream(self, key: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self._full_key(key))["Body"]
        try:
            yield from body.iter_chunks(CHUNK_SIZE)
        finally:
            body.close()

    def write(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject:
        full_key = self._full_key(key)
        self.client.put_object(Bucket=self.bucket, Key=full_key, Body=data, ContentType=content_type)
        head = self.client.head_object(Bucket=self.bucket, Key=full_key)
        return StoredObject(key, head["ContentLength"], head["ETag"].strip('"'), head["LastModified"].astimezone(UTC))

    def write_file(self, key: str, path: str | Path,
                   content_type: str = "application/octet-stream") -> StoredObject:
        full_key = self._full_key(key)
        # upload_file streams from disk, in parts above 8 MiB.
        self.client.upload_file(str(path), self.bucket, full_key, ExtraArgs={"ContentType": content_type})
        head = self.client.head_object(Bucket=self.bucket, Key=full_key)
        return StoredObject(key, head["ContentLength"], head["ETag"].strip('"'), head["LastModified"].astimezone(UTC))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._full_key(key))

    def share_url(self, key: str, expires_in: timedelta = SHARE_URL_LIFETIME, *,
                  download_name: str | None = None) -> str:
        params = {"Bucket": self.bucket, "Key": self._full_key(key)}
        if download_name:
            params["ResponseContentDisposition"] = f'attachment; filename="{download_name}"'
        return self.client.generate_presigned_url("get_object", Params=params,
                                                  ExpiresIn=int(expires_in.total_seconds()))

    def object_url(self, key: str) -> str:
        endpoint = self.client.meta.endpoint_url.rstrip("/")
        return f"{endpoint}/{self.bucket}/{self._full_key(key)}"

    def head(self, key: str) -> StoredObject | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._full_key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return StoredObject(key, head["ContentLength"], head["ETag"].strip('"'), head["LastModified"].astimezone(UTC))


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix)."""
    rest = url[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {url!r}")
    return bucket, prefix


def is_s3_url(url: str) -> bool:
    return url.startswith("s3://")


def open_store(url: str, s3_client_factory=None) -> ObjectStore:
    """The store behind ``url``: ``s3://bucket/prefix`` (needs ``s3_client_factory``) or a directory."""
    if is_s3_url(url):
        if s3_client_factory is None:
            raise ValueError(f"{url} is on S3 but no S3 client was configured")
        bucket, prefix = parse_s3_url(url)
        return S3ObjectStore(s3_client_factory(), bucket, prefix)
    if url.startswith("file://"):
        url = url[len("file://") :]
    return LocalDirectoryStore(url)


def s3_buckets_of(urls: Iterable[str]) -> list[str]:
    """The distinct buckets of the ``s3://`` URLs among ``urls``, in order (directories are skipped)."""
    return list(dict.fromkeys(parse_s3_url(url)[0] for url in urls if is_s3_url(url)))


def ensure_buckets(client, buckets: Iterable[str]) -> list[str]:
    """Create each of ``buckets`` that does not exist yet (in the client's region); return those created.

    Safe to run again and by several processes at once: an existing bucket is left as it is."""
    from botocore.exceptions import ClientError

    region = client.meta.region_name
    # us-east-1 is the one region S3 refuses an explicit LocationConstraint for; MinIO accepts either.
    placement = {} if region in (None, "us-east-1") else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    created = []
    for bucket in dict.fromkeys(buckets):
        try:
            client.head_bucket(Bucket=bucket)
            continue
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise
        try:
            client.create_bucket(Bucket=bucket, **placement)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                raise
            continue
        created.append(bucket)
    return created
