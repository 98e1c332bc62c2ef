#!/usr/bin/env bash
# End-to-end performance measurement of Tessera on this machine (see docs/performance.md).
#
#   crates/tessera-bench/run.sh            # from the workspace root, or from anywhere
#
# Builds release (into $CARGO_TARGET_DIR when set), creates a throw-away data directory
# (SQLite + master key), registers an ES256 confidential client and a pool of citizens
# (the load tool gives each a software passkey when a passkey phase runs), starts
# `tessera serve` pinned to one
# core (workers=1, in-memory sessions), then runs `tessera-load` pinned to another core:
# the per-core baseline first (a child pinned to the server's core, while the server is
# idle), then each phase for a fixed time at a fixed concurrency. Everything stays on
# 127.0.0.1 and stops by itself; the server is stopped and the data directory removed
# on exit.
#
# Settings (environment): DURATION (s per phase, 10), WARMUP (s, 2), CONCURRENCY (16),
# USERS (citizens in the sign-in pool, 32), PORT (18080), SERVER_CPU (0), LOAD_CPU (1),
# PHASES (client-credentials,silent-sso,password-signin,passkey-signin,passkey-ceremony),
# OUT ($CARGO_TARGET_DIR/bench-results, or target/bench-results),
# BASELINE_SECS (3), QUIET_WAIT (s to wait for other work on the machine to stop, 300),
# PERF (1: afterwards, profile the server with `perf` during each phase again, setup
# excluded; PERF_KEEP=1 also keeps the recordings).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
CONCURRENCY="${CONCURRENCY:-16}"
USERS="${USERS:-32}"
PORT="${PORT:-18080}"
SERVER_CPU="${SERVER_CPU:-0}"
LOAD_CPU="${LOAD_CPU:-1}"
PHASES="${PHASES:-client-credentials,silent-sso,password-signin,passkey-signin,passkey-ceremony}"
# Where cargo puts the binaries: CARGO_TARGET_DIR (relative to the workspace root, where
# cargo runs) or target/.
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in
    /*) ;;
    *) TARGET_DIR="$ROOT/$TARGET_DIR" ;;
esac
OUT="${OUT:-$TARGET_DIR/bench-results}"
BASELINE_SECS="${BASELINE_SECS:-3}"
PERF="${PERF:-0}"
CLIENT_ID="bench-es256"
REDIRECT_URI="http://localhost:9/cb"
PASSWORD="bench-password-correct-horse-42"

if [ "$(nproc)" -lt 2 ]; then
    echo "run.sh: needs at least 2 cores (server and load on different cores)" >&2
    exit 1
fi

echo "== building (release)"
(cd "$ROOT" && cargo build --release --bin tessera --bin tessera-load)
TESSERA="$TARGET_DIR/release/tessera"
LOAD="$TARGET_DIR/release/tessera-load"

DATA="$(mktemp -d -t tessera-bench.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$DATA"
}
trap cleanup EXIT

export TESSERA__DATA_DIR="$DATA"
export TESSERA__LISTEN="127.0.0.1:$PORT"
# A host name, not an IP address: WebAuthn refuses an IP address as relying-party id.
export TESSERA__ISSUER="http://localhost:$PORT"
export TESSERA__WORKERS=1
export TESSERA__LOG__LEVEL=warn
# Every flow leaves a few short-lived entries (live grant 6 min, used code 10 min): at
# thousands of grants per second the default bound of 100 000 would be reached within
# the run and turn later requests into errors. Sized for the run, as production would be.
export TESSERA__SESSION__MEMORY_MAX_ENTRIES=2000000

echo "== setting up $DATA"
CLIENT_JSON="$("$TESSERA" client add --client-id "$CLIENT_ID" --department-en "Benchmark Department" --department-zh "基準測試部" \
    --name "Load test" --redirect-uri "$REDIRECT_URI" --scope "openid profile email" \
    --id-token-alg ES256 --no-pkce --json)"
CLIENT_SECRET="$(printf '%s' "$CLIENT_JSON" | sed -n 's/.*"client_secret" *: *"\([^"]*\)".*/\1/p')"
if [ -z "$CLIENT_SECRET" ]; then
    echo "run.sh: could not read the client secret" >&2
    exit 1
fi
for ((i = 0; i < USERS; i++)); do
    name="$(printf 'bench-%03d' "$i")"
    printf '%s\n' "$PASSWORD" | "$TESSERA" citizen add --username "$name" --password-stdin \
        --name-en "Bench Citizen $i" --json >/dev/null
done
echo "   client $CLIENT_ID and $USERS citizens registered"

echo "== starting the server on CPU $SERVER_CPU"
taskset -c "$SERVER_CPU" "$TESSERA" serve >"$DATA/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "run.sh: the server exited:" >&2
        cat "$DATA/server.log" >&2
        exit 1
    fi
    sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz"

mkdir -p "$OUT"
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "nproc: $(nproc)"
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
    echo "kernel: $(uname -r)"
    echo "rustc: $(rustc --version)"
    echo "commit: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?') (work tree may have changes)"
    echo "settings: DURATION=$DURATION WARMUP=$WARMUP CONCURRENCY=$CONCURRENCY USERS=$USERS SERVER_CPU=$SERVER_CPU LOAD_CPU=$LOAD_CPU"
} | tee "$OUT/machine.txt"

run_load() {
    # $1: phases; $2: output name
    TESSERA_LOAD_CLIENT_SECRET="$CLIENT_SECRET" TESSERA_LOAD_PASSWORD="$PASSWORD" \
        taskset -c "$LOAD_CPU" "$LOAD" run \
        --target "http://127.0.0.1:$PORT" --client-id "$CLIENT_ID" --redirect-uri "$REDIRECT_URI" \
        --users "$USERS" --user-prefix "bench-" --phases "$1" \
        --duration "$DURATION" --warmup "$WARMUP" --concurrency "$CONCURRENCY" \
        --baseline-cpu "$SERVER_CPU" --baseline-secs "$BASELINE_SECS" --server-pid "$SERVER_PID" \
        --json-out "$OUT/$2.json" --markdown-out "$OUT/$2.md"
}

# Percentage of all cores busy over 2 s (idle and iowait excluded; steal counts as busy).
machine_busy() {
    local a b i d busy=0 total=0
    read -r -a a < <(head -1 /proc/stat)
    sleep 2
    read -r -a b < <(head -1 /proc/stat)
    for i in 1 2 3 4 5 6 7 8; do
        d=$((b[i] - a[i]))
        total=$((total + d))
        if [ "$i" != 4 ] && [ "$i" != 5 ]; then busy=$((busy + d)); fi
    done
    echo $((100 * busy / (total > 0 ? total : 1)))
}

# Other work on the machine (builds, test suites) would share the cores: wait for a quiet
# moment, up to QUIET_WAIT seconds. The report's "Other CPU" column shows what remained.
QUIET_WAIT="${QUIET_WAIT:-300}"
waited=0
while busy="$(machine_busy)" && [ "$busy" -ge 10 ] && [ "$waited" -lt "$QUIET_WAIT" ]; do
    echo "   the machine is $busy % busy: waiting for it to quieten"
    waited=$((waited + 2))
done
echo "   machine busy before the load: $busy %" | tee -a "$OUT/machine.txt"

echo "== load (CPU $LOAD_CPU)"
run_load "$PHASES" results

if [ "$PERF" = "1" ] && command -v perf >/dev/null; then
    # One profile of the server per operation, while that phase runs again (no baseline;
    # the silent SSO run sets up a single citizen, so little Argon2id work is mixed in).
    IFS=',' read -r -a phase_list <<<"$PHASES"
    for phase in "${phase_list[@]}"; do
        echo "== perf profile of the server during $phase"
        users="$USERS"
        [ "$phase" = "silent-sso" ] && users=1
        log="$OUT/perf-run-$phase.log"
        TESSERA_LOAD_CLIENT_SECRET="$CLIENT_SECRET" TESSERA_LOAD_PASSWORD="$PASSWORD" \
            taskset -c "$LOAD_CPU" "$LOAD" run \
            --target "http://127.0.0.1:$PORT" --client-id "$CLIENT_ID" --redirect-uri "$REDIRECT_URI" \
            --users "$users" --user-prefix "bench-" --phases "$phase" --no-baseline \
            --duration "$DURATION" --warmup "$WARMUP" --concurrency "$CONCURRENCY" \
            --server-pid "$SERVER_PID" --markdown-out "$OUT/perf-run-$phase.md" >/dev/null 2>"$log" &
        load_pid=$!
        # Profile the phase itself (warm-up and measurement), not the setup before it, which
        # signs every citizen in with a password (Argon2id) and may register passkeys.
        for _ in $(seq 1 1200); do
            if grep -q "warm-up" "$log" || ! kill -0 "$load_pid" 2>/dev/null; then break; fi
            sleep 0.1
        done
        # Release builds have no frame pointers: unwind with DWARF (debuginfo is on in release).
        perf record -F 499 --call-graph dwarf,16384 -p "$SERVER_PID" -o "$OUT/perf-$phase.data" >/dev/null 2>&1 &
        perf_pid=$!
        load_status=0
        wait "$load_pid" || load_status=$?
        kill -INT "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
        if [ "$load_status" != 0 ]; then
            cat "$log" >&2
            exit "$load_status"
        fi
        # Inclusive ("children") cost per function; --no-inline keeps the report fast.
        perf report --no-inline -i "$OUT/perf-$phase.data" --children --percent-limit 0.5 --stdio \
            --sort symbol -g none 2>/dev/null | grep -v '^$' | grep -v '^#' | sed 's/ \+$//; s/  \+/ /g' |
            cut -c1-200 | head -200 >"$OUT/perf-$phase.txt" || true
        # Self cost per function and binary: where the instructions ran (sums to 100 %).
        perf report --no-inline -i "$OUT/perf-$phase.data" --no-children --percent-limit 0.2 --stdio \
            --sort dso,symbol -g none 2>/dev/null | grep -v '^$' | grep -v '^#' | sed 's/ \+$//; s/  \+/ /g' |
            cut -c1-200 | head -200 >"$OUT/perf-$phase-self.txt" || true
        # The samples by group of work (SQLite, JSON, signature checks, ...): see perf_groups.rs.
        perf script --no-inline -F comm,tid,ip,sym,dso -i "$OUT/perf-$phase.data" 2>/dev/null |
            "$LOAD" perf-groups >"$OUT/perf-$phase-groups.md" || true
        # PERF_KEEP=1 keeps the recording (about 100 MB a phase) for `perf report` / `perf script`.
        [ "${PERF_KEEP:-0}" = "1" ] || rm -f "$OUT/perf-$phase.data"
    done
fi

if grep -q "ERROR\|panicked" "$DATA/server.log"; then
    echo "== server log had errors:"
    grep "ERROR\|panicked" "$DATA/server.log" | head -20
fi
echo "== results in $OUT"
