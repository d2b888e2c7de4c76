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
set -u
: "${BIN:?}" "${SRC:?}" "${WORK:?}"
REALM=ims.mnc001.mcc001.3gppnetwork.org
P=20060 I=20061 S=20062 UA=20070 BAD_UDP=20080
REST=20100 DIA=20110 MP=20120 MI=20121 MS=20122
A=001010000000001
SC_DIR=$SRC/tests/integration/sipp
TOOLS=$SRC/tests/integration/robustness
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
for b in ims-hss ims-scscf ims-icscf ims-pcscf; do
  [ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b not built"; exit 1; }
done
for port in $P $I $S $REST $DIA $MP $MI $MS; do
  if ss -ltnu 2>/dev/null | grep -q "[:.]$port "; then
    echo "FAIL: port $port is already in use (another run of this test?)"; exit 1
  fi
done

cat > hss.yaml <<YAML
log_level: info
realm: $REALM
db: $WORK/hss.db
rest: {addr: 127.0.0.1, port: $REST}
diameter:
  listen: {addr: 127.0.0.1, port: $DIA}
YAML
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
  - {name: "sip:127.0.0.1:$S", uri: "sip:127.0.0.1:$S", capabilities: []}
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
# SIPp 3.6.1 takes aka_K/aka_OP/aka_AMF as raw text: the subscriber gets
# the hex of those characters (as in chain_register_call.sh).
SIPP_K=$(printf '%s' 465b5ce8b199b49f | od -An -tx1 | tr -d ' \n')
SIPP_OP=$(printf '%s' cdc202d5123e20f6 | od -An -tx1 | tr -d ' \n')
SIPP_AMF=$(printf '%s' 80 | od -An -tx1 | tr -d ' \n')
cat > sub.json <<JSON
{"impi": "$A@$REALM", "impus": ["sip:$A@$REALM", "tel:+15550000001"],
 "auth": {"k": "$SIPP_K", "op": "$SIPP_OP", "amf": "$SIPP_AMF", "sqn": "000000000000"}}
JSON
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
       --data-binary @sub.json "http://127.0.0.1:$REST/api/v1/subscribers")
[ "$code" = 201 ] || fail "provision $A: $code"
start scscf ims-scscf scscf.yaml "$MS"
start icscf ims-icscf icscf.yaml "$MI"
start pcscf ims-pcscf pcscf.yaml "$MP"
ok "four daemons ready"

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
if grep -q "ERROR: AddressSanitizer\|runtime error:" ./*.log; then
  fail "sanitizer report in a daemon log"; grep -h -A5 "AddressSanitizer\|runtime error:" ./*.log | head -20
else
  ok "no sanitizer report in the daemon logs"
fi

[ "$FAILS" = 0 ] && echo "robustness_sip: all passed" || echo "robustness_sip: $FAILS failure(s)"
[ "$FAILS" = 0 ]
