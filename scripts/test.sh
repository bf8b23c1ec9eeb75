#!/usr/bin/env bash
# README command two: the test suite, against an embedded PostgreSQL and moto's S3 server, and the
# portal's pages in headless Chromium (installed by scripts/browser.sh when it is missing).
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/browser.sh"
exec python -m pytest -p no:cacheprovider "$@"
