#!/usr/bin/env bash
# ctest-resource-lock: ports_240xx
# IMS AKA resynchronisation end to end (TS 33.102 §6.3.5, RFC 3310 §3.4,
# TS 29.228 §6.3.3): the real ims-hss and ims-scscf on loopback, and a UE
# of our own (scscf_resync/ue.py with tests/tools/aka-ue as its USIM),
# because SIPp 3.6.1 never sends auts. The UE registers (SQN from the HSS),
# then claims an SQN_MS far ahead and answers with auts -> resync MAR ->
# fresh 401 with SQN_MS + 1 -> 200; a wrong MAC-S leaves the HSS's SQN
# alone; an auts that is no AUTS gets 403. Ports 24060-24129.
set -u
: "${BIN:?}" "${SRC:?}" "${WORK:?}"
SIP_PORT=24060
UE_PORT=24061
REST_PORT=24100
DIA_PORT=24110
SCSCF_DIA_PORT=24111
METRICS_PORT=24120
REALM=ims.mnc001.mcc001.3gppnetwork.org
API=http://127.0.0.1:$REST_PORT/api/v1/subscribers
# SPEC.md lab keys (TS 35.208 test set 1); our UE reads hex
K=465b5ce8b199b49faa5f0a2ee238a6bc
OP=cdc202d5123e20f62b6d676ac72cb318
IMSI=001010000000001
IMPI=$IMSI@$REALM
SQN0=0x1f # provisioned: the first vector carries 0x20
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$SRC/tests/lsan.supp:print_suppressions=0}
rm -rf "$WORK" && mkdir -p "$WORK"
cd "$WORK" || exit 1

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
for t in ims-hss ims-scscf aka-ue; do
  [ -x "$BIN/$t" ] || { echo "FAIL: no $BIN/$t"; exit 1; }
done
command -v python3 >/dev/null || { echo "FAIL: python3 not installed"; exit 1; }

cat > hss.yaml <<YAML
log_level: info
realm: $REALM
db: $WORK/hss.db
rest:
  addr: 127.0.0.1
  port: $REST_PORT
diameter:
  listen:
    addr: 127.0.0.1
    port: $DIA_PORT
YAML
cat > scscf.yaml <<YAML
log_level: info
realm: $REALM
own_uri: sip:scscf.$REALM:$SIP_PORT
sip:
  listen:
    - {addr: 127.0.0.1, port: $SIP_PORT, proto: udp}
  workers: 2
diameter:
  hss_addr: 127.0.0.1
  hss_port: $DIA_PORT
  port: $SCSCF_DIA_PORT
  timeout_ms: 2000
db:
  path: $WORK/scscf.db
http:
  port: $METRICS_PORT
YAML

"$BIN/ims-hss" -c hss.yaml >>hss.log 2>&1 &
HSS_PID=$!
PIDS+=("$HSS_PID")
for _ in $(seq 1 100); do
  curl -s -m 1 -o /dev/null "http://127.0.0.1:$REST_PORT/healthz" && break
  kill -0 "$HSS_PID" 2>/dev/null || break
  sleep 0.1
done
curl -s -m 1 -o /dev/null "http://127.0.0.1:$REST_PORT/healthz" \
  || { echo "FAIL: ims-hss did not start"; tail -20 hss.log; exit 1; }
"$BIN/ims-scscf" -c scscf.yaml >>scscf.log 2>&1 &
SCSCF_PID=$!
PIDS+=("$SCSCF_PID")
ready=0
for _ in $(seq 1 150); do # /healthz is 200 once the HSS connection is up
  [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/healthz")" = 200 ] \
    && { ready=1; break; }
  kill -0 "$SCSCF_PID" 2>/dev/null || break
  sleep 0.1
done
[ $ready = 1 ] && ok "ims-scscf ready (HSS connected)" \
  || { echo "FAIL: ims-scscf not ready"; tail -30 scscf.log; exit 1; }

sqn_hex=$(printf '%012x' $((SQN0)))
code=$(curl -s -m 5 -o post.out -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data "{\"impi\":\"$IMPI\",\"impus\":[\"sip:$IMPI\",\"tel:+15550000001\"],
    \"auth\":{\"k\":\"$K\",\"op\":\"$OP\",\"amf\":\"8000\",\"sqn\":\"$sqn_hex\"}}" "$API")
[ "$code" = 201 ] && ok "provisioned $IMPI (SPEC keys, SQN $SQN0)" \
  || { echo "FAIL: POST: $code $(cat post.out)"; exit 1; }

timeout 60 python3 "$SRC/tests/integration/scscf_resync/ue.py" --scscf-port $SIP_PORT \
  --local-port $UE_PORT --impi "$IMPI" --realm "$REALM" --k $K --op $OP \
  --aka-ue "$BIN/aka-ue" --api "$API" --sqn0 $SQN0 --sqn-ms 0x1000 --sqn-ms2 0x5000 >ue.out 2>&1
ue_rc=$?
cat ue.out
[ $ue_rc = 0 ] || fail "the UE reported failures (exit $ue_rc)"

# the daemons' side of the story
grep -q "mar.resync impi=$IMPI sqn_ms=4096 rc=0" hss.log && ok "HSS: resync to SQN_MS 0x1000 logged" \
  || fail "no mar.resync sqn_ms=4096 in hss.log"
grep -q "mar.resync impi=$IMPI sqn_ms=20480 rc=0" hss.log && ok "HSS: resync to SQN_MS 0x5000 logged" \
  || fail "no mar.resync sqn_ms=20480 in hss.log"
n=$(grep -c "mar.resync_mac_s_failed impi=$IMPI" hss.log)
[ "$n" = 1 ] && ok "HSS: the tampered MAC-S refused once" || fail "mar.resync_mac_s_failed seen $n times"
n=$(grep -c "register.resync impi=$IMPI" scscf.log)
[ "$n" = 3 ] && ok "S-CSCF: 3 resync MARs (two good auts, one tampered)" || fail "register.resync seen $n times"
m=$(curl -s -m 5 "http://127.0.0.1:$METRICS_PORT/metrics" \
  | sed -n 's/^scscf_register_total{result="resync"} \([0-9]*\).*/\1/p')
[ "$m" = 3 ] && ok "/metrics scscf_register_total{result=\"resync\"} 3" || fail "resync metric: '$m'"
st=$(curl -s -m 5 "$API/$IMPI/registration" | sed -n 's/.*"state" *: *"\([A-Z_]*\)".*/\1/p')
[ "$st" = REGISTERED ] && ok "HSS sees $IMPI REGISTERED" || fail "HSS state: $st"

# a clean stop (SIGTERM) lets the sanitizers report leaks
for p in "$SCSCF_PID" "$HSS_PID"; do
  kill "$p" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null
  wait "$p" 2>/dev/null
done
grep -q 'app.stopping' scscf.log && ok "ims-scscf stopped on SIGTERM" || fail "no clean stop of ims-scscf"
for f in scscf.log hss.log; do
  if grep -E 'runtime error|AddressSanitizer|LeakSanitizer' "$f" >/dev/null; then
    fail "sanitizer report in $f"; grep -E -A8 'runtime error|AddressSanitizer|LeakSanitizer' "$f" | head -30
  fi
done
echo "failures: $FAILS"
[ $FAILS = 0 ]
