"""The browser of the portal's browser tests: Debian's Chromium, headless, driven by Playwright's
sync API with the system executable (Playwright's own browser download cannot work here).

``scripts/browser.sh`` (run by ``scripts/test.sh``) installs Chromium when it is missing. In CI
(``CI`` set) a missing browser fails the tests; elsewhere they are skipped, saying why.
Screenshots go under the test's ``tmp_path``, or ``PORTAL_SCREENSHOTS_DIR`` when set (the
README's are made that way)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_executable() -> str | None:
    return os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: in CI the browser tests must run (scripts/browser.sh installs Chromium)")
    pytest.skip(f"{reason} (./scripts/browser.sh installs Chromium with apt-get)")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = chromium_executable()
    if executable is None:
        _missing("Chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    directory = Path(os.environ.get("PORTAL_SCREENSHOTS_DIR") or tmp_path / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory
