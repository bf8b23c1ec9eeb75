"""Download links of finished exports: a presigned URL of the object store, or, for exports kept
in a local directory, a link to the API's own ``/files`` route signed with the API's key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from analytics_pipeline.api.errors import ApiError
from analytics_pipeline.api.security import sign_download
from analytics_pipeline.exports.export_jobs import ExportJob
from analytics_pipeline.storage.object_store import LocalDirectoryStore, ObjectStore


@dataclass(frozen=True)
class DownloadLinks:
    """Where the exports are (``exports_store``), what signs links browsers follow (``download_store``:
    a client for the endpoint they reach), the key of the API's own links and the URL they name."""

    exports_store: ObjectStore
    download_store: ObjectStore
    signing_key: bytes
    public_url: str

    def signed_url(self, job: ExportJob, now: datetime, valid_until: datetime) -> str:
        """A URL of the job's CSV valid until ``valid_until``; ApiError 410 when a local file is gone."""
        store = self.exports_store
        if isinstance(store, LocalDirectoryStore):
            if not store.path_of(job.output_key).is_file():
                raise ApiError(410, "export_expired", "this export's file is gone; request a new export")
            filename = job.output_key.rsplit("/", 1)[-1]
            expires = int(valid_until.timestamp())
            signature = sign_download(self.signing_key, job.job_id, filename, expires)
            return f"{self.public_url}/analytics/v1/files/{job.job_id}/{filename}" \
                   f"?expires={expires}&signature={signature}"
        remaining = max(int((valid_until - now) / timedelta(seconds=1)), 1)
        return self.download_store.share_url(job.output_key, expires_in=timedelta(seconds=remaining),
                                             download_name=job.download_name)
