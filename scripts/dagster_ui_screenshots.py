"""Screenshots of the Dagster UI for the README (docs/screenshots/dagster-*.png).

Run after the demo, with `analytics-pipeline ui` serving it:

    .venv/bin/python scripts/dagster_ui_screenshots.py http://127.0.0.1:3000

Headless Debian Chromium driven by Playwright's sync API, as the portal's browser tests do.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from analytics_pipeline_tests.api.portal.conftest import CHROMIUM_ARGS, chromium_executable

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
# name: (path, what to click there first: the check, then its Partitions tab)
PAGES = {
    "dagster-asset-graph": ("/asset-groups", []),
    "dagster-partitions": ("/assets/raw_usage_events?view=partitions", []),
    "dagster-checks": ("/assets/raw_usage_events?view=checks", []),
    "dagster-check-partitions": ("/assets/hourly_usage_rollups?view=checks",
                                 ["usage_within_normal_range", "Partitions"]),
    "dagster-partition-figures": ("/assets/raw_usage_events?view=events", []),
}


def main(base_url: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        for name, (path, clicks) in PAGES.items():
            page.goto(base_url.rstrip("/") + path, wait_until="networkidle", timeout=120_000)
            page.wait_for_timeout(4_000)  # the UI's lazy panels (partition bars, metadata) settle
            skip = page.get_by_role("button", name="Skip")  # the first visit's community dialog
            if skip.count():
                skip.first.click()
                page.wait_for_timeout(1_000)
            for index, text in enumerate(clicks):  # then the check's Partitions tab, not the asset's
                matches = page.get_by_text(text, exact=True)
                (matches.last if index else matches.first).click()
                page.wait_for_timeout(3_000)
            page.screenshot(path=OUT / f"{name}.png")
            print(OUT / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000")
