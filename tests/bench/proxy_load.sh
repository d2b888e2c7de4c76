#!/usr/bin/env bash
# Call load through the stateful proxy core (sip-proxy-test, Record-Route on,
# 2 UDP workers) on 127.0.0.1, with the pass rule of the Kamailio reference
# bench (see tests/bench/README.md):
#   sipp UAC :21080 -> sip-proxy-test :21060 -> sipp UAS :21070
#   tests/bench/proxy_load.sh [BUILD_DIR]        (default: build)
# Knobs: CALL_RATES, STEP_SECS, HOLD_MS, WORKERS (2), PROXY_ARGS (more options
#   for sip-proxy-test, e.g. "--t1 100"), RUN_BUDGET_S (900), OUT,
#   PAUSE_S (35: the proxy keeps INVITE transactions 64*T1 = 32 s after the
#   final response (RFC 6026 timers L and M) and BYE ones 32 s (timer J), so
#   each step starts once the previous step's transactions are gone).
# Results: $OUT/steps.jsonl and a table from lib/summarize.py.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/bin
BENCH=$SRC/tests/bench
OUT=${OUT:-$BUILD/bench-results/proxy-$(date +%Y%m%d-%H%M%S)}
PROXY_PORT=${PROXY_PORT:-21060} UAS_PORT=${UAS_PORT:-21070} LOAD_PORT=${LOAD_PORT:-21080}
WORKERS=${WORKERS:-2}
CALL_RATES=${CALL_RATES:-"500 1000 1500 2000 3000 4000 5000 6000"}
PAUSE_S=${PAUSE_S:-35}
RUN_BUDGET_S=${RUN_BUDGET_S:-900}
PROXY_ARGS=${PROXY_ARGS:-}
TARGET=127.0.0.1:$PROXY_PORT
. "$BENCH/lib/ladder.sh"
bench_check_env
[ -x "$BIN/sip-proxy-test" ] || bench_die "no $BIN/sip-proxy-test (build with -DIMS_TESTS=ON)"

PROXY_PID='' UAS_PID='' UAS_WRAP=''
cleanup() {
  local p
  for p in $UAS_WRAP $PROXY_PID; do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in $UAS_WRAP $PROXY_PID; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "results: $OUT"
echo "other load before start: $(bench_other_load)" | tee "$OUT/other_before.txt"
"$BIN/sip-proxy-test" -l "$TARGET:udp" -w "$WORKERS" --rr --log warn $PROXY_ARGS \
  > "$OUT/proxy.out" 2> "$OUT/proxy.log" &
PROXY_PID=$!
for _ in $(seq 50); do ss -lun | grep -q ":$PROXY_PORT " && break; sleep 0.1; done
kill -0 "$PROXY_PID" 2>/dev/null || bench_die "sip-proxy-test did not start: $(tail -3 "$OUT/proxy.log")"
SUT_PIDS=$PROXY_PID

UAS_TMO=$(( RUN_BUDGET_S + 120 ))
( cd "$OUT" && exec timeout -k 5 "$UAS_TMO" sipp -sf "$BENCH/sipp/uas_call.xml" -i 127.0.0.1 \
    -p "$UAS_PORT" -nostdin -buff_size 4194304 -timeout "$UAS_TMO" -trace_err \
    -error_file uas_errors.log > uas.out 2>&1 ) &
UAS_WRAP=$!
sleep 0.5
kill -0 "$UAS_WRAP" 2>/dev/null || bench_die "UAS sipp did not start"
# the UAS pid above is `timeout`; sipp is its child
UAS_PID=$(pgrep -P "$UAS_WRAP" sipp || echo "$UAS_WRAP")

ladder proxy_call "$CALL_RATES" -sf "$BENCH/sipp/uac_call.xml" -i 127.0.0.1 -p "$LOAD_PORT" \
  -s uas -key ruri_host "127.0.0.1:$UAS_PORT" -default_behaviors all,-abortunexp
python3 "$BENCH/lib/summarize.py" "$OUT" | tee "$OUT/summary.txt"
