#!/bin/sh
# Container entrypoint; see the README's "Docker" section.
#
# Named commands first wait for the database (backend/scripts/wait_for_db.py) and run the migrations, so a
# fresh PostgreSQL volume is usable at once. Anything else is exec'd as given, without touching the database.
# With no command: AUTO_SEED=true seeds once (the seeder is idempotent); otherwise print usage, exit 0.
set -eu

# Every path below is relative to the app root: /app in the image, the checkout's root elsewhere.
cd "$(dirname -- "$0")/.."

# The interpreter to use; tests and virtualenvs point it elsewhere.
PYTHON="${PYTHON:-python}"

usage() {
  cat <<'USAGE'
usage: docker-entrypoint.sh [COMMAND [OPTIONS...]]

  seed [OPTIONS]      seed fake data (backend/scripts/seed_data.py OPTIONS), e.g. seed --profile demo
  cleanup [OPTIONS]   remove seeded data (backend/scripts/cleanup_fake_data.py OPTIONS), e.g. cleanup --yes
  status [OPTIONS]    show what has been seeded (seed_data.py status)
  verify [OPTIONS]    check the data's invariants (seed_data.py verify)
  reset [OPTIONS]     remove seeded rows and seed afresh (seed_data.py reset), e.g. reset --yes
  migrate             only wait for the database and upgrade the schema to head
  help                show this text
  anything else       run as given, e.g. sh or python -V (no wait, no migration)

The named commands wait for the database (DATABASE_URL, else DATABASE_HOST and its siblings;
DB_WAIT_ATTEMPTS, DB_WAIT_DELAY) and migrate first. A refused login fails at once.
Without a command: AUTO_SEED=true seeds once with the default options; otherwise this text is shown.
USAGE
}

prepare_database() {
  "$PYTHON" backend/scripts/wait_for_db.py || exit $?
  "$PYTHON" -m alembic -c backend/alembic.ini upgrade head || exit $?
}

if [ "$#" -eq 0 ]; then
  auto_seed=$(printf '%s' "${AUTO_SEED:-}" | tr '[:upper:]' '[:lower:]')
  case "$auto_seed" in
    1 | true | yes | on)
      prepare_database
      exec "$PYTHON" backend/scripts/seed_data.py
      ;;
    "" | 0 | false | no | off)
      usage
      exit 0
      ;;
    *)
      # A typo such as AUTO_SEED=ture must not silently skip seeding.
      echo "error: AUTO_SEED must be true or false, got '${AUTO_SEED}'" >&2
      exit 2
      ;;
  esac
fi

cmd="$1"
shift
case "$cmd" in
  seed)
    prepare_database
    exec "$PYTHON" backend/scripts/seed_data.py "$@"
    ;;
  cleanup)
    prepare_database
    exec "$PYTHON" backend/scripts/cleanup_fake_data.py "$@"
    ;;
  status | verify | reset)
    prepare_database
    exec "$PYTHON" backend/scripts/seed_data.py "$cmd" "$@"
    ;;
  migrate)
    if [ "$#" -gt 0 ]; then
      echo "error: migrate takes no options, got: $*" >&2
      exit 2
    fi
    prepare_database
    exit 0
    ;;
  help | -h | --help)
    usage
    exit 0
    ;;
  *)
    exec "$cmd" "$@"
    ;;
esac
