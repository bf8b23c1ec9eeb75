"""Signed downloads of export files from a local-directory exports store, served by the API
itself (on S3 the download redirects to S3's own presigned URL instead). The link carries its
expiry and an HMAC of (job, file, expiry); it needs no API key, like a presigned URL."""

from __future__ import annotations

import urllib.parse
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse

from analytics_pipeline.api.audit import write_audit
from analytics_pipeline.api.deps import AuditContext, Clock, Links, Warehouse
from analytics_pipeline.api.errors import ApiError
from analytics_pipeline.api.models import ErrorBody
from analytics_pipeline.api.security import download_signature_valid
from analytics_pipeline.exports.export_jobs import LATEST_TIME, get_job
from analytics_pipeline.storage.object_store import LocalDirectoryStore

router = APIRouter(prefix="/analytics/v1/files", tags=["files"])


@router.get("/{jobId}/{filename}", name="download_file", response_class=FileResponse,
            summary="A signed export file (local-directory store)",
            responses={200: {"content": {"text/csv": {}}, "description": "The CSV."},
                       403: {"model": ErrorBody, "description": "The signature is wrong (`invalid_signature`)."},
                       404: {"model": ErrorBody, "description": "Not a file of this API (`not_found`)."},
                       410: {"model": ErrorBody, "description": "The link expired (`download_expired`) or the file "
                                                                "is gone (`export_expired`): request a new export."},
                       422: {"model": ErrorBody, "description": "The link is incomplete or malformed."}})
def download_file(
    request: Request, audit: AuditContext, links: Links, warehouse: Warehouse, clock: Clock,
    job_id: Annotated[uuid.UUID, Path(alias="jobId")],
    filename: Annotated[str, Path(max_length=255)],
    expires: Annotated[int, Query(ge=0, le=int(LATEST_TIME.timestamp()))],
    signature: Annotated[str, Query(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")],
) -> FileResponse:
    """The file a `download` link points at, while the link's signature is right and its expiry
    (24 h after the export completed) has not passed. The signature is checked in constant time;
    a link whose `expires` or `signature` is repeated or has an encoded name is not one the API
    signed (403)."""
    store = links.exports_store
    if not isinstance(store, LocalDirectoryStore):
        raise ApiError(404, "not_found", "this API serves no files: exports are downloaded from object storage")
    parsed_id = job_id
    if not _plain_link_parameters(request.scope.get("query_string", b"")) \
            or not download_signature_valid(links.signing_key, parsed_id, filename, expires, signature):
        raise ApiError(403, "invalid_signature", "the download link is not valid (was it changed?)")
    audit.job_id = parsed_id
    now = clock()
    if now >= datetime.fromtimestamp(expires, UTC):
        raise ApiError(410, "download_expired", "the download link expired; request a new export")
    with warehouse.connection() as conn:
        job = get_job(conn, parsed_id)
        audit.organization_id = job.organization_id if job else None
        if (job is None or job.status != "succeeded" or not job.output_key
                or job.output_key.rsplit("/", 1)[-1] != filename or not store.path_of(job.output_key).is_file()):
            raise ApiError(410, "export_expired", "this export's file is gone; request a new export")
        write_audit(conn, audit.entry(at=now, action="download_file", status_code=200, outcome="ok"))
    return FileResponse(store.path_of(job.output_key), media_type="text/csv", filename=job.download_name,
                        headers={"Cache-Control": "no-store"})


def _plain_link_parameters(query_string: bytes) -> bool:
    """Whether ``expires`` and ``signature`` each appear once, under their plain names, as in the
    links the API signs: a repeated one or an encoded name (``%73ignature``) is ambiguous, to
    this route and to whatever reads the link on the way (the access log's redaction)."""
    seen: dict[str, int] = {}
    for piece in query_string.decode("latin-1").split("&"):
        raw = piece.partition("=")[0]
        name = urllib.parse.unquote_plus(raw)
        if name in ("expires", "signature"):
            if raw != name:
                return False
            seen[name] = seen.get(name, 0) + 1
    return all(count == 1 for count in seen.values())
