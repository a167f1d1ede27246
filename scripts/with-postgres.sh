#!/usr/bin/env bash
#
# with-postgres.sh — run a command against a real, throwaway PostgreSQL server.
#
# Usage: scripts/with-postgres.sh <command> [args...]
#
# Used by the quan integration tests and benchmarks. The script:
#   1. installs the Debian `postgresql` package if no server binaries are found
#      under /usr/lib/postgresql/*/bin (needs root; fresh Debian 12 machines),
#   2. initialises a fresh cluster in a `mktemp -d` directory, listening only on
#      127.0.0.1 on a free port (unix socket inside the temp dir),
#   3. creates the superuser role `quan` (password `quan`),
#   4. runs the command with
#        QUAN_TEST_DATABASE_URL=postgres://quan:quan@127.0.0.1:<port>/postgres
#        QUAN_PG_BIN=<directory holding psql, pgbench, pg_ctl, ...>
#      exported (QUAN_PG_BIN is also prepended to PATH),
#   5. stops the server and deletes the temp dir on exit — also on failure,
#      Ctrl-C or SIGTERM (HUP/INT/TERM are forwarded to the command) — and
#      exits with the command's exit code.
#
# If QUAN_TEST_DATABASE_URL is already set, the command is simply run as is,
# so a developer can point the tests at their own server.
#
# PostgreSQL refuses to run as root, so when invoked as root the server is run
# as the `postgres` system user (created by the Debian package).
#
# Durability is deliberately left ON (fsync, synchronous_commit,
# full_page_writes) so benchmark numbers mean something; the rest is sized for
# a small (2-core, ~24 GiB) test machine.

# shellcheck disable=SC2317  # cleanup/on_signal are only invoked from traps
set -euo pipefail

log() { echo "with-postgres: $*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ $# -eq 0 ]]; then
    echo "usage: $0 <command> [args...]" >&2
    exit 2
fi

# A developer-provided server takes precedence: don't start anything.
if [[ -n "${QUAN_TEST_DATABASE_URL:-}" ]]; then
    exec "$@"
fi

# --- Locate (or install) the PostgreSQL server binaries ----------------------

find_pg_bin() {
    # Highest installed major version wins. (An unmatched glob stays literal.)
    local found=(/usr/lib/postgresql/*/bin/initdb)
    [[ -x "${found[0]}" ]] || return 1
    dirname "$(printf '%s\n' "${found[@]}" | sort -V | tail -n 1)"
}

PG_BIN=$(find_pg_bin || true)
if [[ -z "$PG_BIN" ]]; then
    [[ $EUID -eq 0 ]] || die "PostgreSQL is not installed and we are not root to install it"
    log "PostgreSQL not found; installing it with apt-get (this takes a minute)..."
    apt-get update -qq >/dev/null
    # The package may try to auto-start its own default cluster via
    # systemd/invoke-rc.d; we don't use that cluster, and whether it starts is
    # irrelevant. So only the presence of initdb afterwards decides success.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null ||
        log "warning: apt-get install reported an error; checking for binaries anyway"
    PG_BIN=$(find_pg_bin || true)
    [[ -n "$PG_BIN" ]] || die "installing postgresql did not provide initdb"
fi
for tool in initdb pg_ctl pg_isready psql; do
    [[ -x "$PG_BIN/$tool" ]] || die "$PG_BIN/$tool is missing"
done

# --- Temp dir, run-as user, cleanup ------------------------------------------

# Under /tmp rather than $TMPDIR: the `postgres` user must be able to reach it.
PG_TMP=$(mktemp -d /tmp/quan-pg.XXXXXXXX)
PG_DATA="$PG_TMP/data"
PG_LOG="$PG_TMP/postgres.log"
PG_STARTED=0

if [[ $EUID -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user"
    chown postgres: "$PG_TMP"
    # Run from inside the temp dir so the postgres user never sits in an
    # unreadable working directory (e.g. /root).
    as_pg() { (cd "$PG_TMP" && runuser -u postgres -- "$@"); }
else
    as_pg() { (cd "$PG_TMP" && "$@"); }
fi

cleanup() {
    if [[ $PG_STARTED -eq 1 ]]; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" stop -m fast -w -t 30 >/dev/null 2>&1 ||
            as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" stop -m immediate -w -t 10 >/dev/null 2>&1 ||
            log "warning: could not stop the server in $PG_DATA"
    fi
    rm -rf -- "$PG_TMP"
}
trap cleanup EXIT

# Signals: before the command runs, just exit (128 + signal number) so the EXIT
# trap cleans up. While it runs, forward the signal to it and let the main loop
# at the bottom keep waiting for it to finish.
CHILD_PID=
GOT_SIGNAL=0
on_signal() { # $1 = signal name, $2 = 128 + signal number
    [[ -n "$CHILD_PID" ]] || exit "$2"
    GOT_SIGNAL=$2
    kill -s "$1" "$CHILD_PID" 2>/dev/null || true
}
trap 'on_signal HUP 129' HUP
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

# --- Initialise the cluster --------------------------------------------------

# Only 127.0.0.1 and a private socket dir are reachable, so trust auth is fine.
as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"$PG_TMP/initdb.log" 2>&1 || {
    tail -n 30 "$PG_TMP/initdb.log" >&2
    die "initdb failed"
}

cat >>"$PG_DATA/postgresql.conf" <<EOF

# --- quan test settings (scripts/with-postgres.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_TMP'
max_connections = 300
shared_buffers = 512MB
# Durability stays ON: tests/benchmarks must see realistic commit costs.
fsync = on
synchronous_commit = on
full_page_writes = on
# Checkpoints by time rather than by WAL volume, as a production server is set: a benchmark's
# gigabyte of WAL would otherwise force a checkpoint, and its burst of full-page writes,
# every few seconds.
max_wal_size = 8GB
# Quiet logging (to \$PG_LOG via pg_ctl -l).
logging_collector = off
log_min_messages = warning
log_checkpoints = off
log_connections = off
log_disconnections = off
EOF

# --- Start the server on a free port -----------------------------------------

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Another process could grab the port between picking and binding it (e.g. two
# of these scripts running concurrently), so retry a few times on bind errors.
PG_PORT=
for attempt in 1 2 3 4 5; do
    port=$(free_port)
    : >"$PG_LOG"
    chown --reference="$PG_TMP" "$PG_LOG"
    PG_STARTED=1 # from here on, cleanup should try to stop it
    if as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -o "-p $port" \
        -w -t 30 start >/dev/null 2>&1; then
        PG_PORT=$port
        break
    fi
    PG_STARTED=0
    # Make sure no half-started postmaster lingers before retrying.
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" stop -m immediate >/dev/null 2>&1 || true
    grep -q "could not bind\|Address already in use" "$PG_LOG" || break
    log "port $port was taken, retrying ($attempt)..."
done
if [[ -z "$PG_PORT" ]]; then
    log "server failed to start; tail of its log:"
    tail -n 30 "$PG_LOG" >&2 || true
    exit 1
fi

# pg_ctl -w already waited; confirm over TCP with a bounded pg_isready loop.
for _ in $(seq 1 60); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres && break
    sleep 0.5
done
if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres; then
    log "server did not become ready within 30 s; tail of its log:"
    tail -n 30 "$PG_LOG" >&2 || true
    exit 1
fi

"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
    -c "CREATE ROLE quan SUPERUSER CREATEDB CREATEROLE LOGIN PASSWORD 'quan'" >/dev/null ||
    die "could not create role quan"

# --- Run the command ---------------------------------------------------------

export QUAN_TEST_DATABASE_URL="postgres://quan:quan@127.0.0.1:$PG_PORT/postgres"
export QUAN_PG_BIN="$PG_BIN"
export PATH="$PG_BIN:$PATH"

# The command runs in the background and we `wait` for it: bash defers traps
# while a foreground command runs, so that is the only way a SIGTERM sent to
# this script can be forwarded promptly. `<&0` keeps stdin (a background job
# would otherwise get /dev/null) and `env --default-signal` undoes the SIGINT/
# SIGQUIT ignoring bash applies to background jobs, so Ctrl-C still reaches it.
env --default-signal=INT,QUIT "$@" <&0 &
CHILD_PID=$!
while :; do
    GOT_SIGNAL=0
    status=0
    wait "$CHILD_PID" || status=$?
    ((GOT_SIGNAL == 0)) && break # the command finished normally
    # `wait` was interrupted by a signal (already forwarded to the command).
    kill -0 "$CHILD_PID" 2>/dev/null && continue # still running: keep waiting
    # The command ended while the signal was handled; bash may have lost its
    # exit status then (wait gives 127 or 255), so report the signal instead.
    status=0
    wait "$CHILD_PID" 2>/dev/null || status=$?
    ((status == 127 || status == 255)) && status=$GOT_SIGNAL
    break
done
exit "$status"
