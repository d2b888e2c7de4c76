#!/usr/bin/env bash
# Issue 9 through the whole chain (P -> S -> I -> S -> P):
#  - pager-mode instant messages (RFC 3428): MESSAGE from a registered UE
#    to a registered one (200 from the device), to an unregistered user
#    without services (480 from the terminating S-CSCF, TS 24.229
#    §5.4.3.3), and to an unregistered user whose TERMINATING_UNREGISTERED
#    iFC names a store-and-forward AS (LIA 2003 at the I-CSCF, SAR
#    UNREGISTERED_USER at the S-CSCF, 202 from the AS), twice (the second
#    time from the profile the S-CSCF kept);
#  - presence (RFC 3856 / RFC 6665): B's PUBLISH and A's SUBSCRIBE for
#    `Event: presence` reach the presence server named by B's iFC; the
#    server's NOTIFY follows the Record-Route set back to A.
SVC_INDEX=1
. "$(dirname "$0")/services/lib.sh"
UA=$SRC/tests/integration/services/ua.py
A=001010000000001 B=001010000000002 C=001010000000003 D=001010000000004 E=001010000000005
UA_A=$((SIPBASE + 10)) UA_B=$((SIPBASE + 11)) UA_C=$((SIPBASE + 12))
PS=$((SIPBASE + 20)) SF=$((SIPBASE + 21))

# B's presence server: SUBSCRIBE or PUBLISH with Event: presence to B,
# registered or not (TS 24.229 §5.4.3.3, the terminating iFCs).
PRES_IFC='[{"priority": 10,
  "trigger": {"cnf": false, "spt": [
    {"group": 0, "method": "SUBSCRIBE"}, {"group": 0, "header": {"name": "Event", "content": "presence"}},
    {"group": 0, "session_case": "TERMINATING_REGISTERED"},
    {"group": 1, "method": "SUBSCRIBE"}, {"group": 1, "header": {"name": "Event", "content": "presence"}},
    {"group": 1, "session_case": "TERMINATING_UNREGISTERED"},
    {"group": 2, "method": "PUBLISH"}, {"group": 2, "header": {"name": "Event", "content": "presence"}},
    {"group": 2, "session_case": "TERMINATING_REGISTERED"},
    {"group": 3, "method": "PUBLISH"}, {"group": 3, "header": {"name": "Event", "content": "presence"}},
    {"group": 3, "session_case": "TERMINATING_UNREGISTERED"}]},
  "application_server": {"server_name": "sip:127.0.0.1:'$PS'", "default_handling": "SESSION_TERMINATED"}}]'

# E's store-and-forward IM server, for when E is not registered.
SF_IFC='[{"priority": 5,
  "trigger": {"cnf": false, "spt": [
    {"group": 0, "method": "MESSAGE"}, {"group": 0, "session_case": "TERMINATING_UNREGISTERED"}]},
  "application_server": {"server_name": "sip:127.0.0.1:'$SF'", "default_handling": "SESSION_TERMINATED"}}]'

svc_start
svc_provision $A
svc_provision $B parallel "$PRES_IFC"
svc_provision $C
svc_provision $D
svc_provision $E parallel "$SF_IFC"
svc_register $A $UA_A && svc_register $B $UA_B && svc_register $C $UA_C || svc_finish
ok "A, B and C registered; D and E are not"

role() { # name port expect expect-responses args...
  local name=$1 port=$2 n=$3 r=$4
  shift 4
  python3 "$UA" --port "$port" --log "$name.log" --expect "$n" --expect-responses "$r" --timeout 30 "$@" &
  local pid=$!
  PIDS+=("$pid")
  eval "${name}_SIPP=$pid"
  wait_udp_bound "$port"
}
ue_send() { # name port expect-requests from-imsi method to want args...: a UE request, foreground
  local name=$1 port=$2 n=$3 from=$4 meth=$5 to=$6 want=$7
  shift 7
  timeout 40 python3 "$UA" --port "$port" --user "$from" --log "$name.log" --expect "$n" \
    --expect-responses 1 --timeout 30 --send "$meth" --to "$to" --from "sip:$from@$REALM" \
    --proxy "127.0.0.1:$P" --want "$want" "$@" >"$name.out" 2>&1
}

# Instant messages.
role msgc $UA_C 1 0 --user $C --on MESSAGE=200
sleep 0.3
ue_send im1 $UA_A 0 $A MESSAGE "sip:$C@$REALM" 200 --body "hello C" \
  && ok "MESSAGE A -> registered C: 200" || { fail "MESSAGE to a registered user: $(cat im1.out)"; }
svc_role_ok msgc 10 "C's device got the MESSAGE"
grep -q "^hello C" msgc.log || fail "C's MESSAGE body changed on the way"
grep -q "^P-Asserted-Identity: <sip:$A@" msgc.log || fail "C's MESSAGE has no network-asserted identity of A"
ue_send im2 $UA_A 0 $A MESSAGE "sip:$D@$REALM" 480 --body "hello D" \
  && ok "MESSAGE A -> unregistered D (no services): 480" || fail "MESSAGE to unregistered D: $(cat im2.out)"
role sf $SF 2 0 --user sf --on MESSAGE=202
sleep 0.3
ue_send im3 $UA_A 0 $A MESSAGE "sip:$E@$REALM" 202 --body "hello E, later" \
  && ok "MESSAGE A -> unregistered E: 202 from the store-and-forward AS (terminating-unregistered iFC)" \
  || fail "MESSAGE to unregistered E: $(cat im3.out)"
grep -q "unreg.profile_stored impu=sip:$E@" scscf.log && ok "the S-CSCF fetched E's profile (SAR UNREGISTERED_USER)" \
  || fail "no SAR UNREGISTERED_USER for E"
state=$(curl -s -m 5 "http://127.0.0.1:$REST/api/v1/subscribers/$E@$REALM/registration")
echo "$state" | grep -q '"UNREGISTERED"' && ok "the HSS has E UNREGISTERED, served by the S-CSCF" \
  || fail "HSS state of E: $state"
ue_send im4 $UA_A 0 $A MESSAGE "sip:$E@$REALM" 202 --body "and again" \
  && ok "a second MESSAGE to E reaches the AS from the kept profile" || fail "second MESSAGE to E: $(cat im4.out)"
svc_role_ok sf 10 "the store-and-forward AS got both MESSAGEs"
[ "$(grep -c "unreg.sar impu=sip:$E@" scscf.log)" = 1 ] && ok "one SAR for both" \
  || fail "SARs for E: $(grep -c "unreg.sar impu=sip:$E@" scscf.log)"
grep -q "^Route: <sip:127.0.0.1:$S;lr;odi=" sf.log || fail "the AS's MESSAGE has no odi Route back to the S-CSCF"
grep -q "^hello E, later" sf.log || fail "the AS did not get the MESSAGE body"

# Presence: PUBLISH by B, SUBSCRIBE by A, NOTIFY back to A.
PIDF='<?xml version="1.0"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:'$B@$REALM'"><tuple id="b"><status><basic>open</basic></status></tuple></presence>'
role ps $PS 3 2 --user ps --on PUBLISH=200 --on SUBSCRIBE=200,notify
sleep 0.3
ue_send pub $UA_B 0 $B PUBLISH "sip:$B@$REALM" 200 --hdr "Event: presence" --hdr "Expires: 600" \
  --body "$PIDF" --ctype application/pidf+xml \
  && ok "PUBLISH by B reached the presence server of B's iFC: 200" || fail "PUBLISH: $(cat pub.out)"
ue_send sub $UA_A 2 $A SUBSCRIBE "sip:$B@$REALM" 200 --hdr "Event: presence" --hdr "Expires: 600" \
  --hdr "Accept: application/pidf+xml" --resubscribe --expect-responses 2 \
  && ok "SUBSCRIBE A -> B (Event: presence) answered 200 by the presence server" \
  || fail "SUBSCRIBE: $(cat sub.out)"
grep -q "^RX NOTIFY" sub.log && ok "A got the presence server's NOTIFY" || fail "no NOTIFY at A"
grep -q "<basic>open</basic>" sub.log || fail "the NOTIFY's PIDF body did not reach A"
svc_role_ok ps 10 "the presence server got PUBLISH, SUBSCRIBE and the in-dialog unSUBSCRIBE, and 200s for its NOTIFYs"
grep -q "^Subscription-State: terminated" sub.log && ok "A's in-dialog SUBSCRIBE (Expires: 0) reached the server along the route set; the final NOTIFY came back" \
  || fail "no terminating NOTIFY after A's unsubscribe"
awk '/^RX SUBSCRIBE/{n++} n==2 && /^Route:/{r++} END{exit !(r == 0)}' ps.log \
  && grep -q "^RX SUBSCRIBE sip:ps@127.0.0.1:$PS SIP/2.0 2 SUBSCRIBE" ps.log \
  && ok "the in-dialog SUBSCRIBE reached the server's Contact with its Route set consumed" \
  || fail "in-dialog SUBSCRIBE at the server: $(grep '^RX SUBSCRIBE' ps.log)"
rr=$(awk '/^RX SUBSCRIBE/{f=1} f && /^Record-Route:/{print} f && /^$/{exit}' ps.log | wc -l)
[ "$rr" -ge 3 ] && ok "the SUBSCRIBE reached the server with $rr Record-Route entries (P-CSCF, S-CSCFs)" \
  || fail "SUBSCRIBE at the server has $rr Record-Route entries"
grep -q "^RX NOTIFY" ps.log && fail "the presence server's NOTIFY looped back to it"

svc_finish
