#!/usr/bin/env bash
# The whole chain on loopback (SPEC flows 1 and 2): ims-hss, ims-scscf,
# ims-icscf, ims-pcscf; two SIPp UEs register with IMS AKA through the
# P-CSCF (P -> I -> S, UAR/MAR/SAR) and A calls B:
#   A -> P-CSCF -> S-CSCF (orig) -> I-CSCF (LIR) -> S-CSCF (term) -> P-CSCF -> B
# with INVITE/180/200/ACK/BYE/200, and B sees the P-Asserted-Identity the
# network set, never the one A forged.
# Everything on 127.0.0.1 as in the lab (deploy/lab.sh): the daemons tell
# themselves apart by port.
P=14080 I=14081 UA=14082 UB=14083 S=14102 REST=14122 DIA=14132
MP=14143 MI=14144 MS=14145
A=001010000000001 B=001010000000002 C=001010000000003 UC=14084
. "$(dirname "$0")/lib/chain.sh"
chain_start
for imsi in $A $B $C; do chain_provision_aka $imsi "tel:+1555000000${imsi: -1}"; done

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

chain_stop_cscfs
chain_sanitizer_check
chain_exit
