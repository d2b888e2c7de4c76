# Shared harness of the services_*.sh integration tests (issue 9): the whole
# chain on loopback (../lib/chain.sh) and helpers to provision subscribers,
# register SIPp devices with SIP Digest MD5 and run SIPp roles. Sourced, not
# run: the caller sets SVC_INDEX (0..2) first, which picks its own block of
# ports so the scripts can run side by side:
#   SIP 22060 + 40*index ..., HSS REST 22200+index, Diameter 22210+index,
#   metrics 22220 + 3*index ...
set -u
: "${SVC_INDEX:?}"
SIPBASE=$((22060 + 40 * SVC_INDEX))
P=$SIPBASE I=$((SIPBASE + 1)) S=$((SIPBASE + 2))
REST=$((22200 + SVC_INDEX)) DIA=$((22210 + SVC_INDEX))
MP=$((22220 + 3 * SVC_INDEX)) MI=$((22221 + 3 * SVC_INDEX)) MS=$((22222 + 3 * SVC_INDEX))
# The ports are fixed: another run of the same script (another build
# directory, another CI run on this host) waits for this one to end
# instead of fighting over the sockets.
LOCK=${TMPDIR:-/tmp}/ims-services-$SVC_INDEX.lock
exec 9>>"$LOCK"
if ! flock -w 300 9; then echo "FAIL: $LOCK still held after 300 s"; exit 1; fi
# SCSCF_EXTRA: more YAML lines for the S-CSCF's `session:` block.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/chain.sh"
svc_start() { chain_start; }

# svc_provision IMSI [hunting] [ifcs JSON array]: a subscriber with the
# SPEC demo identities and the Digest password "secret".
svc_provision() {
  local imsi=$1 hunting=${2:-parallel} ifcs=${3:-[]} n=${1: -2}
  cat > "sub_$imsi.json" <<JSON
{"impi": "$imsi@$REALM", "impus": ["sip:$imsi@$REALM", "tel:+155500000$n"],
 "auth": {"k": "465b5ce8b199b49faa5f0a2ee238a6bc", "op": "cdc202d5123e20f62b6d676ac72cb318",
          "amf": "8000", "sqn": "000000000000", "password": "secret"},
 "hunting": "$hunting", "ifcs": $ifcs}
JSON
  local code
  code=$(curl -s -m 5 -o "prov_$imsi.out" -w '%{http_code}' -H 'Content-Type: application/json' \
         --data-binary @"sub_$imsi.json" "http://127.0.0.1:$REST/api/v1/subscribers")
  [ "$code" = 201 ] || { fail "provision $imsi: $code $(cat "prov_$imsi.out")"; return 1; }
}

# svc_register IMSI PORT [q]: one device of IMSI, listening on PORT,
# registers through the P-CSCF with MD5.
svc_register() {
  local q=${3:-1.0}
  for try in 1 2 3; do
    if timeout 30 sipp "127.0.0.1:$P" -sf "$SC_DIR/services_ue_register.xml" -i 127.0.0.1 -p "$2" -m 1 \
         -nostdin -trace_err -timeout 15 -timeout_error -key realm "$REALM" -key user "$1" \
         -key q "$q" -au "$1@$REALM" -ap secret >"reg_$1_$2.out" 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  fail "registration of $1 on port $2"; tail -5 "reg_$1_$2.out"; return 1
}

# svc_bg NAME PORT SCENARIO [sipp args...]: a SIPp role in the background
# (a device or an AS waiting for requests); its pid in ${NAME}_SIPP.
svc_bg() {
  local name=$1 port=$2 sc=$3
  shift 3
  sipp -sf "$SC_DIR/$sc" -i 127.0.0.1 -p "$port" -m 1 -nostdin -trace_err -trace_msg \
       -message_file "$name.msg" -error_file "$name.err" -timeout 40 -timeout_error \
       -key realm "$REALM" "$@" >"$name.out" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  eval "${name}_SIPP=$pid"
  wait_udp_bound "$port"
}

# svc_uac NAME PORT SCENARIO [sipp args...]: a SIPp UE sending through the
# P-CSCF, in the foreground (bounded). Returns its status.
svc_uac() {
  local name=$1 port=$2 sc=$3
  shift 3
  timeout 50 sipp "127.0.0.1:$P" -sf "$SC_DIR/$sc" -i 127.0.0.1 -p "$port" -m 1 -nostdin -trace_err \
       -trace_msg -message_file "$name.msg" -error_file "$name.err" -timeout 40 -timeout_error \
       -key realm "$REALM" "$@" >"$name.out" 2>&1
}

# svc_role_ok NAME SECONDS WHAT: waits for a background role to end; ok or fail.
svc_role_ok() {
  local pid_var=${1}_SIPP
  if waitpid_t "${!pid_var}" "$2"; then ok "$3"; else fail "$3 ($1)"; head -20 "$1.err" 2>/dev/null; fi
}

svc_finish() {
  chain_stop_cscfs
  chain_sanitizer_check
  chain_exit
}
