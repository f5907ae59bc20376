#!/usr/bin/env bash
# The whole suite: unit tests, then end-to-end tests against real servers. Servers the tests
# need are installed and started by the e2e project's globalSetup (test/setup/postgres.ts:
# PostgreSQL from Debian's packages, a throwaway cluster on loopback; test/setup/chromium.ts:
# Debian's chromium for the console's browser test); if one cannot be, the run fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
npx vitest run
