#!/usr/bin/env bash
# S-CSCF iFC service chaining against the real ims-hss + ims-scscf (SPEC.md
# flow 3, TS 24.229 §5.4.3.2, §5.4.1.7):
#  - REGISTER (MD5) -> 200 -> third-party REGISTER to the AS whose iFC
#    matches REGISTER (To = served user, From/Contact = S-CSCF, message/sip body);
#  - an originating INVITE goes to as1 (priority 10) with
#    Route: <as1;lr>, <scscf;lr;odi=TOKEN>; back from as1 the chain goes on:
#    priority 15 is an AS that cannot be reached (DefaultHandling
#    SESSION_CONTINUED -> skipped), priority 20 is as3, then the I-CSCF
#    (a SIPp UAS) gets the INVITE stamped by as1 then as3; ACK/BYE follow
#    the Record-Route;
#  - a MESSAGE whose AS cannot be reached with SESSION_TERMINATED gets 500;
#  - a MESSAGE whose AS never answers (SESSION_CONTINUED) goes on after
#    session.as_timeout_ms (4 s) and is answered 200 by the I-CSCF side;
#  - RegistrationType (TS 29.228 Annex B): an AS whose REGISTER iFC names
#    INITIAL_REGISTRATION hears only the first registration, one naming
#    RE-REGISTRATION only the refresh, one naming DE-REGISTRATION only the
#    de-registrations;
#  - de-registration: a third-party REGISTER with Expires: 0;
#  - network-initiated de-registration: deleting A at the HSS sends RTR and
#    the REGISTER-triggered ASs get a third-party REGISTER with Expires: 0;
#  - terminating side: a call to registered UE B passes B's terminating iFC
#    (as1) and reaches B's contact with P-Called-Party-ID; a call that B's
#    diversion AS retargets to a foreign URI runs B's ORIGINATING_CDIV iFC
#    (as3) and goes to the new target.
# The ASs are tests/tools/demo-as.py (a stateless proxy AS on UDP and TCP);
# as3 is reached over TCP (;transport=tcp), as1 over whatever the proxy
# core picks (TCP for requests that may exceed the UDP MTU, RFC 3261 §18.1.1).
set -u
: "${BIN:?}" "${SRC:?}" "${WORK:?}"
REALM=ims.mnc001.mcc001.3gppnetwork.org
S=17060      # S-CSCF SIP
UA=17061     # SIPp UE
ICSCF=17080  # SIPp UAS standing in for the I-CSCF
UB=17062     # SIPp UE B (registered callee)
VM=17081     # SIPp UAS: the diversion target
AS1=17091; ASREG=17092; ASDEAD=17093; AS3=17094; ASDEAD2=17095; ASDIV=17096; ASSILENT=17097
ASINI=17098; ASRE=17099; ASDE=17102  # RegistrationType INITIAL / RE / DE
DIA=17100; REST=17101; MS=17140
A=001010000000001
B=001010000000002
SC_DIR=$SRC/tests/integration/sipp
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$SRC/tests/lsan.supp:print_suppressions=0}
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
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
wait_http() { # port pid name
  for _ in $(seq 1 150); do
    curl -s -m 1 -o /dev/null -f "http://127.0.0.1:$1/healthz" && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: $3 did not become ready"; cat "$3.log"; exit 1
}

cat > hss.yaml <<YAML
log_level: info
realm: $REALM
db: $WORK/hss.db
rest: {addr: 127.0.0.1, port: $REST}
diameter:
  listen: {addr: 127.0.0.1, port: $DIA}
YAML
"$BIN/ims-hss" -c hss.yaml >hss.log 2>&1 &
PIDS+=($!)
wait_http "$REST" $! hss

K=465b5ce8b199b49faa5f0a2ee238a6bc
OP=cdc202d5123e20f62b6d676ac72cb318
cat > subA.json <<JSON
{"impi": "$A@$REALM", "impus": ["sip:$A@$REALM", "tel:+15550000001"],
 "auth": {"k": "$K", "op": "$OP", "amf": "8000", "password": "secret"},
 "ifcs": [
  {"priority": 20,
   "trigger": {"cnf": false, "spt": [{"group": 0, "method": "INVITE"}, {"group": 0, "session_case": "ORIGINATING"}]},
   "application_server": {"server_name": "sip:127.0.0.1:$AS3;transport=tcp", "default_handling": "SESSION_CONTINUED"}},
  {"priority": 10,
   "trigger": {"cnf": true, "spt": [{"group": 0, "method": "INVITE"}, {"group": 1, "session_case": "ORIGINATING"},
                                    {"group": 2, "sdp_line": {"line": "m", "content": "^audio"}},
                                    {"group": 3, "header": {"name": "Subject", "content": "urgent"}, "negated": true}]},
   "application_server": {"server_name": "sip:127.0.0.1:$AS1", "default_handling": "SESSION_TERMINATED"}},
  {"priority": 15,
   "trigger": {"cnf": false, "spt": [{"group": 0, "method": "INVITE"}]},
   "application_server": {"server_name": "sip:127.0.0.1:$ASDEAD;transport=tcp", "default_handling": "SESSION_CONTINUED"}},
  {"priority": 25,
   "trigger": {"cnf": false, "spt": [{"group": 0, "method": "MESSAGE"}, {"group": 0, "header": {"name": "Subject", "content": "silent"}}]},
   "application_server": {"server_name": "sip:127.0.0.1:$ASSILENT;transport=udp", "default_handling": "SESSION_CONTINUED"}},
  {"priority": 30,
   "trigger": {"cnf": false, "spt": [{"group": 0, "method": "MESSAGE"}, {"group": 0, "session_case": "ORIGINATING"},
                                     {"group": 0, "header": {"name": "Subject", "content": "silent"}, "negated": true}]},
   "application_server": {"server_name": "sip:127.0.0.1:$ASDEAD2;transport=tcp", "default_handling": "SESSION_TERMINATED"}},
  {"priority": 5,
   "trigger": {"cnf": false, "spt": [{"group": 0, "method": "REGISTER"}]},
   "application_server": {"server_name": "sip:127.0.0.1:$ASREG", "default_handling": "SESSION_CONTINUED",
                          "include_register_request": true}},
  {"priority": 6,
   "trigger": {"cnf": false, "spt": [{"group": 0, "method": "REGISTER", "registration_type": ["INITIAL_REGISTRATION"]}]},
   "application_server": {"server_name": "sip:127.0.0.1:$ASINI"}},
  {"priority": 7,
   "trigger": {"cnf": false, "spt": [{"group": 0, "method": "REGISTER", "registration_type": ["RE-REGISTRATION"]}]},
   "application_server": {"server_name": "sip:127.0.0.1:$ASRE"}},
  {"priority": 8,
   "trigger": {"cnf": false, "spt": [{"group": 0, "method": "REGISTER", "registration_type": ["DE-REGISTRATION"]}]},
   "application_server": {"server_name": "sip:127.0.0.1:$ASDE"}},
  {"priority": 40,
   "trigger": {"cnf": false, "spt": [{"group": 0, "method": "INVITE"}, {"group": 0, "session_case": "TERMINATING_REGISTERED"}]},
   "application_server": {"server_name": "sip:127.0.0.1:$AS1", "default_handling": "SESSION_CONTINUED"}}
 ]}
JSON
code=$(curl -s -m 5 -o post.out -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data-binary @subA.json "http://127.0.0.1:$REST/api/v1/subscribers")
[ "$code" = 201 ] && ok "subscriber A provisioned with 10 iFCs" || { fail "POST A: $code $(cat post.out)"; exit 1; }

cat > subB.json <<JSON
{"impi": "$B@$REALM", "impus": ["sip:$B@$REALM", "tel:+15550000002"],
 "auth": {"k": "$K", "op": "$OP", "amf": "8000", "password": "secret"},
 "ifcs": [
  {"priority": 10,
   "trigger": {"cnf": false, "spt": [{"group": 0, "method": "INVITE"}, {"group": 0, "session_case": "TERMINATING_REGISTERED"},
                                     {"group": 0, "header": {"name": "Subject", "content": "divert"}, "negated": true}]},
   "application_server": {"server_name": "sip:127.0.0.1:$AS1;transport=udp", "default_handling": "SESSION_CONTINUED"}},
  {"priority": 20,
   "trigger": {"cnf": false, "spt": [{"group": 0, "method": "INVITE"}, {"group": 0, "session_case": "TERMINATING_REGISTERED"},
                                     {"group": 0, "header": {"name": "Subject", "content": "divert"}}]},
   "application_server": {"server_name": "sip:127.0.0.1:$ASDIV;transport=udp", "default_handling": "SESSION_CONTINUED"}},
  {"priority": 30,
   "trigger": {"cnf": false, "spt": [{"group": 0, "method": "INVITE"}, {"group": 0, "session_case": "ORIGINATING_CDIV"}]},
   "application_server": {"server_name": "sip:127.0.0.1:$AS3;transport=tcp", "default_handling": "SESSION_CONTINUED"}}
 ]}
JSON
code=$(curl -s -m 5 -o postb.out -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data-binary @subB.json "http://127.0.0.1:$REST/api/v1/subscribers")
[ "$code" = 201 ] && ok "subscriber B provisioned with 3 iFCs" || { fail "POST B: $code $(cat postb.out)"; exit 1; }

cat > scscf.yaml <<YAML
log_level: info
realm: $REALM
own_uri: "sip:127.0.0.1:$S"
sip:
  listen:
    - {addr: 127.0.0.1, port: $S, proto: both}
  workers: 2
diameter: {hss_addr: 127.0.0.1, hss_port: $DIA}
db: {path: "$WORK/scscf.db"}
session: {icscf_uri: "sip:127.0.0.1:$ICSCF;transport=udp"}
http: {port: $MS}
YAML
"$BIN/ims-scscf" -c scscf.yaml >scscf.log 2>&1 &
SPID=$!
PIDS+=($SPID)
wait_http "$MS" $SPID scscf

DEMO_AS=$SRC/tests/tools/demo-as.py
python3 "$DEMO_AS" --port $AS1 --name as1 --log as1.log 2>as1.err &
PIDS+=($!)
python3 "$DEMO_AS" --port $AS3 --name as3 --log as3.log 2>as3.err &
PIDS+=($!)
python3 "$DEMO_AS" --port $ASREG --name asreg --log asreg.log --answer-register 2>asreg.err &
PIDS+=($!)
for a in "asini $ASINI" "asre $ASRE" "asde $ASDE"; do
  set -- $a
  python3 "$DEMO_AS" --port "$2" --name "$1" --log "$1.log" --answer-register 2>"$1.err" &
  PIDS+=($!)
done
nreg() { grep -c "^REQ REGISTER" "$1.log" 2>/dev/null; }
# wait_reg LOG N: until LOG holds N REGISTERs (5 s at most)
wait_reg() { for _ in $(seq 1 50); do [ "$(nreg "$1")" -ge "$2" ] && return 0; sleep 0.1; done; return 1; }
# regtypes: "asini/asre/asde" REGISTER counts
regtypes() { echo "$(nreg asini)/$(nreg asre)/$(nreg asde)"; }
python3 "$DEMO_AS" --port $ASDIV --name asdiv --log asdiv.log --retarget "sip:vm@127.0.0.1:$VM;transport=udp" \
  2>asdiv.err &
PIDS+=($!)
# udp_ready PORT: until something listens on 127.0.0.1:PORT/udp (10 s at most)
udp_ready() { for _ in $(seq 1 100); do ss -lun | grep -q "127.0.0.1:$1 " && return 0; sleep 0.1; done; return 1; }
for port in $AS1 $AS3 $ASREG $ASDIV $ASINI $ASRE $ASDE; do
  udp_ready "$port" || fail "demo AS on $port did not start"
done

# ue_reg SCENARIO PORT USER OUT WHAT: one MD5 (de-)registration by SIPp
ue_reg() {
  if timeout 30 sipp "127.0.0.1:$S" -sf "$SC_DIR/$1" -i 127.0.0.1 -p "$2" -m 1 -nostdin \
       -trace_err -timeout 15 -timeout_error -key realm "$REALM" -key user "$3" \
       -au "$3@$REALM" -ap secret >"$4" 2>&1; then
    ok "$5"
  else
    fail "$5: sipp failed"; tail -20 "$4"; tail -20 scscf.log
  fi
}

# 1. registration and the third-party REGISTER
ue_reg scscf_ifc_reg.xml $UA "$A" reg.out "UE A registered (MD5)"
for _ in $(seq 1 50); do grep -q "^REQ REGISTER" asreg.log 2>/dev/null && break; sleep 0.1; done
if grep -q "^REQ REGISTER sip:127.0.0.1:$ASREG" asreg.log 2>/dev/null; then
  ok "third-party REGISTER reached the AS"
  grep -q "^HDR To: <sip:$A@$REALM>" asreg.log && ok "  To = served user" || fail "third-party To: $(grep '^HDR To' asreg.log)"
  grep -q "^HDR From: <sip:127.0.0.1:$S>;tag=" asreg.log && ok "  From = S-CSCF" || fail "third-party From: $(grep '^HDR From' asreg.log)"
  grep -q "^HDR Contact: <sip:127.0.0.1:$S>" asreg.log && ok "  Contact = S-CSCF" || fail "third-party Contact"
  grep -Eq "^HDR Expires: [1-9][0-9]*" asreg.log && ok "  Expires = the granted expiry" || fail "third-party Expires"
  grep -q "^HDR Content-Type: message/sip" asreg.log && ok "  body = the REGISTER (message/sip)" || fail "third-party body type"
else
  fail "no third-party REGISTER at the AS"; grep isc scscf.log
fi
grep -q "isc.register_ok as=sip:127.0.0.1:$ASREG" scscf.log && ok "S-CSCF saw the AS's 200" || fail "no isc.register_ok in the S-CSCF log"
wait_reg asini 1
sleep 0.3  # let a wrong REGISTER to asre/asde arrive, if one was sent
[ "$(regtypes)" = 1/0/0 ] && ok "initial registration: only the INITIAL_REGISTRATION AS (of 3 RegistrationType ASs)" \
  || fail "initial registration reached INITIAL/RE/DE ASs $(regtypes), want 1/0/0"

# 1b. a refresh (same contact, new Call-ID) is a re-registration
ue_reg scscf_ifc_reg.xml $UA "$A" rereg.out "UE A re-registered"
wait_reg asre 1
sleep 0.3
[ "$(regtypes)" = 1/1/0 ] && ok "re-registration: only the RE-REGISTRATION AS" \
  || fail "after the re-registration INITIAL/RE/DE ASs got $(regtypes), want 1/1/0"
[ "$(nreg asreg)" = 2 ] && ok "the AS without RegistrationType got both" || fail "asreg got $(nreg asreg) REGISTERs, want 2"

# 2. the originating INVITE through as1, the dead AS (skipped) and as3
timeout 40 sipp -sf "$SC_DIR/scscf_ifc_uas.xml" -i 127.0.0.1 -p $ICSCF -m 1 -nostdin -trace_err \
  -timeout 30 -timeout_error >uas.out 2>&1 &
UAS=$!
PIDS+=($UAS)
sleep 0.3
if timeout 40 sipp "127.0.0.1:$S" -sf "$SC_DIR/scscf_ifc_uac.xml" -i 127.0.0.1 -p $UA -m 1 -nostdin \
     -trace_err -timeout 30 -timeout_error -key realm "$REALM" -key user "$A" -key callee "$B" \
     -key scscf "127.0.0.1:$S" >uac.out 2>&1; then
  ok "INVITE/200/ACK/BYE/200 through the AS chain"
else
  fail "call through the AS chain"; tail -30 uac.out
fi
if wait $UAS; then
  ok "the I-CSCF side got the INVITE stamped by as1 then as3, without odi"
else
  fail "UAS side"; tail -30 uas.out
fi
# the proxy pushes the two Route values as two Route header fields
route_as1=$(awk '/^REQ INVITE/{f=1} f&&/^HDR Route/{printf "%s ", $0; n++} n==2{exit}' as1.log)
echo "   as1 saw: $route_as1"
if echo "$route_as1" | grep -Eq "^HDR Route: <sip:127.0.0.1:$AS1;lr>,? ?(HDR Route: )?<sip:127.0.0.1:$S;lr;odi=[0-9a-f]{32}>"; then
  ok "as1 got Route: <AS;lr>, <S-CSCF;lr;odi=TOKEN>"
else
  fail "Route at as1: '$route_as1'"
fi
route_as3=$(awk '/^REQ INVITE/{f=1} f&&/^HDR Route/{printf "%s ", $0; n++} n==2{exit}' as3.log 2>/dev/null)
echo "   as3 saw: $route_as3"
odi1=$(echo "$route_as1" | sed -n 's/.*odi=\([0-9a-f]*\).*/\1/p')
odi3=$(echo "$route_as3" | sed -n 's/.*odi=\([0-9a-f]*\).*/\1/p')
if [ -n "$odi3" ] && [ "$odi1" != "$odi3" ]; then ok "as3 got its own odi token"; else fail "odi at as3: '$route_as3'"; fi
grep -q "X-Demo-AS: as1" as3.log && ok "as3 got the request after as1 (priority 10 before 20)" || fail "as3 did not see as1's stamp"
if grep -q "session.as_failed as=sip:127.0.0.1:$ASDEAD;transport=tcp status=[0-9]* default_handling=SESSION_CONTINUED" scscf.log; then
  ok "unreachable AS (priority 15) skipped per SESSION_CONTINUED"
else
  fail "no as_failed/SESSION_CONTINUED for the dead AS"; grep session scscf.log | tail
fi
# the terminating-side iFC (priority 40) must not fire on an originating request
[ "$(grep -c '^REQ INVITE' as1.log)" = 1 ] && ok "as1 saw the INVITE once (terminating iFC not applied)" \
  || fail "as1 saw $(grep -c '^REQ INVITE' as1.log) INVITEs"

# 3. SESSION_TERMINATED: the caller gets the error
if timeout 30 sipp "127.0.0.1:$S" -sf "$SC_DIR/scscf_ifc_msg.xml" -i 127.0.0.1 -p $UA -m 1 -nostdin \
     -trace_err -timeout 20 -timeout_error -key realm "$REALM" -key user "$A" -key callee "$B" \
     -key scscf "127.0.0.1:$S" >msg.out 2>&1; then
  ok "MESSAGE to an unreachable SESSION_TERMINATED AS answered 500"
else
  fail "SESSION_TERMINATED MESSAGE"; tail -20 msg.out
fi
grep -q "session.as_failed as=sip:127.0.0.1:$ASDEAD2;transport=tcp status=[0-9]* default_handling=SESSION_TERMINATED" scscf.log \
  && ok "S-CSCF logged SESSION_TERMINATED" || fail "no SESSION_TERMINATED in the log"

# 3b. an AS that never answers (a UDP socket that reads and drops): after
# the transaction timeout (Timer F, 64*T1 = 32 s) SESSION_CONTINUED sends
# the MESSAGE on to the I-CSCF, which answers 200.
python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    s.recv(65535)' $ASSILENT &
PIDS+=($!)
udp_ready $ASSILENT || fail "the silent AS did not start"
timeout 60 sipp -sf "$SC_DIR/scscf_ifc_msg_uas.xml" -i 127.0.0.1 -p $ICSCF -m 1 -nostdin -trace_err \
  -timeout 50 -timeout_error >silent_uas.out 2>&1 &
SUAS=$!
PIDS+=($SUAS)
sleep 0.3
if timeout 60 sipp "127.0.0.1:$S" -sf "$SC_DIR/scscf_ifc_msg_silent.xml" -i 127.0.0.1 -p $UA -m 1 -nostdin \
     -trace_err -timeout 50 -timeout_error -key realm "$REALM" -key user "$A" -key callee "$B" \
     -key scscf "127.0.0.1:$S" >silent.out 2>&1; then
  ok "MESSAGE past a silent SESSION_CONTINUED AS answered 200"
else
  fail "MESSAGE past a silent AS"; tail -20 silent.out
fi
wait $SUAS && ok "the I-CSCF side got the MESSAGE after the AS timeout" || { fail "silent-AS UAS side"; tail -20 silent_uas.out; }
grep -q "session.as_failed as=sip:127.0.0.1:$ASSILENT;transport=udp status=408 default_handling=SESSION_CONTINUED" scscf.log \
  && ok "silent AS: 408 -> SESSION_CONTINUED" || fail "no 408/SESSION_CONTINUED for the silent AS"

# 4. terminating side: B registers and takes a call through its terminating iFC
ue_reg scscf_ifc_reg.xml $UB "$B" regb.out "UE B registered (MD5)"
timeout 40 sipp -sf "$SC_DIR/scscf_ifc_term_ue.xml" -i 127.0.0.1 -p $UB -m 1 -nostdin -trace_err \
  -timeout 30 -timeout_error -key user "$B" >term_ue.out 2>&1 &
UEB=$!
PIDS+=($UEB)
sleep 0.3
if timeout 40 sipp "127.0.0.1:$S" -sf "$SC_DIR/scscf_ifc_term_uac.xml" -i 127.0.0.1 -p $UA -m 1 -nostdin \
     -trace_err -timeout 30 -timeout_error -key realm "$REALM" -key user "$A" -key callee "$B" \
     -key subject hello >term_uac.out 2>&1; then
  ok "terminating call to B completed (INVITE/200/ACK/BYE/200)"
else
  fail "terminating call to B"; tail -20 term_uac.out
fi
if wait $UEB; then
  ok "B's contact got the INVITE: Request-URI = contact, P-Called-Party-ID, as1 stamp"
else
  fail "UE B side"; tail -30 term_ue.out
fi
grep -q "session.to_as impu=sip:$B@$REALM case=TERMINATING_REGISTERED priority=10" scscf.log \
  && ok "B's TERMINATING_REGISTERED iFC fired" || fail "no terminating iFC for B in the log"

# 5. call diversion by a terminating AS -> ORIGINATING_CDIV for B
timeout 40 sipp -sf "$SC_DIR/scscf_ifc_cdiv_uas.xml" -i 127.0.0.1 -p $VM -m 1 -nostdin -trace_err \
  -timeout 30 -timeout_error >cdiv_uas.out 2>&1 &
VMP=$!
PIDS+=($VMP)
sleep 0.3
if timeout 40 sipp "127.0.0.1:$S" -sf "$SC_DIR/scscf_ifc_term_uac.xml" -i 127.0.0.1 -p $UA -m 1 -nostdin \
     -trace_err -timeout 30 -timeout_error -key realm "$REALM" -key user "$A" -key callee "$B" \
     -key subject divert >cdiv_uac.out 2>&1; then
  ok "diverted call completed"
else
  fail "diverted call"; tail -20 cdiv_uac.out
fi
if wait $VMP; then
  ok "the diversion target got the INVITE stamped by asdiv then as3"
else
  fail "diversion target side"; tail -30 cdiv_uas.out
fi
grep -q "session.from_as impu=sip:$B@$REALM case=ORIGINATING_CDIV next_ifc=0 retargeted=1" scscf.log \
  && ok "S-CSCF switched to ORIGINATING_CDIV for B after the retarget" || fail "no ORIGINATING_CDIV in the log"

# 6. de-registration: the REGISTER-triggered AS gets a third-party
# REGISTER with Expires: 0
n_before=$(grep -c "^REQ REGISTER" asreg.log)
ue_reg scscf_ifc_dereg.xml $UA "$A" dereg.out "UE A de-registered"
for _ in $(seq 1 50); do [ "$(grep -c '^REQ REGISTER' asreg.log)" -gt "$n_before" ] && break; sleep 0.1; done
if [ "$(grep -c '^REQ REGISTER' asreg.log)" -gt "$n_before" ] && tail -n 12 asreg.log | grep -q "^HDR Expires: 0"; then
  ok "third-party REGISTER with Expires: 0 after the de-registration"
else
  fail "no third-party de-registration at the AS"; tail -12 asreg.log
fi

wait_reg asde 1
sleep 0.3
[ "$(regtypes)" = 1/1/1 ] && ok "UE de-registration: only the DE-REGISTRATION AS" \
  || fail "after the de-registration INITIAL/RE/DE ASs got $(regtypes), want 1/1/1"

# 7. network-initiated de-registration (TS 24.229 §5.4.1.5, §5.4.1.7): A
# registers again (initial), then is deleted at the HSS, which sends RTR
ue_reg scscf_ifc_reg.xml $UA "$A" reg2.out "UE A registered again"
wait_reg asini 2 && ok "  a registration after a de-registration is initial again" || fail "INITIAL/RE/DE: $(regtypes), want 2/1/1"
n_before=$(nreg asreg)
code=$(curl -s -m 5 -o del.out -w '%{http_code}' -X DELETE "http://127.0.0.1:$REST/api/v1/subscribers/$A@$REALM")
[ "$code" = 204 ] && ok "A deleted at the HSS" || fail "DELETE A: $code $(cat del.out)"
if wait_reg asde 2 && wait_reg asreg $((n_before + 1)) && tail -n 12 asde.log | grep -q "^HDR Expires: 0" \
   && tail -n 12 asreg.log | grep -q "^HDR Expires: 0"; then
  ok "RTR: third-party REGISTER with Expires: 0 to the REGISTER and DE-REGISTRATION ASs"
else
  fail "no third-party de-registration after the RTR (INITIAL/RE/DE $(regtypes))"; grep -E "rtr|isc|dereg" scscf.log | tail
fi
grep -q "isc.network_dereg impu=sip:$A@$REALM sent=2" scscf.log && ok "  S-CSCF logged isc.network_dereg sent=2" \
  || fail "no isc.network_dereg in the S-CSCF log"

# /metrics counts the AS legs and the default handling decisions
curl -s -m 2 "http://127.0.0.1:$MS/metrics" >metrics.txt
grep -Eq '^scscf_as_failures_total\{default_handling="SESSION_CONTINUED"\} [2-9]' metrics.txt \
  && grep -Eq '^scscf_as_requests_total\{session_case="ORIGINATING_CDIV"\} 1' metrics.txt \
  && ok "/metrics: AS requests and default handling counted" \
  || { fail "/metrics counters"; grep -E "scscf_(as|session)" metrics.txt; }

# the daemon is still alive and answering
kill -0 $SPID 2>/dev/null && curl -s -m 2 -f -o /dev/null "http://127.0.0.1:$MS/healthz" \
  && ok "ims-scscf still healthy" || fail "ims-scscf died"

if [ $FAILS -ne 0 ]; then
  echo "$FAILS check(s) failed; logs in $WORK"
  exit 1
fi
echo "all scscf_ifc checks passed"
