#!/usr/bin/env bash
# README command one: generate a month of usage logs and run the whole pipeline on it, then send the
# last hour's events through the live path (POST /analytics/v1/events) and read them back from /usage.
source "$(dirname "$0")/env.sh"
exec analytics-pipeline demo "$@"
