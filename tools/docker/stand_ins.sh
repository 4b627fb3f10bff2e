#!/usr/bin/env bash
# Build local stand-ins for the official images where Docker Hub cannot be reached:
#   chat-seed-stand-in/debian:bookworm    debootstrap of Debian bookworm from this machine's apt sources
#   chat-seed-stand-in/python:3.11-bookworm   for python:3.11.7-slim-bookworm (Debian's python3)
#   chat-seed-stand-in/postgres:15-bookworm   for postgres:16 (Debian's postgresql-15)
# Prints PYTHON_IMAGE=... and POSTGRES_IMAGE=... for docker-compose.yml; build logs go to $LOG (or stderr).
# The machine's apt sources, extra CA certificates and pip index settings go into the images; nothing of
# them is written into the repository. Images already built are reused (docker's layer cache).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
BASE_IMAGE=chat-seed-stand-in/debian:bookworm
PYTHON_STAND_IN=chat-seed-stand-in/python:3.11-bookworm
POSTGRES_STAND_IN=chat-seed-stand-in/postgres:15-bookworm
SUITE=bookworm
LOG="${LOG:-/dev/stderr}"

fail() {
  echo "error: $*" >&2
  exit 1
}

# Every apt source file of this machine that names the suite (deb822 .sources or one-line .list).
suite_source_files() {
  local file
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] && grep -qw "$SUITE" "$file" && echo "$file"
  done
  return 0
}

# The first archive URI serving suite $1 (bookworm or bookworm-security, say).
debian_mirror() {
  local suite="$1" file
  for file in $(suite_source_files); do
    case "$file" in
      *.sources)
        awk -v suite="$suite" '
          /^[[:space:]]*$/ { if (uri != "" && has) { print uri; exit } uri = ""; has = 0; next }
          tolower($1) == "uris:" { uri = $2 }
          tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) has = 1 }
          END { if (uri != "" && has) print uri }
        ' "$file"
        ;;
      *)
        awk -v suite="$suite" '$1 == "deb" {
          for (i = 2; i < NF; i++) if ($i ~ /^[a-z]+:\/\// && $(i + 1) == suite) { print $i; exit } }' "$file"
        ;;
    esac
  done | head -n 1
}

write_sources() {
  local stanza="Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
  printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\n%s\n' "$1" "$SUITE" "$SUITE" "$stanza"
  if [ -n "$2" ]; then
    printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\n%s\n' "$2" "$SUITE" "$stanza"
  fi
}

build_base() {
  command -v debootstrap >/dev/null || fail "debootstrap is not installed (apt-get install debootstrap)"
  local mirror rootfs
  mirror="$(debian_mirror "$SUITE")"
  [ -n "$mirror" ] || fail "no apt source for Debian $SUITE found in /etc/apt/sources.list*"
  rootfs="$(mktemp -d /tmp/chat-seed-rootfs.XXXXXX)"
  # shellcheck disable=SC2064  # expand now: the path is fixed
  trap "rm -rf '$rootfs'" RETURN
  echo "debootstrap $SUITE (minbase) ..." >&2
  debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$rootfs" "$mirror" >>"$LOG" 2>&1 \
    || fail "debootstrap failed; see $LOG"
  # The machine's Debian archives (updates and security too) replace debootstrap's one line.
  rm -f "$rootfs/etc/apt/sources.list"
  write_sources "$mirror" "$(debian_mirror "$SUITE-security")" >"$rootfs/etc/apt/sources.list.d/debian.sources"
  if [ -d /usr/local/share/ca-certificates ]; then
    cp -r /usr/local/share/ca-certificates/. "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates >>"$LOG" 2>&1
  fi
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >>"$LOG"
}

build_on_base() {
  local image="$1" dockerfile="$2" context="$3"
  echo "building $image ..." >&2
  docker build --build-arg "BASE_IMAGE=$BASE_IMAGE" -f "$dockerfile" -t "$image" "$context" >>"$LOG" 2>&1 \
    || fail "building $image failed; see $LOG"
}

if [ "${REBUILD_STAND_INS:-0}" = 1 ] || ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  build_base
fi

context="$(mktemp -d /tmp/chat-seed-stand-ins.XXXXXX)"
trap 'rm -rf "$context"' EXIT
python3 "$HERE/pip_settings.py" >"$context/pip.conf"
cp "$HERE/postgres-entrypoint.sh" "$context/"
build_on_base "$PYTHON_STAND_IN" "$HERE/python.Dockerfile" "$context"
build_on_base "$POSTGRES_STAND_IN" "$HERE/postgres.Dockerfile" "$context"

echo "PYTHON_IMAGE=$PYTHON_STAND_IN"
echo "POSTGRES_IMAGE=$POSTGRES_STAND_IN"
