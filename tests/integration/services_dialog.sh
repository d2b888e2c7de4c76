#!/usr/bin/env bash
# Issue 9: mid-dialog requests through the whole chain (P -> S -> I -> S ->
# P) follow the route recorded at dialog creation (RFC 3261 §12.2, §16.12;
# TS 24.229 §5.4.3.2 / §5.4.3.3 Record-Route by the S-CSCF):
#  - A holds the call with a re-INVITE (a=sendonly) and resumes it with
#    UPDATE; B sends INFO, then a re-INVITE adding video, then BYE: every SDP
#    arrives byte for byte as sent (the core never edits media);
#  - a second call that A ends with BYE (BYE from either side).
# Issue 9, redirection (RFC 3261 §16.5, §16.7 step 4), on the terminating
# S-CSCF:
#  - B's device answers 302 to C (home domain): the S-CSCF follows it once
#    through the I-CSCF; C answers and the call goes on with C;
#  - D's terminating AS answers 302 to C: followed the same way;
#  - B's device answers 302 to a foreign address: the caller gets the 302;
#  - B's device redirects to C, whose device redirects to D: only one
#    recursion, the caller gets C's 302.
SVC_INDEX=2
. "$(dirname "$0")/services/lib.sh"
A=001010000000001 B=001010000000002 C=001010000000003 D=001010000000004
UA_A=$((SIPBASE + 10)) UA_B=$((SIPBASE + 11)) UA_C=$((SIPBASE + 12)) UA_D=$((SIPBASE + 13))
AS=$((SIPBASE + 20))
UA=$SRC/tests/integration/services/ua.py
# D's terminating AS (a call-forwarding service that redirects).
D_IFC='[{"priority": 1,
  "trigger": {"cnf": false, "spt": [
    {"group": 0, "method": "INVITE"}, {"group": 0, "session_case": "TERMINATING_REGISTERED"}]},
  "application_server": {"server_name": "sip:127.0.0.1:'$AS'", "default_handling": "SESSION_TERMINATED"}}]'

svc_start
svc_provision $A
svc_provision $B
svc_provision $C
svc_provision $D parallel "$D_IFC"
svc_register $A $UA_A && svc_register $B $UA_B && svc_register $C $UA_C && svc_register $D $UA_D \
  || svc_finish
ok "A, B, C and D registered"

svc_bg callee $UA_B services_dialog_callee.xml -key user $B -key caller $A
sleep 0.5
svc_uac caller $UA_A services_dialog_caller.xml -key user $A -key callee $B \
  && ok "A: call, hold re-INVITE (200 a=recvonly), UPDATE resume, B's INFO, B's video re-INVITE (SDP untouched), B's BYE" \
  || { fail "caller side of the mid-dialog scenario"; tail -5 caller.out; head -30 caller.err 2>/dev/null; }
svc_role_ok callee 15 "B: hold re-INVITE and UPDATE arrived with the SDP untouched; INFO, re-INVITE and BYE answered along the route set"
n=$(grep -c "session.onward\|session.terminating" scscf.log)
[ "$n" -eq 2 ] && ok "the S-CSCF routed only the initial INVITE as a new session (mid-dialog requests by Route)" \
  || fail "the S-CSCF started $n sessions (expected 2 log lines: onward + terminating)"

svc_bg callee2 $UA_B chain_callee.xml -key user $B
sleep 0.5
svc_uac caller2 $UA_A chain_caller.xml -key user $A -key callee $B \
  && ok "second call: A hangs up with BYE along the route set" || { fail "second call"; tail -5 caller2.out; }
svc_role_ok callee2 10 "B got A's BYE"

dev() { # name port expect actions...
  local name=$1 port=$2 n=$3
  shift 3
  local args=()
  for x in "$@"; do args+=(--on "$x"); done
  python3 "$UA" --port "$port" --user dev --log "$name.log" --expect "$n" --timeout 30 "${args[@]}" &
  local pid=$!
  PIDS+=("$pid")
  eval "${name}_SIPP=$pid"
  wait_udp_bound "$port"   # a loaded machine starts python slowly
}
# Redirect from B's device to C (home): followed.
dev rb $UA_B 2 "INVITE=302:sip:$C@$REALM"          # INVITE, ACK
dev rc $UA_C 3 "INVITE=180,sleep:0.3,200sdp"       # INVITE, ACK, BYE
sleep 0.5
svc_uac redir1 $UA_A chain_caller.xml -key user $A -key callee $B \
  && ok "B's device redirected to C (home domain): the S-CSCF followed it, C answered" \
  || { fail "following a device's 302"; tail -5 redir1.out; }
svc_role_ok rb 10 "B's device got the ACK for its 302"
svc_role_ok rc 10 "C got the redirected INVITE, ACK and BYE"
grep -q "^RX INVITE sip:$C@127.0.0.1:$UA_C " rc.log && ok "the redirected INVITE reached C's registered contact" \
  || fail "C's INVITE Request-URI: $(grep '^RX INVITE' rc.log)"
# D's AS redirects to C: followed.
dev ras $AS 2 "INVITE=302:sip:$C@$REALM"           # INVITE, ACK
dev rc2 $UA_C 3 "INVITE=180,sleep:0.3,200sdp"      # INVITE, ACK, BYE
sleep 0.5
svc_uac redir2 $UA_A chain_caller.xml -key user $A -key callee $D \
  && ok "D's terminating AS redirected to C: followed, C answered" \
  || { fail "following an AS's 302"; tail -5 redir2.out; }
svc_role_ok ras 10 "D's AS got the INVITE and the ACK for its 302"
svc_role_ok rc2 10 "C got the call redirected by D's AS"
# Foreign contact: back to the caller.
dev rb2 $UA_B 2 "INVITE=302:sip:someone@example.net"
sleep 0.5
svc_uac redir3 $UA_A services_call_redirect.xml -key user $A -key callee $B \
  && ok "a redirect outside the home domain goes back to the caller (302)" \
  || { fail "302 to a foreign contact"; tail -5 redir3.out; }
grep -q "^Contact: <sip:someone@example.net>" redir3.msg && ok "the caller's 302 keeps the device's Contact" \
  || fail "Contact of the caller's 302"
svc_role_ok rb2 10 "B's device got the ACK"
# Redirect chain: B -> C -> D; only the first is followed.
dev rb3 $UA_B 2 "INVITE=302:sip:$C@$REALM"
dev rc3 $UA_C 2 "INVITE=302:sip:$D@$REALM"
sleep 0.5
svc_uac redir4 $UA_A services_call_redirect.xml -key user $A -key callee $B \
  && ok "a second redirection is not followed (recursing once): the caller gets C's 302" \
  || { fail "redirect chain"; tail -5 redir4.out; }
grep -q "^Contact: <sip:$D@$REALM>" redir4.msg || fail "the caller's 302 is not C's (Contact D)"
svc_role_ok rb3 10 "B's device got its ACK"
svc_role_ok rc3 10 "C's device got its ACK"

metrics=$(curl -s -m 5 "http://127.0.0.1:$MS/metrics")
for o in followed passed; do
  echo "$metrics" | grep -Eq "^scscf_redirects_total\{outcome=\"$o\"\} [1-9]" \
    && ok "/metrics counts redirects $o" || fail "no scscf_redirects_total{outcome=\"$o\"}"
done

svc_finish
