#!/usr/bin/env bash
# README command one: generate a month of usage logs and run the whole pipeline on it.
source "$(dirname "$0")/env.sh"
exec analytics-pipeline demo "$@"
