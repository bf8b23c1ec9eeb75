"""Signing a browser-like client into the portal over HTTP, and reading its pages' tables."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import httpx

SESSION_COOKIE = "analytics_portal_session"


def portal_client(api, **headers) -> httpx.Client:
    """A client of its own (its own cookie jar), not following redirects."""
    return httpx.Client(base_url=api.url, timeout=30, follow_redirects=False, headers=headers)


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden field {name}"
    return html.unescape(match[1])


def sign_in(api, token: str, *, next_path: str = "", client: httpx.Client | None = None) -> httpx.Client:
    """A client signed in with ``token`` (asserts the 303 of a good sign-in)."""
    client = client or portal_client(api)
    form = client.get("/portal/sign-in")
    assert form.status_code == 200, form.text
    response = client.post("/portal/sign-in", data={"api_key": token, "form_token": hidden(form.text, "form_token"),
                                                    "next": next_path})
    assert response.status_code == 303, response.text
    return client


def table_rows(page: str, table_id: str) -> list[list[str]]:
    """The body rows of table ``table_id``: each cell's text (tags stripped, entities decoded)."""
    match = re.search(rf'<table id="{table_id}"[^>]*>(.*?)</table>', page, re.S)
    assert match, f"no table {table_id}"
    body = re.search(r"<tbody>(.*?)</tbody>", match[1], re.S)
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body[1] if body else "", re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells])
    return rows


def number(text: str) -> int:
    return int(text.replace(",", ""))


def money(text: str) -> Decimal:
    return Decimal(text.replace(",", "").replace(" USD", ""))
