"""The committed OpenAPI document of the export API, ``docs/analytics-exports-openapi.yaml``.

Regenerate it after changing a route or a model (a test checks the served ``/openapi.json``
equals it)::

    .venv/bin/python -m analytics_pipeline.api.openapi            # writes docs/analytics-exports-openapi.yaml
    .venv/bin/python -m analytics_pipeline.api.openapi --check    # exits 1 when it is out of date
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import yaml

from analytics_pipeline.api.app import create_app
from analytics_pipeline.settings import Settings

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "analytics-exports-openapi.yaml"
HEADER = "# The export API's OpenAPI document, generated: python -m analytics_pipeline.api.openapi\n"


def openapi_document() -> dict:
    """The document the app serves at /openapi.json (independent of any setting)."""
    with tempfile.TemporaryDirectory() as home:
        app = create_app(Settings(home=Path(home), exports_url=home, api_signing_key="unused-for-the-document"))
        return app.openapi()


def render(document: dict) -> str:
    return HEADER + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that the committed document is current")
    parser.add_argument("--output", type=Path, default=DOCUMENT)
    args = parser.parse_args(argv)
    text = render(openapi_document())
    if args.check:
        current = args.output.exists() and args.output.read_text() == text
        print(f"{args.output}: {'current' if current else 'out of date: regenerate it'}")
        return 0 if current else 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
