"""The portal: web pages the API serves under ``/portal``, rendered on the server (Jinja2).

A customer signs in with an API key of its organization and sees its usage, performance, costs
and exports; a finance-wide key also opens the internal business and SRE pages; the status page
is public. Every page is an HTML table first (it works without JavaScript); charts are drawn
over it by the vendored uPlot (``static/vendor/``), loaded from the API itself.

The key is exchanged at sign-in for a portal session (:mod:`.sessions`): the browser holds a
random session id in an HttpOnly cookie, never the key. Pages read the rollups and metrics
through the SQL files in ``sql/portal/`` (:mod:`.queries`), never the raw events.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
#: The vendored chart library (from the npm registry's ``uplot`` package, with its LICENSE).
UPLOT_VERSION = "1.6.32"
#: The vendored Swagger UI of ``/docs`` (npm's ``swagger-ui-dist``, Apache-2.0, with its LICENSE and
#: NOTICE): the API's documentation page works offline, loading nothing from a CDN.
SWAGGER_UI_VERSION = "5.36.0"
