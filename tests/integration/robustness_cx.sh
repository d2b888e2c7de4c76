#!/usr/bin/env bash
# Robustness of the Cx servers (SPEC flow 5 for Diameter): ims-hss and the
# S-CSCF's RTR/PPR side get, from a peer that passed the capabilities
# exchange, the requests that used to stop freeDiameter 1.2.1 (found by
# fuzz_cx_msg; dia/cx-guard.h): a Session-Id with the V flag (abort), a
# Session-Id with a NUL byte (Cx stack shut down), R+E bits with a Proxy-Info
# that is no AVP list or has an unknown child (same), plus a missing AVP and
# a bad enum. Each gets its exact Diameter answer code, the daemon stays up
# and still answers a valid request on a new connection.
# (The HSS's own malformed-AVP cases are in hss_cx.sh.)
set -u
: "${BIN:?}" "${SRC:?}" "${WORK:?}"
REALM=ims.mnc001.mcc001.3gppnetwork.org
REST=20101 DIA=20111 SDIA=20112 NOHSS=20113 S=20063 MS=20123
CORPUS=$SRC/tests/fuzz/corpus/cx_msg
TOOLS=$SRC/tests/integration/robustness
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
wait_http() { # url pid seconds
  for _ in $(seq 1 $(($3 * 10))); do
    [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "$1")" = 200 ] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
for port in $REST $DIA $SDIA $S $MS; do
  if ss -ltnu 2>/dev/null | grep -q "[:.]$port "; then
    echo "FAIL: port $port is already in use (another run of this test?)"; exit 1
  fi
done
cat > hss.yaml <<YAML
log_level: info
realm: $REALM
db: $WORK/hss.db
rest: {addr: 127.0.0.1, port: $REST}
diameter:
  listen: {addr: 127.0.0.1, port: $DIA}
YAML
cat > scscf.yaml <<YAML
log_level: info
realm: $REALM
own_uri: "sip:127.0.0.1:$S"
sip:
  listen:
    - {addr: 127.0.0.1, port: $S, proto: both}
  workers: 1
diameter: {hss_addr: 127.0.0.1, hss_port: $NOHSS, port: $SDIA}
db: {path: "$WORK/scscf.db"}
http: {port: $MS}
YAML
"$BIN/ims-hss" -c hss.yaml >hss.log 2>&1 &
HSS_PID=$!; PIDS+=("$HSS_PID")
wait_http "http://127.0.0.1:$REST/healthz" "$HSS_PID" 30 || { fail "ims-hss not ready"; tail -20 hss.log; exit 1; }
# The S-CSCF accepts one Diameter peer, the HSS: its configured HSS port
# is left dead and dia-send.py takes the HSS's identity to reach its
# RTR/PPR server.
"$BIN/ims-scscf" -c scscf.yaml >scscf.log 2>&1 &
SCSCF_PID=$!; PIDS+=("$SCSCF_PID")
for _ in $(seq 1 100); do
  curl -s -m 1 -o /dev/null "http://127.0.0.1:$MS/metrics" && break
  kill -0 "$SCSCF_PID" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$SCSCF_PID" 2>/dev/null || { fail "ims-scscf did not start"; tail -20 scscf.log; exit 1; }
ok "ims-hss and ims-scscf running"

# send PORT FILE... -> dia-send.py lines in out.<port>
send() { # PORT [--identity ID] FILE...
  local port=$1; shift
  timeout 60 python3 "$TOOLS/dia-send.py" --port "$port" --realm "$REALM" --wait 3 "$@" >"out.$port" 2>&1 \
    || fail "dia-send to $port: $(tail -3 "out.$port")"
}
check() { # port file want-line-suffix what
  local got; got=$(grep "^file=$2 " "out.$1" | head -1)
  if [ "$got" = "file=$2 $3" ]; then ok "$4 ($3)"; else fail "$4: got '$got', want '$3'"; fi
}

# --- ims-hss ---------------------------------------------------------------
send $DIA "$CORPUS/regress-session-id-v-flag.bin" "$CORPUS/uar.bin" \
  "$CORPUS/regress-session-id-nul.bin" "$CORPUS/uar.bin" \
  "$CORPUS/regress-re-bits-bad-proxy-info.bin" "$CORPUS/uar.bin" \
  "$CORPUS/regress-fuzz-proxy-info-v-flag-child.bin" "$CORPUS/regress-fuzz-proxy-info-v-flag.bin" \
  "$CORPUS/bad-uar-no-user.bin" \
  "$CORPUS/bad-uar-enum.bin" "$CORPUS/uar.bin"
# RFC 6733 §7.1.5: the unusable Session-Id is gone, so it is missing
check $DIA regress-session-id-v-flag.bin "code=5005 failed_avp=263" "HSS: Session-Id with the V flag answered"
check $DIA regress-session-id-nul.bin "code=5005 failed_avp=263" "HSS: Session-Id with a NUL answered"
# RFC 6733 §7.1.3 DIAMETER_INVALID_HDR_BITS
check $DIA regress-re-bits-bad-proxy-info.bin "code=3008 failed_avp=0" "HSS: R+E bits with a broken Proxy-Info answered"
check $DIA regress-fuzz-proxy-info-v-flag-child.bin "code=3008 failed_avp=0" "HSS: fuzzer's Proxy-Info case answered"
check $DIA regress-fuzz-proxy-info-v-flag.bin "code=3008 failed_avp=0" "HSS: fuzzer's Proxy-Info with the V flag answered"
check $DIA bad-uar-no-user.bin "code=5005 failed_avp=1" "HSS: UAR without User-Name"
check $DIA bad-uar-enum.bin "code=5004 failed_avp=623" "HSS: UAR with User-Authorization-Type 7"
n=$(grep -c "^file=uar.bin code=5001 " "out.$DIA")
[ "$n" = 4 ] && ok "HSS answered every valid UAR in between (DIAMETER_ERROR_USER_UNKNOWN)" \
  || fail "HSS valid UARs answered: $n of 4 ($(cat "out.$DIA" | tr '\n' ' '))"
grep -q "guard.avp_removed" hss.log && ok "HSS logged the removed AVPs" || fail "no guard.avp_removed in hss.log"
send $DIA "$CORPUS/uar.bin"
check $DIA uar.bin "code=5001 failed_avp=0" "HSS still answers on a new connection"
kill -0 "$HSS_PID" 2>/dev/null && ok "ims-hss still running" || fail "ims-hss died"
grep -q "Initiating freeDiameter shutdown\|unrecoverable error" hss.log \
  && fail "freeDiameter shut down inside ims-hss" || ok "HSS's Diameter stack still up"

# --- ims-scscf (RTR/PPR server) --------------------------------------------
send $SDIA --identity "hss.$REALM" "$CORPUS/regress-session-id-v-flag.bin" "$CORPUS/regress-session-id-nul.bin" \
  "$CORPUS/regress-re-bits-bad-proxy-info.bin" "$CORPUS/bad-rtr-reason.bin" "$CORPUS/rtr.bin"
check $SDIA regress-session-id-v-flag.bin "code=5005 failed_avp=263" "S-CSCF: Session-Id with the V flag answered"
check $SDIA regress-session-id-nul.bin "code=5005 failed_avp=263" "S-CSCF: Session-Id with a NUL answered"
check $SDIA regress-re-bits-bad-proxy-info.bin "code=3008 failed_avp=0" "S-CSCF: R+E bits with a broken Proxy-Info answered"
check $SDIA bad-rtr-reason.bin "code=5004 failed_avp=616" "S-CSCF: RTR with Reason-Code 9"
grep -q "^file=rtr.bin code=" "out.$SDIA" && ok "S-CSCF answered a valid RTR: $(grep '^file=rtr.bin' "out.$SDIA")" \
  || fail "S-CSCF valid RTR: $(grep '^file=rtr.bin' "out.$SDIA")"
kill -0 "$SCSCF_PID" 2>/dev/null && ok "ims-scscf still running" || fail "ims-scscf died"
grep -q "Initiating freeDiameter shutdown\|unrecoverable error" scscf.log \
  && fail "freeDiameter shut down inside ims-scscf" || ok "S-CSCF's Diameter stack still up"
# freeDiameter may still be closing the previous connection of this
# identity: a few tries, bounded
for _ in 1 2 3 4 5 6; do
  timeout 60 python3 "$TOOLS/dia-send.py" --port $SDIA --realm "$REALM" --wait 3 \
    --identity "hss.$REALM" "$CORPUS/rtr.bin" >"out.$SDIA" 2>&1
  grep -q "^file=rtr.bin code=" "out.$SDIA" && break
  sleep 2
done
grep -q "^file=rtr.bin code=" "out.$SDIA" && ok "S-CSCF still answers RTR on a new connection" \
  || fail "S-CSCF after the cases: $(cat "out.$SDIA")"

[ "$FAILS" = 0 ] && echo "robustness_cx: all passed" || echo "robustness_cx: $FAILS failure(s)"
[ "$FAILS" = 0 ]
