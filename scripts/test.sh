#!/usr/bin/env bash
# Runs the whole test suite: type check, lint, format check, build, unit and end-to-end tests
# against real Postgres, Redis and OIDC issuers. Extra arguments go to jest.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_node
ensure_packages
ensure_postgres
ensure_redis
ensure_test_packages
cd "$ROOT"
npm test -- "$@"
