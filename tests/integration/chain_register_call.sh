#!/usr/bin/env bash
# The whole chain on loopback (SPEC flows 1 and 2): ims-hss, ims-scscf,
# ims-icscf, ims-pcscf; two SIPp UEs register with IMS AKA through the
# P-CSCF (P -> I -> S, UAR/MAR/SAR) and A calls B:
#   A -> P-CSCF -> S-CSCF (orig) -> I-CSCF (LIR) -> S-CSCF (term) -> P-CSCF -> B
# with INVITE/180/200/ACK/BYE/200, and B sees the P-Asserted-Identity the
# network set, never the one A forged.
# Everything on 127.0.0.1 as in the lab (deploy/lab.sh): the daemons tell
# themselves apart by port.
set -u
: "${BIN:?}" "${SRC:?}" "${WORK:?}"
REALM=ims.mnc001.mcc001.3gppnetwork.org
P=14080 I=14081 UA=14082 UB=14083 S=14102 SHOST=127.0.0.1 REST=14122 DIA=14132
MP=14143 MI=14144 MS=14145
A=001010000000001 B=001010000000002 C=001010000000003 UC=14084
SC_DIR=$SRC/tests/integration/sipp
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
waitpid_t() { # pid seconds
  for _ in $(seq 1 $(($2 * 10))); do kill -0 "$1" 2>/dev/null || { wait "$1"; return $?; }; sleep 0.1; done
  return 124
}
for b in ims-hss ims-scscf ims-icscf ims-pcscf; do
  [ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b not built"; exit 1; }
done

cat > hss.yaml <<YAML
log_level: info
realm: $REALM
db: $WORK/hss.db
rest: {addr: 127.0.0.1, port: $REST}
diameter:
  listen: {port: $DIA}
YAML
cat > scscf.yaml <<YAML
log_level: info
realm: $REALM
own_uri: "sip:$SHOST:$S"
sip:
  listen:
    - {addr: $SHOST, port: $S, proto: both}
  workers: 2
diameter: {hss_addr: 127.0.0.1, hss_port: $DIA}
db: {path: "$WORK/scscf.db"}
session: {icscf_uri: "sip:127.0.0.1:$I"}
http: {port: $MS}
YAML
cat > icscf.yaml <<YAML
log_level: info
realm: $REALM
sip:
  listen:
    - {addr: 127.0.0.1, port: $I, proto: both}
  workers: 2
diameter: {hss_addr: 127.0.0.1, hss_port: $DIA}
scscf_pool:
  - {name: "sip:$SHOST:$S", uri: "sip:$SHOST:$S", capabilities: []}
http: {port: $MI}
YAML
cat > pcscf.yaml <<YAML
log_level: info
realm: $REALM
sip:
  listen:
    - {addr: 127.0.0.1, port: $P, proto: both}
  workers: 2
icscf: ["sip:127.0.0.1:$I"]
http: {port: $MP}
YAML

start() { # name binary config metrics-port
  "$BIN/$2" -c "$3" >"$1.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  eval "${1}_PID=$pid"
  wait_http "http://127.0.0.1:$4/healthz" "$pid" 30 || { fail "$2 not ready"; tail -20 "$1.log"; exit 1; }
}
start hss ims-hss hss.yaml "$REST"
# SIPp 3.6.1 takes aka_K, aka_OP and aka_AMF as raw text, not hex: it uses
# the first 16 (K, OP) and 2 (AMF) characters of what the scenario says.
# The subscribers get exactly those bytes, so the scenario can keep the
# SPEC keys as written.
SIPP_K=$(printf '%s' 465b5ce8b199b49f | od -An -tx1 | tr -d ' \n')
SIPP_OP=$(printf '%s' cdc202d5123e20f6 | od -An -tx1 | tr -d ' \n')
SIPP_AMF=$(printf '%s' 80 | od -An -tx1 | tr -d ' \n')
for imsi in $A $B $C; do
  n=${imsi: -1}
  cat > sub.json <<JSON
{"impi": "$imsi@$REALM", "impus": ["sip:$imsi@$REALM", "tel:+1555000000$n"],
 "auth": {"k": "$SIPP_K", "op": "$SIPP_OP", "amf": "$SIPP_AMF", "sqn": "000000000000"}}
JSON
  code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
         --data-binary @sub.json "http://127.0.0.1:$REST/api/v1/subscribers")
  [ "$code" = 201 ] || fail "provision $imsi: $code"
done
start scscf ims-scscf scscf.yaml "$MS"
start icscf ims-icscf icscf.yaml "$MI"
start pcscf ims-pcscf pcscf.yaml "$MP"
ok "four daemons ready"

register() { # imsi port: AKA registration through the P-CSCF, retried (SIPp cuts a RES at a 0x00 byte)
  for try in 1 2 3 4; do
    if timeout 30 sipp "127.0.0.1:$P" -sf "$SC_DIR/chain_ue_register.xml" -i 127.0.0.1 -p "$2" -m 1 \
         -nostdin -trace_err -trace_msg -timeout 15 -timeout_error -key realm "$REALM" -key user "$1" \
         -au "$1@$REALM" >"reg_$1_$try.out" 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}
register $A $UA && ok "UE A registered with AKA through P-CSCF -> I-CSCF -> S-CSCF" \
  || { fail "UE A registration"; tail -20 "reg_${A}_4.out"; }
register $B $UB && ok "UE B registered" || fail "UE B registration"
state=$(curl -s -m 5 "http://127.0.0.1:$REST/api/v1/subscribers/$B@$REALM/registration")
echo "$state" | grep -q '"REGISTERED"' && ok "HSS has B REGISTERED" || fail "HSS state of B: $state"
sleep 0.5
grep -q "regevent.subscribed" pcscf.log && ok "P-CSCF subscribed to the reg event" \
  || fail "P-CSCF reg-event SUBSCRIBE not accepted"

# B answers, A calls.
sipp -sf "$SC_DIR/chain_callee.xml" -i 127.0.0.1 -p "$UB" -m 1 -nostdin -trace_err -trace_msg \
     -timeout 30 -timeout_error -key realm "$REALM" -key user $B >callee.out 2>&1 &
CALLEE=$!
PIDS+=("$CALLEE")
sleep 0.5
if timeout 40 sipp "127.0.0.1:$P" -sf "$SC_DIR/chain_caller.xml" -i 127.0.0.1 -p "$UA" -m 1 -nostdin \
     -trace_err -trace_msg -timeout 30 -timeout_error -key realm "$REALM" -key user $A -key callee $B \
     >caller.out 2>&1; then
  ok "A called B: INVITE/180/200/ACK/BYE/200 through P, S, I, S, P"
else
  fail "call from A to B"; tail -5 caller.out
fi
waitpid_t "$CALLEE" 10 && ok "B got the call with the network's P-Asserted-Identity, not A's forged one" \
  || { fail "callee side"; cat chain_callee_*_errors.log 2>/dev/null | head -20; }

# A UE on TCP: C registers over a TCP connection and keeps it; A's MESSAGE
# to C must reach C on that same connection (C's SIPp shares the Call-ID
# with A's so the MESSAGE lands in C's scenario).
CID="tcp-ue-c-$$@127.0.0.1"
for try in 1 2 3 4; do
  # SIPp cuts an AKA RES at a 0x00 byte now and then: retry with a new challenge
  timeout 60 sipp "127.0.0.1:$P" -t t1 -sf "$SC_DIR/chain_ue_tcp.xml" -i 127.0.0.1 -p "$UC" -m 1 -nostdin \
    -trace_err -timeout 40 -timeout_error -cid_str "$CID-$try" -key realm "$REALM" -key user $C \
    -au "$C@$REALM" >tcpue.out 2>&1 &
  TCPUE=$!
  PIDS+=("$TCPUE")
  for _ in $(seq 1 100); do
    grep -q "reg.stored impu=sip:$C@" pcscf.log && break
    kill -0 "$TCPUE" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "reg.stored impu=sip:$C@" pcscf.log && break
  kill "$TCPUE" 2>/dev/null; wait "$TCPUE" 2>/dev/null
done
CID="$CID-$try"
if grep -q "reg.stored impu=sip:$C@.*" pcscf.log; then
  ok "UE C registered over TCP"
  sleep 0.3
  if timeout 30 sipp "127.0.0.1:$P" -sf "$SC_DIR/chain_message.xml" -i 127.0.0.1 -p "$UA" -m 1 -nostdin \
       -trace_err -timeout 20 -timeout_error -cid_str "$CID" -key realm "$REALM" -key user $A \
       -key callee $C >message.out 2>&1; then
    ok "A's MESSAGE to C answered 200"
  else fail "MESSAGE to the TCP UE"; tail -5 message.out; fi
  waitpid_t "$TCPUE" 10 && ok "C got the MESSAGE on its registration's TCP connection" \
    || { fail "TCP UE did not get the MESSAGE"; cat chain_ue_tcp_*_errors.log 2>/dev/null | head; }
else
  fail "UE C did not register over TCP"; tail -5 tcpue.out
fi

# SPEC flow 4: A de-registers (Expires: 0) through the P-CSCF, which forgets
# A's flow: A's next INVITE is refused with 403.
dereg_ok=0
for try in 1 2 3 4; do
  if timeout 30 sipp "127.0.0.1:$P" -sf "$SC_DIR/chain_ue_deregister.xml" -i 127.0.0.1 -p "$UA" -m 1 \
       -nostdin -trace_err -timeout 15 -timeout_error -key realm "$REALM" -key user $A \
       -au "$A@$REALM" >dereg_$try.out 2>&1; then dereg_ok=1; break; fi
  sleep 0.5
done
[ $dereg_ok = 1 ] && ok "A de-registered (Expires: 0)" || fail "A de-registration"
grep -q "reg.removed src=127.0.0.1:$UA" pcscf.log && ok "P-CSCF removed A's flow on the 200" \
  || fail "P-CSCF kept A after its de-registration"
timeout 30 sipp "127.0.0.1:$P" -sf "$SC_DIR/pcscf_stranger_invite.xml" -i 127.0.0.1 -p "$UA" -m 1 -nostdin -trace_err \
  -timeout 15 -timeout_error -key realm "$REALM" >gone.out 2>&1 \
  && ok "A's INVITE after de-registration: 403" || { fail "A still accepted after de-registration"; tail -5 gone.out; }

# SPEC flow 4 seen from the P-CSCF: the operator deletes B; the HSS sends
# RTR, the S-CSCF NOTIFYs "terminated" to the P-CSCF, which drops B's flow.
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$REST/api/v1/subscribers/$B@$REALM")
[ "$code" = 204 ] && ok "B deleted at the HSS" || fail "DELETE B: $code"
for _ in $(seq 1 50); do grep -q "regevent.terminated aor=sip:$B@.* flows_removed=1" pcscf.log && break; sleep 0.1; done
grep -q "regevent.terminated aor=sip:$B@.* flows_removed=1" pcscf.log \
  && ok "P-CSCF dropped B after the reg-event NOTIFY" || fail "P-CSCF kept B after network de-registration"

for d in pcscf icscf scscf; do
  pid_var=${d}_PID
  kill -TERM "${!pid_var}" 2>/dev/null
  waitpid_t "${!pid_var}" 15 || fail "$d did not stop on SIGTERM"
done
if grep -q "Sanitizer\|runtime error" pcscf.log icscf.log scscf.log; then
  fail "sanitizer report"; grep -A20 "Sanitizer\|runtime error" pcscf.log icscf.log scscf.log | head -60
fi

if [ "$FAILS" -ne 0 ]; then
  for d in pcscf icscf scscf; do echo "--- $d.log (tail)"; tail -25 $d.log; done
  echo "$FAILS failure(s)"; exit 1
fi
echo "all passed"
