#!/usr/bin/env bash
# The browser of the portal's browser tests: Debian's Chromium, installed with apt-get when it is
# missing (CI runs as root on a clean machine). Idempotent and quiet; says clearly when it cannot.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "browser.sh: Chromium is missing and installing it needs root: sudo apt-get install -y chromium" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser.sh: Chromium is missing and this machine has no apt-get: install Chromium, or set PORTAL_CHROMIUM" >&2
    exit 1
fi
echo "browser.sh: installing Debian's chromium for the portal's browser tests..." >&2
log="$(mktemp)"
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; } \
        >"$log" 2>&1; then
    tail -20 "$log" >&2
    echo "browser.sh: apt-get could not install chromium (see above)" >&2
    rm -f "$log"
    exit 1
fi
rm -f "$log"
command -v chromium >/dev/null 2>&1 || { echo "browser.sh: chromium is still not on PATH after apt-get" >&2; exit 1; }
