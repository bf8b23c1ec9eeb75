#!/usr/bin/env bash
# README command two: the test suite, against an embedded PostgreSQL and moto's S3 server.
source "$(dirname "$0")/env.sh"
exec python -m pytest -p no:cacheprovider "$@"
