#!/usr/bin/env bash
# Calls per second through ims-scscf with two application servers in the
# iFC chain and USERS registered subscribers with 5 iFCs each (issue 6):
#   sipp UAC :21403 --INVITE (orig, P-Asserted-Identity)--> ims-scscf :21400
#     -> AS1 :21401 -> ims-scscf (odi) -> AS2 :21402 -> ims-scscf (odi)
#     -> ims-scscf (terminating: session.icscf_uri is the S-CSCF itself, so
#        no I-CSCF/LIR in the path) -> the callee's contact, sipp UAS :21404
#   ims-hss REST :21410, Cx :21411 (registration only), S-CSCF metrics :21412
#   tests/bench/scscf_as_chain.sh [BUILD_DIR]        (default: build)
# The ASs are sip-proxy-test (the product's proxy core, stateful, routes by
# Route, no Record-Route): fast proxies that send the INVITE back to the
# S-CSCF's odi Route entry. Every subscriber's profile holds 5 iFCs:
#   10 INVITE & ORIGINATING            -> AS1   (matches)
#   20 INVITE & ORIGINATING            -> AS2   (matches)
#   30 MESSAGE & ORIGINATING           -> :21409 (never matches an INVITE)
#   40 SUBSCRIBE                       -> :21409 (never matches an INVITE)
#   50 INVITE & TERMINATING_REGISTERED & header X-Bench-Divert present
#                                      -> :21409 (never present)
# so each call evaluates 5 iFCs on the originating side (resumed twice by
# odi) and 5 on the terminating side. All USERS subscribers register (SIP
# Digest MD5, sipp from the UAS port, so every contact is the UAS) before
# the ladder; call i goes from subscriber i to subscriber i+1.
# Ladder (name in steps.jsonl): scscf_as_call, INVITE/100/180/200/ACK/
#   hold (HOLD_MS)/BYE/200.
# CPU: SUT = ims-scscf + both ASs ("sut_split" gives each process; the
# S-CSCF's own us/call is printed per step at the end from SUT_EACH).
# Knobs: USERS (10000), CALL_RATES, STEP_SECS (10), HOLD_MS (1000), WORKERS
#   (2, S-CSCF), AS_WORKERS (1 per AS), REG_RATE (1000), PAUSE_S (35: the
#   INVITE transactions stay 32 s after the final response), RUN_BUDGET_S
#   (600, counted from the first call step), OUT.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd) || exit 1
BIN=$BUILD/bin
BENCH=$SRC/tests/bench
OUT=${OUT:-$BUILD/bench-results/scscf-as-$(date +%Y%m%d-%H%M%S)}
REALM=ims.mnc001.mcc001.3gppnetwork.org
S=21400 AS1=21401 AS2=21402 LOAD_PORT=21403 UAS_PORT=21404 AS_NONE=21409
REST=21410 DIA=21411 MS=21412
USERS=${USERS:-10000} WORKERS=${WORKERS:-2} AS_WORKERS=${AS_WORKERS:-1}
REG_RATE=${REG_RATE:-1000}
CALL_RATES=${CALL_RATES:-"200 400 600 800 1000 1200 1400"}
FIRST_IMSI=${FIRST_IMSI:-1014000000001}
PAUSE_S=${PAUSE_S:-35}
RUN_BUDGET_S=${RUN_BUDGET_S:-600}
TARGET=127.0.0.1:$S
. "$BENCH/lib/ladder.sh"
bench_check_env
for b in ims-hss ims-scscf sip-proxy-test; do
  [ -x "$BIN/$b" ] || bench_die "no $BIN/$b (sip-proxy-test needs -DIMS_TESTS=ON)"
done
[ "$USERS" -ge 2 ] || bench_die "USERS must be at least 2"

DAEMONS=() UAS_WRAP=
cleanup() {
  local p
  for p in $UAS_WRAP "${DAEMONS[@]}"; do kill "$p" 2>/dev/null; done
  for _ in $(seq 30); do kill -0 "${DAEMONS[@]}" 2>/dev/null || break; sleep 0.1; done
  for p in $UAS_WRAP "${DAEMONS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "results: $OUT"
echo "other load before start: $(bench_other_load)" | tee "$OUT/other_before.txt"
cat > "$OUT/hss.yaml" <<YAML
log_level: warn
realm: $REALM
db: $OUT/hss.db
rest: {addr: 127.0.0.1, port: $REST}
diameter:
  listen: {addr: 127.0.0.1, port: $DIA}
YAML
cat > "$OUT/scscf.yaml" <<YAML
log_level: warn
realm: $REALM
own_uri: "sip:127.0.0.1:$S"
sip:
  listen:
    - {addr: 127.0.0.1, port: $S, proto: both}
  workers: $WORKERS
diameter: {hss_addr: 127.0.0.1, hss_port: $DIA}
db: {path: "$OUT/scscf.db"}
registrar: {max_expires: 7200}
session: {icscf_uri: "sip:127.0.0.1:$S"}
http: {port: $MS}
YAML

wait_ready() { # pid name check-command...
  local pid=$1 name=$2; shift 2
  for _ in $(seq 300); do
    "$@" && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  bench_die "$name not ready: $(tail -3 "$OUT/$name.log")"
}
http_ok() { [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "$1")" = 200 ]; }
udp_bound() { ss -lun | grep -q "127.0.0.1:$1 "; }

( cd "$OUT" && exec "$BIN/ims-hss" -c hss.yaml > ims-hss.log 2>&1 ) &
DAEMONS+=($!)
wait_ready $! ims-hss http_ok "http://127.0.0.1:$REST/healthz"

# USERS subscribers with the 5 iFCs, in bulk batches of up to 5,000
python3 - "$OUT" "$REALM" "$FIRST_IMSI" "$USERS" "$AS1" "$AS2" "$AS_NONE" <<'PY' || bench_die "batch generation failed"
import json, sys
out, realm, first, users, as1, as2, none = sys.argv[1:]
first, users = int(first), int(users)
def ifc(prio, spts, port):
    return {"priority": prio, "trigger": {"cnf": False, "spt": spts},
            "application_server": {"server_name": "sip:127.0.0.1:%s" % port,
                                   "default_handling": "SESSION_CONTINUED"}}
ifcs = [
    ifc(10, [{"group": 0, "method": "INVITE"}, {"group": 0, "session_case": "ORIGINATING"}], as1),
    ifc(20, [{"group": 0, "method": "INVITE"}, {"group": 0, "session_case": "ORIGINATING"}], as2),
    ifc(30, [{"group": 0, "method": "MESSAGE"}, {"group": 0, "session_case": "ORIGINATING"}], none),
    ifc(40, [{"group": 0, "method": "SUBSCRIBE"}], none),
    ifc(50, [{"group": 0, "method": "INVITE"}, {"group": 0, "session_case": "TERMINATING_REGISTERED"},
             {"group": 0, "header": {"name": "X-Bench-Divert"}}], none),
]
imsis = ["%015d" % (first + i) for i in range(users)]
for b in range(0, users, 5000):
    recs = [{"impi": "%s@%s" % (m, realm), "impus": ["sip:%s@%s" % (m, realm), "tel:+%s" % m],
             "auth": {"k": "465b5ce8b199b49faa5f0a2ee238a6bc", "op": "cdc202d5123e20f62b6d676ac72cb318",
                      "amf": "8000", "password": "secret"}, "ifcs": ifcs}
            for m in imsis[b:b + 5000]]
    with open("%s/batch%03d.json" % (out, b // 5000), "w") as f:
        json.dump(recs, f)
with open("%s/users.csv" % out, "w") as f:
    f.write("SEQUENTIAL\n")
    f.writelines("%s;%s;secret\n" % (m, realm) for m in imsis)
with open("%s/calls.csv" % out, "w") as f:
    f.write("SEQUENTIAL\n")
    f.writelines("%s;%s\n" % (imsis[i], imsis[(i + 1) % users]) for i in range(users))
PY
t0=$(date +%s.%N)
for f in "$OUT"/batch*.json; do
  code=$(curl -s -m 120 -o "$OUT/bulk.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary @"$f" "http://127.0.0.1:$REST/api/v1/subscribers/bulk")
  [ "$code" = 201 ] || bench_die "bulk provisioning $f: HTTP $code $(head -c 300 "$OUT/bulk.out")"
done
rm -f "$OUT"/batch*.json
echo "provisioned $USERS subscribers with 5 iFCs in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"

( cd "$OUT" && exec "$BIN/ims-scscf" -c scscf.yaml > ims-scscf.log 2>&1 ) &
SCSCF_PID=$!
DAEMONS+=($SCSCF_PID)
wait_ready $SCSCF_PID ims-scscf http_ok "http://127.0.0.1:$MS/healthz"
AS_PIDS=
for a in "as1 $AS1" "as2 $AS2"; do
  set -- $a
  "$BIN/sip-proxy-test" -l "127.0.0.1:$2:udp" -l "127.0.0.1:$2:tcp" -w "$AS_WORKERS" --log warn \
    > "$OUT/$1.out" 2> "$OUT/$1.log" &
  DAEMONS+=($!)
  AS_PIDS+=" $!"
  wait_ready $! "$1" udp_bound "$2"
done

# register every subscriber from the UAS port: all contacts are the UAS
n_reg=$(( USERS ))
( cd "$OUT" && timeout -k 5 $(( USERS / REG_RATE + 120 )) sipp "$TARGET" -sf "$BENCH/sipp/reg_md5.xml" \
    -inf users.csv -t u1 -i 127.0.0.1 -p "$UAS_PORT" -r "$REG_RATE" -m "$n_reg" -l $(( REG_RATE * 5 )) \
    -key expires 7200 -nostdin -buff_size 4194304 -timeout $(( USERS / REG_RATE + 100 )) \
    -recv_timeout 10000 -trace_err -error_file reg_errors.log -trace_stat -stf reg_stat.csv -fd 5 \
    > reg.out 2>&1 )
reg_rc=$?
regs=$(curl -s -m 5 "http://127.0.0.1:$MS/metrics" | awk '$1 == "scscf_register_total{result=\"registered\"}" { print $2 }')
echo "registered: ${regs:-?} of $USERS (sipp exit $reg_rc)"
[ "${regs:-0}" -ge $(( USERS * 999 / 1000 )) ] || bench_die "registration incomplete: ${regs:-0}; see $OUT/reg.out"

bench_start_uas "$UAS_PORT"
SUT_PIDS="$SCSCF_PID$AS_PIDS"
echo "SUT: ims-scscf $SCSCF_PID, ASs$AS_PIDS; UAS sipp $UAS_PID"
BENCH_T0=$(date +%s)  # the run budget counts from the first call step

ladder scscf_as_call "$CALL_RATES" -sf "$BENCH/sipp/scscf_as_uac.xml" -inf "$OUT/calls.csv" \
  -i 127.0.0.1 -p "$LOAD_PORT" -key realm "$REALM" -key scscf "$TARGET" \
  -default_behaviors all,-abortunexp
curl -s -m 5 "http://127.0.0.1:$MS/metrics" > "$OUT/scscf_metrics.txt"
grep -E '^scscf_((as_requests|as_failures|session_requests)_total|odi_entries)' "$OUT/scscf_metrics.txt"
python3 "$BENCH/lib/summarize.py" "$OUT" | tee "$OUT/summary.txt"
# the S-CSCF's own CPU per call (its share in sut_split / achieved rate)
python3 - "$OUT/steps.jsonl" <<'PY' | tee "$OUT/scscf_cpu.txt"
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    split = dict(kv.split(":") for kv in (r.get("sut_split") or "").split(",") if ":" in kv)
    pct = float(split.get("ims-scscf", "0%").rstrip("%"))
    rate = r.get("achieved_rate") or 0
    print("%s rate %d %s: ims-scscf %.1f%% = %s us/call; split %s" % (
        r["name"], r["target_rate"], "PASS" if r["pass"] else "FAIL", pct,
        "%.1f" % (pct / 100.0 / rate * 1e6) if rate else "-", r.get("sut_split")))
PY
