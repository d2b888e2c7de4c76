# The whole chain on loopback for an integration test: ims-hss, ims-scscf,
# ims-icscf and ims-pcscf as separate processes, each with its own YAML
# written into $WORK, started in order and waited for on /healthz, stopped
# by PID on exit. Sourced, not run. The caller sets, before sourcing:
#   BIN SRC WORK              (from ctest)
#   P I S                     SIP ports of the P-, I- and S-CSCF (UDP+TCP)
#   REST DIA                  HSS REST and Diameter ports
#   MP MI MS                  /healthz + /metrics ports of P, I, S
# and may set SCSCF_EXTRA: more YAML lines inside the S-CSCF's `session:`
# block (indented two spaces).
# It gives: fail/ok and $FAILS, wait_http, waitpid_t, wait_udp_bound, PIDS (stopped on
# exit), chain_daemon, chain_start, chain_provision_aka, chain_stop_cscfs,
# chain_sanitizer_check, and SIPP_K/SIPP_OP/SIPP_AMF.
set -u
: "${BIN:?}" "${SRC:?}" "${WORK:?}" "${P:?}" "${I:?}" "${S:?}" "${REST:?}" "${DIA:?}"
: "${MP:?}" "${MI:?}" "${MS:?}"
REALM=ims.mnc001.mcc001.3gppnetwork.org
SC_DIR=$SRC/tests/integration/sipp
SCSCF_EXTRA=${SCSCF_EXTRA:-}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$SRC/tests/lsan.supp:print_suppressions=0}
rm -rf "$WORK" && mkdir -p "$WORK"
cd "$WORK" || exit 1
PIDS=()
chain_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap chain_cleanup EXIT
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
waitpid_t() { # pid seconds: the pid's exit status, 124 on timeout
  for _ in $(seq 1 $(($2 * 10))); do kill -0 "$1" 2>/dev/null || { wait "$1"; return $?; }; sleep 0.1; done
  return 124
}
wait_udp_bound() { # port [seconds]: until something listens on 127.0.0.1:port/udp
  for _ in $(seq 1 $((${2:-10} * 10))); do
    [ -n "$(ss -Hlun "sport = :$1" 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  fail "nothing bound to udp port $1 after ${2:-10} s"; return 1
}
for b in ims-hss ims-scscf ims-icscf ims-pcscf; do
  [ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b not built"; exit 1; }
done

# SIPp 3.6.1 takes aka_K, aka_OP and aka_AMF as raw text, not hex: it uses
# the first 16 (K, OP) and 2 (AMF) characters of what the scenario says.
# A subscriber provisioned with the hex of exactly those bytes lets the
# SIPp scenarios keep the SPEC keys as written.
SIPP_K=$(printf '%s' 465b5ce8b199b49f | od -An -tx1 | tr -d ' \n')
SIPP_OP=$(printf '%s' cdc202d5123e20f6 | od -An -tx1 | tr -d ' \n')
SIPP_AMF=$(printf '%s' 80 | od -An -tx1 | tr -d ' \n')

chain_write_configs() {
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
session:
  icscf_uri: "sip:127.0.0.1:$I"
$SCSCF_EXTRA
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
}

chain_daemon() { # name binary config health-port: starts it, sets ${name}_PID
  "$BIN/$2" -c "$3" >"$1.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  eval "${1}_PID=$pid"
  wait_http "http://127.0.0.1:$4/healthz" "$pid" 30 || { fail "$2 not ready"; tail -20 "$1.log"; exit 1; }
}

chain_start() { # writes the configs, starts the four daemons in order
  chain_write_configs
  chain_daemon hss ims-hss hss.yaml "$REST"
  chain_daemon scscf ims-scscf scscf.yaml "$MS"
  chain_daemon icscf ims-icscf icscf.yaml "$MI"
  chain_daemon pcscf ims-pcscf pcscf.yaml "$MP"
  ok "four daemons ready (SIP P=$P I=$I S=$S)"
}

# chain_provision_aka IMSI TEL: a subscriber with the SIPp text-byte AKA keys.
chain_provision_aka() {
  cat > "sub_$1.json" <<JSON
{"impi": "$1@$REALM", "impus": ["sip:$1@$REALM", "$2"],
 "auth": {"k": "$SIPP_K", "op": "$SIPP_OP", "amf": "$SIPP_AMF", "sqn": "000000000000"}}
JSON
  local code
  code=$(curl -s -m 5 -o "prov_$1.out" -w '%{http_code}' -H 'Content-Type: application/json' \
         --data-binary @"sub_$1.json" "http://127.0.0.1:$REST/api/v1/subscribers")
  [ "$code" = 201 ] || { fail "provision $1: $code $(cat "prov_$1.out")"; return 1; }
}

chain_stop_cscfs() { # SIGTERM to the three CSCFs; each must stop within 15 s
  for d in pcscf icscf scscf; do
    local pid_var=${d}_PID
    kill -TERM "${!pid_var}" 2>/dev/null
    waitpid_t "${!pid_var}" 15 || fail "$d did not stop on SIGTERM"
  done
}

chain_sanitizer_check() { # a sanitizer report in any daemon log is a failure
  if grep -q "Sanitizer\|runtime error" ./*.log 2>/dev/null; then
    fail "sanitizer report in a daemon log"
    grep -h -A20 "Sanitizer\|runtime error" ./*.log | head -60
  else
    ok "no sanitizer report in the daemon logs"
  fi
}

chain_exit() { # the verdict: tails of the CSCF logs on failure
  if [ "$FAILS" -ne 0 ]; then
    for d in pcscf icscf scscf; do echo "--- $d.log (tail)"; tail -30 "$d.log"; done
    echo "$FAILS failure(s)"; exit 1
  fi
  echo "all passed"
  exit 0
}
