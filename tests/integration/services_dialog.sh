#!/usr/bin/env bash
# Issue 9: mid-dialog requests through the whole chain (P -> S -> I -> S ->
# P) follow the route recorded at dialog creation (RFC 3261 §12.2, §16.12;
# TS 24.229 §5.4.3.2 / §5.4.3.3 Record-Route by the S-CSCF):
#  - A holds the call with a re-INVITE (a=sendonly) and resumes it with
#    UPDATE; B sends INFO, then a re-INVITE adding video, then BYE: every SDP
#    arrives byte for byte as sent (the core never edits media);
#  - a second call that A ends with BYE (BYE from either side).
SVC_INDEX=2
. "$(dirname "$0")/services/lib.sh"
A=001010000000001 B=001010000000002
UA_A=$((SIPBASE + 10)) UA_B=$((SIPBASE + 11))

svc_start
svc_provision $A
svc_provision $B
svc_register $A $UA_A && svc_register $B $UA_B || svc_finish
ok "A and B registered"

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

svc_finish
