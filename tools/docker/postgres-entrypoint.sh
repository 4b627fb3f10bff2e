#!/bin/sh
# Entrypoint of the postgres stand-in image (postgres.Dockerfile): what the official image's does, in brief.
# First start on an empty $PGDATA: initdb with POSTGRES_USER as superuser and POSTGRES_PASSWORD, create
# POSTGRES_DB, all with the server listening on its socket only (so nobody connects half-way); then run
# the server on every address with scram password authentication.
set -eu

if [ "$(id -u)" = 0 ]; then
  install -d -o postgres -g postgres -m 0700 "$PGDATA"
  install -d -o postgres -g postgres -m 2775 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ "${1:-}" != postgres ]; then
  exec "$@"
fi
shift

POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "error: POSTGRES_PASSWORD is not set; the database would have no password" >&2
    exit 1
  fi
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 > /dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -k /var/run/postgresql" -w -s start
  if [ "$POSTGRES_DB" != postgres ]; then
    psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -U "$POSTGRES_USER" -d postgres \
      -v db="$POSTGRES_DB" <<'SQL'
CREATE DATABASE :"db";
SQL
  fi
  pg_ctl -D "$PGDATA" -m fast -w -s stop
  echo "initialised $PGDATA for user $POSTGRES_USER, database $POSTGRES_DB"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
