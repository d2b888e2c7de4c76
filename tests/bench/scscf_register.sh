#!/usr/bin/env bash
# REGISTER load straight at ims-scscf with ims-hss behind it, SIP Digest MD5:
# every registration is REGISTER -> MAR -> 401, REGISTER -> SAR -> 200.
#   sipp :21180 -> ims-scscf :21100 (Diameter) -> ims-hss :21210 (REST :21200)
#   tests/bench/scscf_register.sh [BUILD_DIR]      (default: build)
# Ladders (names in steps.jsonl):
#   scscf_reg       initial registrations (users cycle: after the first pass a
#                   REGISTER renews an existing binding, still challenged)
#   scscf_rereg     one initial registration then 3 refreshes on the same
#                   Call-ID with the nonce reused (nc 2, 3, 4): rtd 2 = refresh
# Knobs: USERS (10000), REG_RATES, REREG_RATES, STEP_SECS, WORKERS (2),
#   SCSCF_DB (file in OUT; ":memory:" keeps nothing), LADDERS ("reg rereg"),
#   RUN_BUDGET_S (900), OUT.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/bin
BENCH=$SRC/tests/bench
OUT=${OUT:-$BUILD/bench-results/scscf-$(date +%Y%m%d-%H%M%S)}
REALM=ims.mnc001.mcc001.3gppnetwork.org
SIP_PORT=${SIP_PORT:-21100} LOAD_PORT=${LOAD_PORT:-21180} REST_PORT=${REST_PORT:-21200}
DIA_PORT=${DIA_PORT:-21210} METRICS_PORT=${METRICS_PORT:-21220}
USERS=${USERS:-10000} WORKERS=${WORKERS:-2}
REG_RATES=${REG_RATES:-"250 500 1000 1500 2000 3000 4000 5000"}
REREG_RATES=${REREG_RATES:-"100 250 500 750 1000 1500"}
LADDERS=${LADDERS:-"reg rereg"}
RUN_BUDGET_S=${RUN_BUDGET_S:-900}
# server transactions stay 64*T1 = 32 s after their final response (timer J)
PAUSE_S=${PAUSE_S:-35}
HOLD_MS=0
TARGET=127.0.0.1:$SIP_PORT
. "$BENCH/lib/ladder.sh"
bench_check_env
SCSCF_DB=${SCSCF_DB:-$OUT/scscf.db}
for b in ims-hss ims-scscf; do [ -x "$BIN/$b" ] || bench_die "no $BIN/$b"; done

HSS_PID='' SCSCF_PID=''
cleanup() {
  local p
  for p in $SCSCF_PID $HSS_PID; do kill "$p" 2>/dev/null; done
  for _ in $(seq 30); do kill -0 $SCSCF_PID $HSS_PID 2>/dev/null || break; sleep 0.1; done
  for p in $SCSCF_PID $HSS_PID; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "results: $OUT"
echo "other load before start: $(bench_other_load)" | tee "$OUT/other_before.txt"
cat > "$OUT/hss.yaml" <<YAML
log_level: warn
realm: $REALM
db: $OUT/hss.db
rest: {addr: 127.0.0.1, port: $REST_PORT}
diameter:
  listen: {addr: 127.0.0.1, port: $DIA_PORT}
YAML
cat > "$OUT/scscf.yaml" <<YAML
log_level: warn
realm: $REALM
own_uri: sip:scscf.$REALM:$SIP_PORT
sip:
  listen:
    - {addr: 127.0.0.1, port: $SIP_PORT, proto: udp}
  workers: $WORKERS
diameter: {hss_addr: 127.0.0.1, hss_port: $DIA_PORT, timeout_ms: 3000}
db: {path: "$SCSCF_DB"}
registrar: {max_expires: 7200}
http: {port: $METRICS_PORT}
YAML
( cd "$OUT" && exec "$BIN/ims-hss" -c hss.yaml > hss.log 2>&1 ) &
HSS_PID=$!
for _ in $(seq 100); do curl -s -m 1 -o /dev/null "http://127.0.0.1:$REST_PORT/healthz" && break; sleep 0.1; done
kill -0 "$HSS_PID" 2>/dev/null || bench_die "ims-hss did not start: $(tail -3 "$OUT/hss.log")"
python3 "$BENCH/lib/provision.py" "127.0.0.1:$REST_PORT" "$REALM" 1010100000001 "$USERS" secret \
  "$OUT/users.csv" || bench_die "provisioning failed"
( cd "$OUT" && exec "$BIN/ims-scscf" -c scscf.yaml > scscf.log 2>&1 ) &
SCSCF_PID=$!
for _ in $(seq 150); do
  [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/healthz")" = 200 ] && break
  kill -0 "$SCSCF_PID" 2>/dev/null || break
  sleep 0.1
done
[ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/healthz")" = 200 ] ||
  bench_die "ims-scscf not ready: $(tail -3 "$OUT/scscf.log")"
SUT_PIDS="$SCSCF_PID $HSS_PID"

for l in $LADDERS; do
  case $l in
    reg) ladder scscf_reg "$REG_RATES" -sf "$BENCH/sipp/reg_md5.xml" -inf "$OUT/users.csv" \
           -i 127.0.0.1 -p "$LOAD_PORT" -key expires 3600 -default_behaviors all,-bye ;;
    rereg) ladder scscf_rereg "$REREG_RATES" -sf "$BENCH/sipp/rereg_md5.xml" -inf "$OUT/users.csv" \
           -i 127.0.0.1 -p "$LOAD_PORT" -key expires 3600 -default_behaviors all,-bye ;;
    *) bench_die "unknown ladder $l" ;;
  esac
done
curl -s -m 5 "http://127.0.0.1:$METRICS_PORT/metrics" > "$OUT/scscf_metrics.txt"
python3 "$BENCH/lib/summarize.py" "$OUT" | tee "$OUT/summary.txt"
