"""Rendering: the Jinja2 environment of the portal's templates (autoescaped), the response
headers every page carries, and the page of a refusal.

Pages are ``no-store`` (they are a tenant's data) and carry a Content-Security-Policy that lets
them load scripts, styles and images from the API alone: no inline script runs (a chart's data
sits in a ``<script type="application/json">`` block the vendored uPlot reads), no other site
may frame them or receive their forms.
"""

from __future__ import annotations

import urllib.parse
from datetime import date, datetime
from decimal import Decimal

import jinja2
import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from analytics_pipeline.api.audit import request_context
from analytics_pipeline.api.portal import TEMPLATES_DIR, UPLOT_VERSION
from analytics_pipeline.money import CENT, format_cost, format_money, rounded_rows

CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff",
                "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def _number(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def _money_value(value) -> str:
    """A cost for a ``data-value`` attribute: the exports' 4-decimal string."""
    return "" if value is None else format_cost(Decimal(value))


class MoneyColumn:
    """A table's column of amounts as displayed: ``rows`` (cents, in the rows' order, None kept) add
    up to ``total`` (the exact sum rounded half up), the money module's one rule."""

    def __init__(self, items, field: str):
        self.rows, self.total = rounded_rows([getattr(item, field) if not isinstance(item, dict) else item[field]
                                              for item in items], CENT)


def money_columns(items, *fields: str) -> dict[str, MoneyColumn]:
    """``{field: MoneyColumn}`` of ``items`` (a template's ``{% set money = money_columns(rows, "cost") %}``)."""
    items = list(items)
    return {field: MoneyColumn(items, field) for field in fields}


def _ms(value) -> str:
    return "–" if value is None else f"{value:,.1f}"


def _percent(value, places: int = 2) -> str:
    return "–" if value is None else f"{value:.{places}f}%"


def _utc(value: datetime | date | None, form: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "–"
    return value.strftime(form)


environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=jinja2.StrictUndefined,
    trim_blocks=True, lstrip_blocks=True, auto_reload=False)
# A single request's price is read at the exports' precision (4 decimals): at 2 it is mostly 0.00.
environment.filters.update(number=_number, money=format_money, money_value=_money_value, unit_price=_money_value,
                           ms=_ms, percent=_percent, utc=_utc, q=lambda value: urllib.parse.quote(str(value), safe=""))
environment.globals.update(uplot=f"/portal/static/vendor/uplot-{UPLOT_VERSION}", money_columns=money_columns)
# |tojson (a chart's data) through orjson; Jinja2 still escapes <, >, & and ' in it for the page.
environment.policies["json.dumps_function"] = lambda value, **_: orjson.dumps(value).decode()


def render(request: Request, template: str, context: dict, *, status: int = 200,
           cache: str = "no-store", headers: dict[str, str] | None = None) -> HTMLResponse:
    """``template`` rendered with ``context`` (plus the request's portal session, for the navigation)."""
    session = request_context(request).portal_session
    body = environment.get_template(template).render(session=session, path=request.url.path, **context)
    return HTMLResponse(body, status_code=status, headers={**PAGE_HEADERS, "Cache-Control": cache, **(headers or {})})


#: What the sign-in form says when a browser is sent back to it, by the refusal's code.
SIGN_IN_REASONS = {
    "sign_in_required": "Sign in with an API key to see this page.",
    "session_ended": "Your portal session ended or expired: sign in again.",
    "revoked_api_key": "The key of your session was revoked: sign in with another key.",
    "expired_api_key": "The key of your session expired: sign in with another key.",
    "signed_out": "You are signed out.",
}


def refusal(request: Request, status: int, code: str, message: str, headers: dict[str, str] | None) -> Response:
    """A refusal under ``/portal`` as a page: a 401 sends the browser to the sign-in form (with
    where it was going, and why); anything else is the error page, with nothing of what was asked."""
    if status == 401:
        target = {"reason": code if code in SIGN_IN_REASONS else "sign_in_required"}
        if request.method == "GET" and safe_next(request.url.path):
            target["next"] = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse(f"/portal/sign-in?{urllib.parse.urlencode(target)}", status_code=303,
                                    headers={"Cache-Control": "no-store"})
        return response
    extra = {name: value for name, value in (headers or {}).items() if name.lower() in ("retry-after", "allow")}
    return render(request, "error.html", {"status": status, "code": code, "message": message}, status=status,
                  headers=extra)


def safe_next(path: str | None) -> bool:
    """Whether ``path`` may be where sign-in sends the browser: a page of this portal (never another site)."""
    return bool(path) and path.startswith(("/portal/orgs/", "/portal/internal/")) and "//" not in path \
        and "\\" not in path and all(0x20 < ord(c) < 0x7f for c in path)
