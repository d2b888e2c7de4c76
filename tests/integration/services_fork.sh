#!/usr/bin/env bash
# Issue 9, device hunting through the whole chain (P -> S -> I -> S -> P):
# several devices registered under one public identity.
#  1. parallel: B's two devices ring; one declines with 603 (a human said
#     no): the other gets CANCEL and the caller gets the 603 (RFC 3261 §16.7
#     step 6, §16.10);
#  2. parallel: a 486 from one device does not stop the other, which
#     answers: the caller gets the 200 (§16.7 step 5);
#  3. sequential (HSS "hunting": "sequential"): C's devices are tried in
#     descending q order, each for session.hunt_ring_time seconds, equal q
#     together (RFC 3261 §16.6, TS 24.229 §5.4.3.3); a device that rings
#     past its time is cancelled and the next q group rings.
SVC_INDEX=0
SCSCF_EXTRA="  hunt_ring_time: 2"
. "$(dirname "$0")/services/lib.sh"
UA=$SRC/tests/integration/services/ua.py
A=001010000000001 B=001010000000002 C=001010000000003
UA_A=$((SIPBASE + 10)) B1=$((SIPBASE + 11)) B2=$((SIPBASE + 12))
C1=$((SIPBASE + 13)) C2=$((SIPBASE + 14)) C3=$((SIPBASE + 15))

svc_start
svc_provision $A
svc_provision $B
svc_provision $C sequential
svc_register $A $UA_A && svc_register $B $B1 && svc_register $B $B2 || { svc_finish; }
ok "A and B's two devices registered (MD5 through P -> I -> S)"

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

# 1. 603 from one device: the other is cancelled, the caller gets 603.
dev b1 $B1 3 "INVITE=180,hold"                 # INVITE, CANCEL, ACK
dev b2 $B2 2 "INVITE=180,sleep:1,603"          # INVITE, ACK
sleep 0.5
svc_uac reject $UA_A services_call_reject.xml -key user $A -key callee $B \
  && ok "caller got 603 Decline" || { fail "caller did not get 603"; tail -5 reject.out; }
svc_role_ok b1 10 "B's ringing device got CANCEL and answered 487"
svc_role_ok b2 10 "B's declining device got its ACK"
grep -q "^RX CANCEL" b1.log || fail "no CANCEL at the other device"
grep -q "^TX SIP/2.0 487" b1.log || fail "no 487 from the cancelled device"

# 2. 486 from one device does not stop the other.
dev busy1 $B1 2 "INVITE=486"                   # INVITE, ACK
dev busy2 $B2 3 "INVITE=180,sleep:1,200sdp"    # INVITE, ACK, BYE
sleep 0.5
svc_uac busy $UA_A chain_caller.xml -key user $A -key callee $B \
  && ok "486 from one device did not stop the other: the caller got 200, ACK, BYE" \
  || { fail "call with one busy device"; tail -5 busy.out; }
svc_role_ok busy2 10 "B's answering device got INVITE, ACK, BYE"
svc_role_ok busy1 10 "the busy device said 486 and got its ACK"

# 3. Sequential hunting (C's HSS record: "hunting": "sequential"): C1 has
# q=1.0, C2 and C3 q=0.5.
svc_register $C $C1 1.0 && svc_register $C $C2 0.5 && svc_register $C $C3 0.5 || svc_finish
ok "C's three devices registered with q 1.0, 0.5, 0.5"
rx_time() { # log method: unix time of the first received request of that method
  awk -v m="$2" '$1 == "RX" && $2 == m { sub("@", "", $NF); print $NF; exit }' "$1"
}
# 3a. C1 is busy: the q=0.5 group rings together, C2 answers, C3 is cancelled.
dev sq1 $C1 2 "INVITE=486"                       # INVITE, ACK
dev sq2 $C2 3 "INVITE=180,sleep:0.5,200sdp"      # INVITE, ACK, BYE
dev sq3 $C3 3 "INVITE=180,hold"                  # INVITE, CANCEL, ACK
sleep 0.5
svc_uac seqbusy $UA_A chain_caller.xml -key user $A -key callee $C \
  && ok "sequential: C1 (q=1.0) busy, the q=0.5 group rang, C2 answered: caller got 200" \
  || { fail "sequential hunting after a busy first device"; tail -5 seqbusy.out; }
svc_role_ok sq1 10 "C1 was tried first and said 486"
svc_role_ok sq2 10 "C2 (q=0.5) answered; ACK and BYE reached it"
svc_role_ok sq3 10 "C3 (q=0.5) rang with C2 and was cancelled when C2 answered"
t1=$(rx_time sq1.log INVITE) t2=$(rx_time sq2.log INVITE) t3=$(rx_time sq3.log INVITE)
python3 -c "import sys; t1,t2,t3=map(float,sys.argv[1:]); sys.exit(0 if t1 < t2 and t1 < t3 and abs(t2-t3) < 0.5 else 1)" \
  "${t1:-0}" "${t2:-0}" "${t3:-0}" && ok "C1 rang before C2 and C3, which rang together" \
  || fail "hunting order: C1 at $t1, C2 at $t2, C3 at $t3"
# 3b. C1 rings but nobody picks up within session.hunt_ring_time (2 s): C1
# gets CANCEL, the q=0.5 group rings, C2 answers.
dev sr1 $C1 3 "INVITE=180,hold"                  # INVITE, CANCEL, ACK
dev sr2 $C2 3 "INVITE=180,sleep:0.5,200sdp"      # INVITE, ACK, BYE
dev sr3 $C3 3 "INVITE=180,hold"                  # INVITE, CANCEL, ACK
sleep 0.5
svc_uac seqring $UA_A chain_caller.xml -key user $A -key callee $C \
  && ok "sequential: C1 unanswered for its ring time, C2 answered: caller got 200" \
  || { fail "sequential hunting after the ring time"; tail -5 seqring.out; }
svc_role_ok sr1 10 "C1 was cancelled after its ring time"
svc_role_ok sr2 10 "C2 answered after C1's ring time"
svc_role_ok sr3 10 "C3 was cancelled when C2 answered"
t1=$(rx_time sr1.log INVITE) t2=$(rx_time sr2.log INVITE)
python3 -c "import sys; t1,t2=map(float,sys.argv[1:]); sys.exit(0 if 1.8 <= t2-t1 <= 4 else 1)" \
  "${t1:-0}" "${t2:-0}" && ok "the q=0.5 group rang one ring time (2 s) after C1" \
  || fail "ring time: C1 at $t1, C2 at $t2"
# 3c. parallel stays the default: B's two devices (no hunting field) ring at once.
t1=$(rx_time b1.log INVITE) t2=$(rx_time b2.log INVITE)
python3 -c "import sys; t1,t2=map(float,sys.argv[1:]); sys.exit(0 if abs(t2-t1) < 0.5 else 1)" \
  "${t1:-0}" "${t2:-0}" && ok "parallel (default): B's devices rang together" || fail "B's devices: $t1 / $t2"

metrics=$(curl -s -m 5 "http://127.0.0.1:$MS/metrics")
for st in first next ring_timeout; do
  echo "$metrics" | grep -Eq "^scscf_hunt_steps_total\{step=\"$st\"\} [1-9]" \
    && ok "/metrics counts hunting step $st" || fail "no scscf_hunt_steps_total{step=\"$st\"}"
done

svc_finish
