#!/usr/bin/env bash
# Make sure PostgreSQL's server binaries (initdb, pg_ctl) are installed; the tests start their own instance.
set -euo pipefail

have_server() {
  [ -n "${TEST_POSTGRES_URL:-}" ] && return 0
  [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/initdb" ] && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && return 0
  command -v initdb >/dev/null 2>&1
}

if have_server; then
  exit 0
fi

echo "PostgreSQL server binaries not found; installing them from the system's packages" >&2
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: no apt-get here; install PostgreSQL's server (initdb, pg_ctl) or set TEST_POSTGRES_URL" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq postgresql postgresql-contrib >/dev/null
have_server || { echo "error: PostgreSQL install did not provide initdb" >&2; exit 1; }
