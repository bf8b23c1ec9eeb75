"""The portal's forms: URL-encoded bodies (what a browser's ``<form method="post">`` sends),
read within the API's 64 KiB body limit, at most 32 fields, the first value of each name."""

from __future__ import annotations

import urllib.parse

from fastapi import Request

from analytics_pipeline.api.errors import ApiError

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 32


async def read_form(request: Request) -> dict[str, str]:
    """The form's fields; ApiError 415 for another content type, 400 for a body that is not one."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    body = await request.body()
    if not body and not content_type:
        return {}  # an empty form (a browser sends none, but a script might)
    if content_type != FORM_TYPE:
        raise ApiError(415, "unsupported_media_type", f"send the form as {FORM_TYPE}")
    try:
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "malformed_body", "the form could not be read") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields
