#!/usr/bin/env bash
# Creates the secret files docker-compose.yml reads, once: Airlock's signing key (EC P-256,
# PKCS#8), the Postgres password and its pgpass line, and the (empty) folder of credential
# profiles' client secrets. Usage: scripts/compose-secrets.sh [dir] (default deploy/secrets).
# The containers run as uid 1000 (node) and Postgres as 999: each file is readable by its reader only.
set -euo pipefail
dir="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/deploy/secrets}"
mkdir -p "$dir/credentials"
chmod 700 "$dir"
umask 077
if [[ ! -s "$dir/airlock-signing-key.pem" ]]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/airlock-signing-key.pem"
fi
if [[ ! -s "$dir/postgres-password" ]]; then
  openssl rand -hex 24 | tr -d '\n' >"$dir/postgres-password"
fi
# libpq's password file format (node-postgres reads PGPASSFILE): host:port:database:user:password.
printf 'postgres:5432:airlock:airlock:%s\n' "$(cat "$dir/postgres-password")" >"$dir/pgpass"
chmod 600 "$dir"/airlock-signing-key.pem "$dir"/postgres-password "$dir"/pgpass
if [[ $(id -u) -eq 0 ]]; then
  chown -R 1000 "$dir"
  # Postgres's entrypoint reads its password file as the postgres user (uid 999 in the image).
  chown 999 "$dir/postgres-password"
fi
echo "secrets in $dir (add credential profiles' client secrets as files in $dir/credentials)"
