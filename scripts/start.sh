#!/usr/bin/env bash
# Starts Airlock for development: installs what is missing, starts Postgres and Redis when no URLs
# are given and they are not running, migrates, then runs the two development OIDC issuers, two
# local registries (staging and production) with a signed sample image, the API and the worker in
# the foreground (Ctrl-C stops them).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_node
ensure_packages
cd "$ROOT"
log "building"
npm run --silent build
[ -n "${DATABASE_URL:-}" ] || ensure_postgres
[ -n "${REDIS_URL:-}" ] || ensure_redis
ensure_dev_packages
exec node dist/apps/devstack/main.js
