#!/usr/bin/env bash
# The chain_load.sh ladders against Kamailio 5.6's IMS chain, with ims-hss:
#   Kamailio P-CSCF udp:5060 -> I-CSCF udp:4060 -> S-CSCF udp:6060,
#   ims-hss (Cx 127.0.0.1:3868, REST :21500), UEs on 21510-21512
#   tests/bench/kamailio_ims_chain.sh [BUILD_DIR]      (default: build)
# The Kamailio configs are the reference ones (../shared/reference/
# kamailio-ims, KAM_REF=...), copied into the results directory with three
# changes that the 5.6.3 modules need (see docs/PERFORMANCE.md):
#   - save() with 4 parameters: the 2-parameter save() of ims_registrar_scscf
#     5.6.3 reads a 5th argument that was never passed and crashes;
#   - ims_auth max_nonce_reuse 1, so the de-registration may reuse the nonce
#     with nc 2, as our S-CSCF allows (else each one costs a 401 and a MAR);
#   - the S-CSCF asks for KAM_AUTH_ALG (default 3GPP-Digest: scheme
#     "SIP Digest", HA1 from the HSS, as our S-CSCF; "MD5" is the
#     reference's "Digest-MD5").
#     With KAM_AUTH_ALG=AKAv1-MD5 the two probe UEs register with IMS AKA
#     (sipp/reg_aka.xml: Kamailio's MAR, our vectors); the kam_chain_reg
#     ladder's scenario answers MD5 only, so run LADDERS=call then.
# Ladders (names in steps.jsonl):
#   kam_chain_reg   registration + de-registration cycles of USERS
#                   subscribers, one UDP socket per UE (sipp -t un); per
#                   cycle: UAR, MAR, SAR, then UAR, SAR for the
#                   de-registration (no reg-event at either end)
#   kam_chain_call  calls from registered UE A (21510) to registered UE B (a
#                   sipp UAS on 21511): P -> S (orig; the reference config
#                   goes straight on to its terminating logic: no I-CSCF,
#                   no LIR) -> P -> B, INVITE/100/180/200/ACK/hold/BYE/200
# Knobs: USERS (10000), REG_RATES, CALL_RATES, STEP_SECS, HOLD_MS, LADDERS
#   ("reg call"), PAUSE_S (15), RUN_BUDGET_S (1200), KAM_AUTH_ALG, SHM_MB
#   (256), PKG_MB (16), OUT.
# The fixed ports (5060, 4060, 6060, 3868-3870) must be free.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd) || exit 1
BIN=$BUILD/bin
BENCH=$SRC/tests/bench
KAM_REF=${KAM_REF:-$SRC/../shared/reference/kamailio-ims}
OUT=${OUT:-$BUILD/bench-results/kamchain-$(date +%Y%m%d-%H%M%S)}
REALM=ims.mnc001.mcc001.3gppnetwork.org
P=5060 I=4060 S=6060 DIA=3868 REST=21500 UA=21510 UB=21511 LOAD_PORT=21512
USERS=${USERS:-10000}
REG_RATES=${REG_RATES:-"100 200 300 400 600 800"}
CALL_RATES=${CALL_RATES:-"100 200 300 400 600 800 1000"}
LADDERS=${LADDERS:-"reg call"}
PAUSE_S=${PAUSE_S:-15}
RUN_BUDGET_S=${RUN_BUDGET_S:-1200}
KAM_AUTH_ALG=${KAM_AUTH_ALG:-3GPP-Digest}
SHM_MB=${SHM_MB:-256} PKG_MB=${PKG_MB:-16}
TARGET=127.0.0.1:$P
. "$BENCH/lib/ladder.sh"
bench_check_env
[ -x "$BIN/ims-hss" ] || bench_die "no $BIN/ims-hss"
command -v kamailio >/dev/null || bench_die "kamailio not installed (deploy/install-deps.sh --bench)"
command -v sqlite3 >/dev/null || bench_die "sqlite3 not installed (deploy/install-deps.sh --bench)"
for f in pcscf/pcscf.cfg icscf/icscf.cfg scscf/scscf.cfg icscf/icscf.sql; do
  [ -f "$KAM_REF/$f" ] || bench_die "no $KAM_REF/$f (set KAM_REF)"
done
XSD=$(cd "$KAM_REF/../../data" 2>/dev/null && pwd)/CxDataType_Rel7.xsd
[ -f "$XSD" ] || bench_die "no $XSD"
for port in $P $I $S; do
  ss -lun | awk '{print $4}' | grep -qE "^(127\.0\.0\.1|0\.0\.0\.0|\*):$port\$" && bench_die "UDP port $port busy"
done
ss -ltn | awk '{print $4}' | grep -qE ":($DIA|3869|3870)\$" && bench_die "TCP port 3868, 3869 or 3870 busy"

HSS_PID= KAM_PIDS=() UAS_WRAP=
cleanup() {
  local p
  for p in $UAS_WRAP "${KAM_PIDS[@]}" $HSS_PID; do kill "$p" 2>/dev/null; done
  for _ in $(seq 50); do kill -0 "${KAM_PIDS[@]}" $HSS_PID 2>/dev/null || break; sleep 0.1; done
  for p in $UAS_WRAP "${KAM_PIDS[@]}" $HSS_PID; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "results: $OUT"
echo "other load before start: $(bench_other_load)" | tee "$OUT/other_before.txt"
K=$OUT/kam
mkdir -p "$K" /run/kamailio-ims || bench_die "cannot create $K or /run/kamailio-ims"

# --- ims-hss on the Cx port the reference configs name ---
cat > "$OUT/hss.yaml" <<YAML
log_level: warn
realm: $REALM
scscf_name: "sip:127.0.0.1:$S"
db: $OUT/hss.db
rest: {addr: 127.0.0.1, port: $REST}
diameter:
  identity: hss.$REALM
  listen: {addr: 127.0.0.1, port: $DIA}
YAML
( cd "$OUT" && exec "$BIN/ims-hss" -c hss.yaml > ims-hss.log 2>&1 ) &
HSS_PID=$!
for _ in $(seq 300); do
  [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REST/healthz")" = 200 ] && break
  kill -0 "$HSS_PID" 2>/dev/null || bench_die "ims-hss exited: $(tail -3 "$OUT/ims-hss.log")"
  sleep 0.1
done
python3 "$BENCH/lib/provision.py" "127.0.0.1:$REST" "$REALM" 1010300000001 "$USERS" secret \
  "$OUT/users.csv" || bench_die "provisioning failed"
python3 "$BENCH/lib/provision.py" "127.0.0.1:$REST" "$REALM" 1010390000001 2 secret \
  "$OUT/ues.csv" || bench_die "provisioning failed"

# --- Kamailio: the reference configs, with the changes listed at the top ---
HSS_FQDN=localhost
getent hosts "hss.$REALM" | grep -q '^127\.' && HSS_FQDN=hss.$REALM
for n in pcscf icscf scscf; do
  cp "$KAM_REF/$n/$n.cfg" "$K/$n.cfg"
  v=HSS_FQDN; [ $n = pcscf ] && v=PCRF_FQDN
  sed "s/@$v@/$HSS_FQDN/g" "$KAM_REF/$n/$n.xml.in" > "$K/$n.xml"
done
sed -i -e 's/save("\([A-Z_]*\)", "location")/save("\1", "location", "0", "0")/' \
  -e '/^modparam("ims_auth", "av_check_only_impu"/a modparam("ims_auth", "max_nonce_reuse", 1)' "$K/scscf.cfg"
[ "$(grep -c 'save("[A-Z_]*", "location", "0", "0")' "$K/scscf.cfg")" = 2 ] &&
  grep -q max_nonce_reuse "$K/scscf.cfg" || bench_die "the S-CSCF config changes did not apply"
sqlite3 "$K/icscf.sqlite" < "$KAM_REF/icscf/icscf.sql" || bench_die "icscf.sqlite"
cat /usr/share/kamailio/db_sqlite/standard-create.sql /usr/share/kamailio/db_sqlite/presence-create.sql |
  sqlite3 "$K/scscf.sqlite" || bench_die "scscf.sqlite"
for n in scscf icscf pcscf; do
  defs=(-A "CDP_XML=\"$K/$n.xml\"")
  [ $n = icscf ] && defs+=(-A "DB_URL=\"sqlite://$K/icscf.sqlite\"")
  [ $n = scscf ] && defs+=(-A "XSD=\"$XSD\"" -A "DB_URL=\"sqlite://$K/scscf.sqlite\"" \
    -A "AUTH_ALG=\"$KAM_AUTH_ALG\"")
  kamailio -f "$K/$n.cfg" -DD -E -m "$SHM_MB" -M "$PKG_MB" "${defs[@]}" > "$K/$n.log" 2>&1 &
  KAM_PIDS+=("$!")
done
sleep 3
for p in "${KAM_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || bench_die "a kamailio exited: see $K/*.log"; done

# --- the probe: UE A registers (cdp may need one Tc = 30 s to get its CEA) ---
ue_register() { # imsi port csv-line
  printf 'SEQUENTIAL\n%s\n' "$(sed -n "${3}p" "$OUT/ues.csv")" > "$OUT/ue_$1.csv"
  local sf=reg_md5.xml
  case "$KAM_AUTH_ALG" in AKA*) sf=reg_aka.xml ;; esac # K/OP in the csv
  ( cd "$OUT" && timeout -k 5 30 sipp "$TARGET" -sf "$BENCH/sipp/$sf" -inf "ue_$1.csv" \
      -i 127.0.0.1 -p "$2" -m 1 -key expires 7200 -nostdin -timeout 20 -timeout_error \
      -trace_err -error_file "ue_$1.err" > "ue_$1.out" 2>&1 )
}
A=$(sed -n 2p "$OUT/ues.csv" | cut -d';' -f1) B=$(sed -n 3p "$OUT/ues.csv" | cut -d';' -f1)
ok=0
for _ in $(seq 15); do
  ue_register "$A" "$UA" 2 && { ok=1; break; }
  sleep 4
done
[ $ok = 1 ] || bench_die "UE $A did not register through the Kamailio chain: $(tail -3 "$OUT/ue_$A.err")"
ue_register "$B" "$UB" 3 || bench_die "UE $B did not register"

# every process of the three instances (their children do the work)
SUT_PIDS="$HSS_PID"
for p in "${KAM_PIDS[@]}"; do SUT_PIDS+=" $p $(pgrep -P "$p" | tr '\n' ' ')"; done
echo "ims-hss $HSS_PID; kamailio S/I/P ${KAM_PIDS[*]}: $(echo $SUT_PIDS | wc -w) processes measured"

# PSS (shared memory counted once) of the measured processes, in MB
pss_mb() {
  local t=0 p v
  for p in $SUT_PIDS; do
    v=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null) && t=$((t + ${v:-0}))
  done
  awk -v k="$t" 'BEGIN { printf "%.1f", k / 1024 }'
}
# CPU ticks of each instance (all its processes), for the split per daemon
inst_ticks() {
  local out="ims-hss=$(bench_ticks $HSS_PID)" i=0 n
  for n in scscf icscf pcscf; do
    out+=" $n=$(bench_ticks ${KAM_PIDS[$i]} $(pgrep -P "${KAM_PIDS[$i]}"))"
    i=$((i + 1))
  done
  echo "$out"
}
echo "pss_mb start $(pss_mb)" | tee -a "$OUT/pss.txt"

for l in $LADDERS; do
  echo "ticks before $l: $(inst_ticks)" >> "$OUT/instance_ticks.txt"
  case $l in
    reg)
      ladder kam_chain_reg "$REG_RATES" -sf "$BENCH/sipp/chain_reg_md5.xml" -inf "$OUT/users.csv" \
        -t un -max_socket 10000 -i 127.0.0.1 -p "$LOAD_PORT" -key expires 3600 -default_behaviors all,-bye ;;
    call)
      bench_start_uas "$UB"
      ladder kam_chain_call "$CALL_RATES" -sf "$BENCH/sipp/chain_uac_call.xml" -i 127.0.0.1 -p "$UA" \
        -key user "$A" -key callee "$B" -key realm "$REALM" -default_behaviors all,-abortunexp ;;
    *) bench_die "unknown ladder $l" ;;
  esac
  echo "ticks after $l: $(inst_ticks)" >> "$OUT/instance_ticks.txt"
  echo "pss_mb after $l $(pss_mb)" | tee -a "$OUT/pss.txt"
done
python3 "$BENCH/lib/summarize.py" "$OUT" | tee "$OUT/summary.txt"
