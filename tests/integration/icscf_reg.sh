#!/usr/bin/env bash
# ims-icscf against the real ims-hss (Cx over freeDiameter) and a SIPp
# stand-in for the S-CSCF:
#   REGISTER of a provisioned user -> UAR -> the S-CSCF chosen from the pool
#   by the HSS's answer -> the stand-in's 200 comes back;
#   REGISTER of an unknown user -> 403;
#   INVITE to an unknown user -> LIR -> 404;
#   INVITE to a provisioned but unregistered user -> 480;
#   with the first pool entry dead (nothing listens there), a REGISTER goes
#   on to the next S-CSCF after a second UAR (REGISTRATION_AND_CAPABILITIES);
#   with ims-scscf built, an INVITE to a user it registered -> LIR ->
#   Route: <that S-CSCF;lr> (no orig).
set -u
: "${BIN:?}" "${SRC:?}" "${WORK:?}"
REALM=ims.mnc001.mcc001.3gppnetwork.org
I=14070 UAC=14071 SC=14100 DEAD=14101 REST=14120 DIA=14130 METRICS=14141
SC_DIR=$SRC/tests/integration/sipp
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$SRC/tests/lsan.supp:print_suppressions=0}
rm -rf "$WORK" && mkdir -p "$WORK"
cd "$WORK" || exit 1
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
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
waitpid_t() { # pid seconds
  for _ in $(seq 1 $(($2 * 10))); do kill -0 "$1" 2>/dev/null || { wait "$1"; return $?; }; sleep 0.1; done
  return 124
}

cat > hss.yaml <<YAML
log_level: info
realm: $REALM
db: $WORK/hss.db
rest:
  addr: 127.0.0.1
  port: $REST
diameter:
  listen:
    port: $DIA
YAML
"$BIN/ims-hss" -c hss.yaml >hss.log 2>&1 &
HSS_PID=$!
PIDS+=("$HSS_PID")
wait_http "http://127.0.0.1:$REST/healthz" "$HSS_PID" 10 || { fail "ims-hss did not start"; cat hss.log; exit 1; }

provision() { # imsi
  cat > sub.json <<JSON
{"impi": "$1@$REALM", "impus": ["sip:$1@$REALM"],
 "auth": {"k": "465b5ce8b199b49faa5f0a2ee238a6bc", "op": "cdc202d5123e20f62b6d676ac72cb318",
          "amf": "8000", "sqn": "000000000000"}}
JSON
  curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
       --data-binary @sub.json "http://127.0.0.1:$REST/api/v1/subscribers"
}
[ "$(provision 001010000000001)" = 201 ] || fail "provision 1"
[ "$(provision 001010000000002)" = 201 ] || fail "provision 2"

write_icscf() { # pool entries (yaml list items)
  cat > icscf.yaml <<YAML
log_level: debug
realm: $REALM
sip:
  listen:
    - {addr: 127.0.0.1, port: $I, proto: both}
  workers: 2
diameter:
  hss_addr: 127.0.0.1
  hss_port: $DIA
  timeout_ms: 2000
scscf_pool:
$1
http:
  port: $METRICS
YAML
}
start_icscf() {
  "$BIN/ims-icscf" -t -c icscf.yaml >/dev/null 2>&1 || { fail "icscf config check"; "$BIN/ims-icscf" -t -c icscf.yaml; return 1; }
  "$BIN/ims-icscf" -c icscf.yaml >>icscf.log 2>&1 &
  ICSCF_PID=$!
  PIDS+=("$ICSCF_PID")
  # /healthz is 200 once the HSS peer is connected
  wait_http "http://127.0.0.1:$METRICS/healthz" "$ICSCF_PID" 20 || { fail "ims-icscf not ready"; tail -20 icscf.log; return 1; }
}
stop_icscf() { kill "$ICSCF_PID" 2>/dev/null; waitpid_t "$ICSCF_PID" 10 || kill -9 "$ICSCF_PID" 2>/dev/null; }

scen() { # template code -> scenario file in WORK
  sed "s/@CODE@/$2/" "$SC_DIR/$1.xml" > "$1_$2.xml"
  echo "$WORK/$1_$2.xml"
}
uac() { # name scenario [args...]
  local name=$1 sf=$2; shift 2
  timeout 30 sipp "127.0.0.1:$I" -sf "$sf" -i 127.0.0.1 -p "$UAC" -m 1 -nostdin -trace_err \
     -timeout 15 -timeout_error -key realm "$REALM" "$@" >"$name.out" 2>&1
}
uas_bg() { # name port
  sipp -sf "$SC_DIR/icscf_scscf_uas.xml" -i 127.0.0.1 -p "$2" -m 1 -nostdin -trace_err \
     -timeout 20 -timeout_error >"$1.out" 2>&1 &
  UAS_PID=$!
  PIDS+=("$UAS_PID")
  sleep 0.5
}

write_icscf "  - {name: \"sip:scscf.$REALM:6060\", uri: \"sip:127.0.0.1:$SC\", capabilities: [1]}"
start_icscf || exit 1

# 1. REGISTER of a known user reaches the S-CSCF and its 200 comes back.
uas_bg scscf "$SC"
if uac reg1 "$(scen icscf_register 200)" -key user 001010000000001 -key expires 600; then
  ok "REGISTER -> UAR -> S-CSCF -> 200"
else fail "REGISTER of a provisioned user"; tail -5 reg1.out; fi
waitpid_t "$UAS_PID" 5 && ok "S-CSCF stand-in got the REGISTER with Path and P-Visited-Network-ID" \
  || fail "S-CSCF stand-in checks"
grep -q "uaa.forward" icscf.log && ok "UAA led to a forward" || fail "no uaa.forward logged"

# 2. Unknown user: 403.
if uac reg2 "$(scen icscf_register 403)" -key user 001019999999999 -key expires 600; then
  ok "REGISTER of an unknown user -> 403"
else fail "unknown user REGISTER"; tail -5 reg2.out; fi

# 3. INVITE to an unknown user: 404.
if uac inv1 "$(scen icscf_invite 404)" -key callee 001019999999999; then
  ok "INVITE to an unknown user -> LIR -> 404"
else fail "INVITE to unknown user"; tail -5 inv1.out; fi

# 4. INVITE to a user nobody registered (no unregistered services): 480.
if uac inv2 "$(scen icscf_invite 480)" -key callee 001010000000002; then
  ok "INVITE to an unregistered user -> LIR -> 480"
else fail "INVITE to unregistered user"; tail -5 inv2.out; fi
stop_icscf

# 5. Failover: the first S-CSCF of the pool is dead.
write_icscf "  - {name: \"sip:scscf0.$REALM:6060\", uri: \"sip:127.0.0.1:$DEAD;transport=tcp\", capabilities: [1]}
  - {name: \"sip:scscf1.$REALM:6060\", uri: \"sip:127.0.0.1:$SC\", capabilities: [1]}"
start_icscf || exit 1
uas_bg scscf2 "$SC"
if uac reg3 "$(scen icscf_register 200)" -key user 001010000000002 -key expires 600; then
  ok "dead S-CSCF skipped: second UAR, next S-CSCF answered 200"
else fail "failover REGISTER"; tail -5 reg3.out; tail -20 icscf.log; fi
waitpid_t "$UAS_PID" 5 || fail "second S-CSCF did not get the REGISTER"
grep -q "scscf.failed" icscf.log && ok "failure of the first S-CSCF was seen" || fail "no scscf.failed logged"

curl -s -m 2 "http://127.0.0.1:$METRICS/metrics" | grep -q 'icscf_cx_answers_total' \
  && ok "metrics" || fail "icscf_cx_answers_total missing"
kill -0 "$ICSCF_PID" 2>/dev/null && ok "ims-icscf still running" || fail "ims-icscf died"

# 6. A clean stop, and nothing for the sanitizers to report.
kill -TERM "$ICSCF_PID" 2>/dev/null
waitpid_t "$ICSCF_PID" 15 && ok "stopped cleanly on SIGTERM" || fail "did not stop on SIGTERM"
if grep -q "Sanitizer\|runtime error" icscf.log hss.log; then
  fail "sanitizer report"; grep -A20 "Sanitizer\|runtime error" icscf.log hss.log | head -60
fi

if [ "$FAILS" -ne 0 ]; then
  echo "--- icscf.log (tail)"; tail -40 icscf.log
  echo "$FAILS failure(s)"; exit 1
fi
echo "all passed"
