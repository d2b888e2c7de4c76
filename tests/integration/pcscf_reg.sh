#!/usr/bin/env bash
# ims-pcscf against SIPp peers on loopback:
#   UE (14061, UDP) -> P-CSCF (14060) -> stand-in I-CSCF (14062, TCP; the
#   first configured I-CSCF, 14066, is dead and must be skipped): the REGISTER
#   carries Path/Require/P-Visited-Network-ID/P-Charging-Vector and no forged
#   header; the 401 reaches the UE without ck/ik; the 200 is stored.
#   The P-CSCF subscribes to the reg event at the stand-in S-CSCF (14063,
#   from the Service-Route), the UE's INVITE reaches it with the identity
#   asserted from P-Preferred-Identity and the Service-Route as Route.
#   An INVITE from an unregistered address (14064) gets 403.
#   A MESSAGE from the core along the Path (14065) reaches the UE on 14061.
#   A forged reg-event NOTIFY gets 481; the stand-in S-CSCF's NOTIFY
#   "terminated" in the subscription dialog drops the registration: the next
#   MESSAGE gets 480.
set -u
: "${BIN:?}" "${SRC:?}" "${WORK:?}"
REALM=ims.mnc001.mcc001.3gppnetwork.org
P=14060 UE=14061 IC=14062 SC=14063 STRANGER=14064 CORE=14065 DEAD=14066 METRICS=14140
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

cat > pcscf.yaml <<YAML
log_level: debug
realm: $REALM
sip:
  listen:
    - {addr: 127.0.0.1, port: $P, proto: both}
  workers: 2
  # the stand-in S-CSCF's Service-Route names a host DNS does not know
  hosts: ["scscf.test.invalid=127.0.0.1"]
icscf: ["sip:127.0.0.1:$DEAD;transport=tcp", "sip:127.0.0.1:$IC;transport=tcp"]
http:
  port: $METRICS
YAML

"$BIN/ims-pcscf" -t -c pcscf.yaml >/dev/null 2>&1 || { fail "config check"; cat pcscf.yaml; exit 1; }
"$BIN/ims-pcscf" -c pcscf.yaml >pcscf.log 2>&1 &
PPID_=$!
PIDS+=("$PPID_")
for _ in $(seq 1 50); do
  curl -s -m 1 -o /dev/null "http://127.0.0.1:$METRICS/healthz" && break
  kill -0 "$PPID_" 2>/dev/null || break
  sleep 0.1
done
curl -s -m 1 -o /dev/null "http://127.0.0.1:$METRICS/healthz" || { fail "ims-pcscf did not start"; cat pcscf.log; exit 1; }

# A second P-CSCF on the same SIP port must not start (SPEC.md: one line
# naming the port, exit 1).
sed "s/port: $METRICS/port: $((METRICS + 9))/" pcscf.yaml > pcscf2.yaml
timeout 10 "$BIN/ims-pcscf" -c pcscf2.yaml >pcscf2.log 2>&1
rc=$?
out=$(grep -v '^20' pcscf2.log)
if [ "$rc" = 1 ] && echo "$out" | grep -q "127.0.0.1:$P"; then ok "port in use: $out"
else fail "second P-CSCF on the same port: rc=$rc out=$out"; fi

sipp_bg() { # name port scenario [args...]: a SIPp UAS in the background
  local name=$1 port=$2 sf=$3; shift 3
  sipp -sf "$SC_DIR/$sf" -i 127.0.0.1 -p "$port" -m "${M:-1}" -nostdin -trace_err -trace_msg \
       -timeout 20 -timeout_error "$@" >"$name.out" 2>&1 &
  PIDS+=("$!")
  eval "${name}_PID=$!"
}
sipp_run() { # name port scenario target [args...]: a SIPp UAC, waits
  local name=$1 port=$2 sf=$3 target=$4; shift 4
  timeout 30 sipp "$target" -sf "$SC_DIR/$sf" -i 127.0.0.1 -p "$port" -m 1 -nostdin -trace_err \
       -timeout 20 -timeout_error "$@" >"$name.out" 2>&1
}
waitpid_t() { # pid seconds
  for _ in $(seq 1 $(($2 * 10))); do kill -0 "$1" 2>/dev/null || { wait "$1"; return $?; }; sleep 0.1; done
  return 124
}

# 1. Registration through the P-CSCF.
sipp_bg icscf "$IC" pcscf_icscf_uas.xml -t t1 -key realm "$REALM" -key user ue1 -key scscf "scscf.test.invalid:$SC"
M=2 sipp_bg scscf "$SC" pcscf_scscf_uas.xml -key realm "$REALM" -key user ue1
sleep 0.5
if sipp_run ue "$UE" pcscf_ue.xml "127.0.0.1:$P" -key realm "$REALM" -key user ue1; then
  ok "UE registered; 401 had no ck/ik; INVITE answered by the S-CSCF stand-in"
else
  fail "UE scenario (see ue.out, pcscf_ue_*_errors.log)"; tail -5 ue.out
fi
if waitpid_t "$icscf_PID" 5; then ok "I-CSCF stand-in saw Path, Require: path, P-Visited-Network-ID, icid, no forged headers"
else fail "I-CSCF stand-in checks"; cat pcscf_icscf_uas_*_errors.log 2>/dev/null | head -20; fi
grep -q "reg.stored" pcscf.log && ok "registration stored" || fail "no reg.stored in the log"
grep -q "reg.icscf_failover" pcscf.log && ok "first I-CSCF (nothing listening) skipped for the second" \
  || fail "no I-CSCF failover"

# 2. A stranger is refused.
if sipp_run stranger "$STRANGER" pcscf_stranger_invite.xml "127.0.0.1:$P" -key realm "$REALM"; then
  ok "INVITE from an unregistered address: 403"
else fail "stranger INVITE was not refused with 403"; tail -5 stranger.out; fi

# 3. A request on the Path reaches the UE on its registered flow.
sipp_bg ueuas "$UE" pcscf_ue_uas.xml
sleep 0.5
if sipp_run core "$CORE" pcscf_core_message_ok.xml "127.0.0.1:$P" -key realm "$REALM" \
     -key contact "sip:ue1@127.0.0.1:$UE"; then
  ok "MESSAGE along the Path answered 200 by the UE"
else fail "MESSAGE along the Path"; tail -5 core.out; fi
waitpid_t "$ueuas_PID" 5 && ok "UE received it without P-Charging headers" || fail "UE did not get the MESSAGE"

# 4. A forged NOTIFY (not in our subscription) is refused; the S-CSCF's own
#    NOTIFY "terminated" in the subscription dialog drops the registration.
if sipp_run notify "$CORE" pcscf_forged_notify.xml "127.0.0.1:$P" -key realm "$REALM" -key user ue1; then
  ok "forged reg-event NOTIFY answered 481"
else fail "forged NOTIFY not refused"; tail -5 notify.out; fi
if waitpid_t "$scscf_PID" 12; then
  ok "S-CSCF stand-in: SUBSCRIBE and INVITE checks passed, its NOTIFY was answered 200"
else fail "S-CSCF stand-in checks"; cat pcscf_scscf_uas_*_errors.log 2>/dev/null | head -20; fi
grep -q "regevent.terminated aor=sip:ue1@.* flows_removed=1" pcscf.log \
  && ok "NOTIFY terminated removed the registration" || fail "registration not removed by the NOTIFY"
if sipp_run gone "$CORE" pcscf_core_message_gone.xml "127.0.0.1:$P" -key realm "$REALM" \
     -key contact "sip:ue1@127.0.0.1:$UE"; then
  ok "after NOTIFY terminated the UE is gone: 480"
else fail "registration still present after NOTIFY terminated"; tail -5 gone.out; fi

# 5. Garbage is dropped or answered 400 (SPEC flow 5), nothing else changes.
printf 'this is not SIP\r\n\r\n' > /dev/udp/127.0.0.1/$P
if sipp_run bad "$STRANGER" pcscf_malformed.xml "127.0.0.1:$P" -key realm "$REALM"; then
  ok "malformed request answered 400"
else fail "malformed request"; tail -5 bad.out; fi

# 6. Still alive, metrics exported.
curl -s -m 2 "http://127.0.0.1:$METRICS/metrics" | grep -q "pcscf_requests_total" \
  && ok "metrics" || fail "pcscf_requests_total missing from /metrics"
kill -0 "$PPID_" 2>/dev/null && ok "ims-pcscf still running" || fail "ims-pcscf died"

# 7. A clean stop, and nothing for the sanitizers to report.
kill -TERM "$PPID_" 2>/dev/null
waitpid_t "$PPID_" 15 && ok "stopped cleanly on SIGTERM" || fail "did not stop on SIGTERM"
if grep -q "Sanitizer\|runtime error" pcscf.log; then
  fail "sanitizer report"; grep -A20 "Sanitizer\|runtime error" pcscf.log | head -60
fi

if [ "$FAILS" -ne 0 ]; then
  echo "--- pcscf.log (tail)"; tail -40 pcscf.log
  echo "$FAILS failure(s)"; exit 1
fi
echo "all passed"
