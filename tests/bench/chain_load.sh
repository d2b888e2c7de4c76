#!/usr/bin/env bash
# Load through the whole IMS chain on 127.0.0.1, SIP Digest MD5 UEs:
#   ims-pcscf :21120 -> ims-icscf :21121 -> ims-scscf :21122, ims-hss
#   (REST :21202, Cx :21212), metrics :21223-21225
#   tests/bench/chain_load.sh [BUILD_DIR]           (default: build)
# Ladders (names in steps.jsonl):
#   chain_reg   registration + de-registration cycles of USERS subscribers,
#               one UDP socket per UE (sipp -t un); per cycle: UAR, MAR, UAR,
#               SAR at the I/S-CSCF, reg-event SUBSCRIBE/NOTIFY P <-> S, then
#               UAR, SAR and NOTIFY terminated for the de-registration
#   chain_call  calls from registered UE A (port 21130) to registered UE B
#               (a sipp UAS on port 21131): P -> S(orig) -> I (LIR) -> S(term)
#               -> P -> B, INVITE/100/180/200/ACK/hold/BYE/200
# Knobs: USERS (10000), REG_RATES, CALL_RATES, STEP_SECS, HOLD_MS, WORKERS (2
#   per daemon), LADDERS ("reg call"), PAUSE_S (35), RUN_BUDGET_S (1200), OUT.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd) || exit 1
BIN=$BUILD/bin
BENCH=$SRC/tests/bench
OUT=${OUT:-$BUILD/bench-results/chain-$(date +%Y%m%d-%H%M%S)}
REALM=ims.mnc001.mcc001.3gppnetwork.org
P=21120 I=21121 S=21122 UA=21130 UB=21131 LOAD_PORT=21132
REST=21202 DIA=21212 MP=21223 MI=21224 MS=21225
USERS=${USERS:-10000} WORKERS=${WORKERS:-2}
REG_RATES=${REG_RATES:-"100 200 300 400 600 800"}
CALL_RATES=${CALL_RATES:-"100 200 300 400 600 800 1000"}
LADDERS=${LADDERS:-"reg call"}
PAUSE_S=${PAUSE_S:-35}
RUN_BUDGET_S=${RUN_BUDGET_S:-1200}
TARGET=127.0.0.1:$P
LOG_LEVEL=${LOG_LEVEL:-warn}
. "$BENCH/lib/ladder.sh"
bench_check_env
for b in ims-hss ims-scscf ims-icscf ims-pcscf; do [ -x "$BIN/$b" ] || bench_die "no $BIN/$b"; done

DAEMONS=() UAS_WRAP=
cleanup() {
  local p
  for p in $UAS_WRAP "${DAEMONS[@]}"; do kill "$p" 2>/dev/null; done
  for _ in $(seq 30); do kill -0 "${DAEMONS[@]}" 2>/dev/null || break; sleep 0.1; done
  for p in $UAS_WRAP "${DAEMONS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "results: $OUT"
echo "other load before start: $(bench_other_load)" | tee "$OUT/other_before.txt"
cat > "$OUT/hss.yaml" <<YAML
log_level: $LOG_LEVEL
realm: $REALM
db: $OUT/hss.db
rest: {addr: 127.0.0.1, port: $REST}
diameter:
  listen: {addr: 127.0.0.1, port: $DIA}
YAML
cat > "$OUT/scscf.yaml" <<YAML
log_level: $LOG_LEVEL
realm: $REALM
own_uri: "sip:127.0.0.1:$S"
sip:
  listen:
    - {addr: 127.0.0.1, port: $S, proto: both}
  workers: $WORKERS
diameter: {hss_addr: 127.0.0.1, hss_port: $DIA}
db: {path: "$OUT/scscf.db"}
registrar: {max_expires: 7200}
session: {icscf_uri: "sip:127.0.0.1:$I"}
http: {port: $MS}
YAML
cat > "$OUT/icscf.yaml" <<YAML
log_level: $LOG_LEVEL
realm: $REALM
sip:
  listen:
    - {addr: 127.0.0.1, port: $I, proto: both}
  workers: $WORKERS
diameter: {hss_addr: 127.0.0.1, hss_port: $DIA}
scscf_pool:
  - {name: "sip:127.0.0.1:$S", uri: "sip:127.0.0.1:$S", capabilities: []}
http: {port: $MI}
YAML
cat > "$OUT/pcscf.yaml" <<YAML
log_level: $LOG_LEVEL
realm: $REALM
sip:
  listen:
    - {addr: 127.0.0.1, port: $P, proto: both}
  workers: $WORKERS
icscf: ["sip:127.0.0.1:$I"]
http: {port: $MP}
YAML

start() { # binary config health-url
  ( cd "$OUT" && exec "$BIN/$1" -c "$2" > "$1.log" 2>&1 ) &
  local pid=$!
  DAEMONS+=("$pid")
  for _ in $(seq 300); do
    [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "$3")" = 200 ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  bench_die "$1 not ready: $(tail -3 "$OUT/$1.log")"
}
start ims-hss hss.yaml "http://127.0.0.1:$REST/healthz"
python3 "$BENCH/lib/provision.py" "127.0.0.1:$REST" "$REALM" 1010200000001 "$USERS" secret \
  "$OUT/users.csv" || bench_die "provisioning failed"
python3 "$BENCH/lib/provision.py" "127.0.0.1:$REST" "$REALM" 1010290000001 2 secret \
  "$OUT/ues.csv" || bench_die "provisioning failed"
start ims-scscf scscf.yaml "http://127.0.0.1:$MS/healthz"
start ims-icscf icscf.yaml "http://127.0.0.1:$MI/healthz"
start ims-pcscf pcscf.yaml "http://127.0.0.1:$MP/healthz"
SUT_PIDS="${DAEMONS[*]}"
echo "daemons: hss scscf icscf pcscf = $SUT_PIDS"

for l in $LADDERS; do
  case $l in
    reg)
      ladder chain_reg "$REG_RATES" -sf "$BENCH/sipp/chain_reg_md5.xml" -inf "$OUT/users.csv" \
        -t un -max_socket 10000 -i 127.0.0.1 -p "$LOAD_PORT" -key expires 3600 -default_behaviors all,-bye ;;
    call)
      # register A from UA and B from UB, then B answers calls on UB
      A=$(sed -n 2p "$OUT/ues.csv" | cut -d';' -f1) B=$(sed -n 3p "$OUT/ues.csv" | cut -d';' -f1)
      for ue in "$A $UA 2" "$B $UB 3"; do
        set -- $ue
        printf 'SEQUENTIAL\n%s\n' "$(sed -n "${3}p" "$OUT/ues.csv")" > "$OUT/ue_$1.csv"
        ( cd "$OUT" && timeout -k 5 30 sipp "$TARGET" -sf "$BENCH/sipp/reg_md5.xml" -inf "ue_$1.csv" \
            -i 127.0.0.1 -p "$2" -m 1 -key expires 7200 -nostdin -timeout 20 -timeout_error \
            -trace_err -error_file "ue_$1.err" > "ue_$1.out" 2>&1 ) || bench_die "UE $1 did not register"
      done
      bench_start_uas "$UB"
      ladder chain_call "$CALL_RATES" -sf "$BENCH/sipp/chain_uac_call.xml" -i 127.0.0.1 -p "$UA" \
        -key user "$A" -key callee "$B" -key realm "$REALM" -default_behaviors all,-abortunexp ;;
    *) bench_die "unknown ladder $l" ;;
  esac
done
for m in "scscf $MS" "icscf $MI" "pcscf $MP"; do
  set -- $m
  curl -s -m 5 "http://127.0.0.1:$2/metrics" > "$OUT/$1_metrics.txt"
done
python3 "$BENCH/lib/summarize.py" "$OUT" | tee "$OUT/summary.txt"
