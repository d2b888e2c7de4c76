#!/usr/bin/env bash
# Robustness of the SIP daemons (SPEC flow 5, in the manner of redis's
# tests/unit/protocol.tcl): the whole chain on loopback (ims-hss, ims-scscf,
# ims-icscf, ims-pcscf), a UE registered with AKA through the P-CSCF, then
# malformed SIP over UDP and TCP to each CSCF: garbage, no Call-ID, a bad
# CSeq, a 20 kB header, 2000 headers, a NUL in a header, a Via with port
# 99999, SIP/3.0, Max-Forwards 0, Content-Length beyond the datagram, a
# REGISTER with a bad Contact, an Authorization with broken quoting, a
# response no transaction wants, a TCP message cut short then closed.
# For each, the exact status line (or nothing when no answer can be
# formed); then every daemon still answers, no daemon died, the HSS still
# has the UE REGISTERED and a fresh REGISTER of the UE still gets 200.
# Cases: tests/integration/robustness/sip-bad.py; expectations: below.
P=20060 I=20061 S=20062 UA=20070 BAD_UDP=20080
REST=20100 DIA=20110 MP=20120 MI=20121 MS=20122
A=001010000000001
TOOLS=$SRC/tests/integration/robustness
. "$(dirname "$0")/lib/chain.sh"
for port in $P $I $S $REST $DIA $MP $MI $MS; do
  if ss -ltnu 2>/dev/null | grep -q "[:.]$port "; then
    echo "FAIL: port $port is already in use (another run of this test?)"; exit 1
  fi
done
chain_start
chain_provision_aka $A "tel:+15550000001"

register() { # AKA registration of A through the P-CSCF, retried (SIPp cuts a RES at a 0x00 byte)
  for try in 1 2 3 4; do
    if timeout 30 sipp "127.0.0.1:$P" -sf "$SC_DIR/chain_ue_register.xml" -i 127.0.0.1 -p "$UA" -m 1 \
         -nostdin -trace_err -timeout 15 -timeout_error -key realm "$REALM" -key user "$A" \
         -au "$A@$REALM" >"reg_$1_$try.out" 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}
reg_state() {
  curl -s -m 5 "http://127.0.0.1:$REST/api/v1/subscribers/$A@$REALM/registration" \
    | sed -n 's/.*"state" *: *"\([A-Z_]*\)".*/\1/p'
}
register first && ok "UE $A registered with AKA through P -> I -> S" \
  || { fail "UE registration"; tail -20 reg_first_4.out; exit 1; }
[ "$(reg_state)" = REGISTERED ] && ok "HSS has $A REGISTERED" || fail "HSS state: $(reg_state)"

# ---- the malformed messages ------------------------------------------------
# expect DAEMON PROTO CASE WANT: WANT is the exact status line, "none" (no
# answer can be formed: the daemon drops it) or "closed" (tcp: the daemon
# closed the connection without answering).
EXPECT=$WORK/expect.txt
: >"$EXPECT"
expect() { echo "$1 $2 $3 $4" >>"$EXPECT"; }
. "$TOOLS/sip-expect.sh"

for d in pcscf:$P icscf:$I scscf:$S; do
  name=${d%%:*} port=${d##*:}
  for proto in udp tcp; do
    timeout 120 python3 "$TOOLS/sip-bad.py" --port "$port" --proto "$proto" --lport $BAD_UDP \
      --realm "$REALM" --user "$A" --wait 2 >"bad_${name}_$proto.out" 2>&1 \
      || fail "sip-bad.py against $name/$proto: $(tail -3 "bad_${name}_$proto.out")"
    while read -r line; do
      c=${line#case=}; c=${c%% got=*}; got=${line#* got=}
      want=$(awk -v d="$name" -v p="$proto" -v c="$c" '$1==d && $2==p && $3==c {sub(/^[^ ]+ [^ ]+ [^ ]+ /, ""); print; exit}' "$EXPECT")
      if [ -z "$want" ]; then
        fail "$name/$proto $c: no expectation written (got '$got')"
      elif [ "$got" = "$want" ]; then
        ok "$name/$proto $c -> $got"
      else
        fail "$name/$proto $c: got '$got', want '$want'"
      fi
    done <"bad_${name}_$proto.out"
    for pid_var in hss_PID scscf_PID icscf_PID pcscf_PID; do
      kill -0 "${!pid_var}" 2>/dev/null || { fail "${pid_var%_PID} died during the $name/$proto cases"; tail -30 "${pid_var%_PID}.log"; exit 1; }
    done
  done
done

# ---- nothing lost ------------------------------------------------------------
for pid_var in hss_PID scscf_PID icscf_PID pcscf_PID; do
  kill -0 "${!pid_var}" 2>/dev/null && ok "${pid_var%_PID} still running" || fail "${pid_var%_PID} died"
done
for m in $MP $MI $MS; do
  [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$m/healthz")" = 200 ] \
    && ok "/healthz on $m answers 200" || fail "/healthz on $m"
done
[ "$(reg_state)" = REGISTERED ] && ok "HSS still has $A REGISTERED" || fail "HSS state after: $(reg_state)"
register again && ok "a fresh REGISTER of $A through the chain still gets 200" \
  || fail "re-registration after the malformed messages"
chain_sanitizer_check

[ "$FAILS" = 0 ] && echo "robustness_sip: all passed" || echo "robustness_sip: $FAILS failure(s)"
[ "$FAILS" = 0 ]
