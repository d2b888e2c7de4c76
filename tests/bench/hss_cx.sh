#!/usr/bin/env bash
# HSS Cx benchmark (issue 4): bulk-provision USERS subscribers through
# POST /api/v1/subscribers/bulk (batches of BATCH, timed), then drive MAR and
# SAR load with tests/tools/cx-client --bench and print answers/s, p50/p99.
# Usage: tests/bench/hss_cx.sh BUILD_DIR   (a Release build, e.g. build-h14-rel)
# Env: USERS (100000), BATCH (10000), REQS (100000 per command), INFLIGHT (64),
# DIA_THREADS (4: the HSS key diameter.threads).
# PERF=1: perf record -g on ims-hss for PERF_SECS (6) s of each phase
# (report in PERF_DIR, default /tmp/hss_cx_perf). For each phase the script
# prints the CPU of ims-hss and of cx-client (% of one core over the phase)
# and the CPU used by other processes on the machine (shared hosts).
# Ports REST_PORT (25000) and DIA_PORT (25001); DB under /tmp.
# HSS_LOG_KEEP=FILE: keep the HSS's log (e.g. a sanitizer build's report).
set -u
BUILD=${1:?usage: hss_cx.sh BUILD_DIR}
BIN=$BUILD/bin
USERS=${USERS:-100000}
BATCH=${BATCH:-10000}
REQS=${REQS:-100000}
CLIENT=${CLIENT:-cx-load}
INFLIGHT=${INFLIGHT:-64}
PERF=${PERF:-0}
PERF_SECS=${PERF_SECS:-6}
PERF_DIR=${PERF_DIR:-/tmp/hss_cx_perf}
BENCH_LIB=$(cd "$(dirname "$0")/lib" && pwd)
CLK_TCK=$(getconf CLK_TCK)
REST_PORT=${REST_PORT:-25000}
DIA_PORT=${DIA_PORT:-25001}
REALM=ims.mnc001.mcc001.3gppnetwork.org
API=http://127.0.0.1:$REST_PORT/api/v1/subscribers
WORK=$(mktemp -d "${BENCH_TMP:-/tmp}/hss_cx_bench.XXXXXX")
HSS_PID=
PERF_PID=
cleanup() {
  [ -n "$PERF_PID" ] && { kill -INT "$PERF_PID" 2>/dev/null; wait "$PERF_PID" 2>/dev/null; }
  [ -n "$HSS_PID" ] && { kill "$HSS_PID" 2>/dev/null; wait "$HSS_PID" 2>/dev/null; }
  [ -n "${HSS_LOG_KEEP:-}" ] && cp "$WORK/hss.log" "$HSS_LOG_KEEP"
  rm -rf "$WORK"
}
trap cleanup EXIT

for p in $REST_PORT $DIA_PORT; do
  if ss -ltn 2>/dev/null | grep -q "[:.]$p "; then echo "port $p is busy" >&2; exit 1; fi
done
cat > "$WORK/hss.yaml" <<YAML
log_level: notice
realm: $REALM
db: $WORK/hss.db
rest:
  addr: 127.0.0.1
  port: $REST_PORT
diameter:
  listen:
    addr: 127.0.0.1
    port: $DIA_PORT
  threads: ${DIA_THREADS:-4}
YAML
"$BIN/ims-hss" -c "$WORK/hss.yaml" >"$WORK/hss.log" 2>&1 &
HSS_PID=$!
for _ in $(seq 1 100); do
  curl -s -m 1 -o /dev/null "http://127.0.0.1:$REST_PORT/healthz" && break
  kill -0 "$HSS_PID" 2>/dev/null || { cat "$WORK/hss.log"; exit 1; }
  sleep 0.1
done

# Subscriber n: IMPI 0010100000nnnnn@realm, IMPU sip:<same>, demo K/OP
# (SPEC.md), one iFC, as a lab would provision them.
gen_batch() { # first count -> file
  awk -v first="$1" -v count="$2" -v realm="$REALM" 'BEGIN {
    printf "[";
    for (i = first; i < first + count; i++) {
      id = sprintf("0010100000%05d", i);
      printf "%s{\"impi\":\"%s@%s\",\"impus\":[\"sip:%s@%s\",\"tel:+1555%07d\"],", (i > first ? "," : ""), id, realm, id, realm, i;
      printf "\"auth\":{\"k\":\"465b5ce8b199b49faa5f0a2ee238a6bc\",\"op\":\"cdc202d5123e20f62b6d676ac72cb318\",\"amf\":\"8000\"},";
      printf "\"ifcs\":[{\"priority\":10,\"trigger\":{\"cnf\":false,\"spt\":[{\"group\":0,\"method\":\"INVITE\"}]},";
      printf "\"application_server\":{\"server_name\":\"sip:as1.%s:5090\",\"default_handling\":\"SESSION_CONTINUED\"}}]}", realm;
    }
    printf "]" }' > "$3"
}
echo "# generating $USERS subscribers in batches of $BATCH"
nb=0
for ((f = 0; f < USERS; f += BATCH)); do
  c=$(( USERS - f < BATCH ? USERS - f : BATCH ))
  gen_batch "$f" "$c" "$WORK/batch$nb.json"
  nb=$((nb + 1))
done
echo "# bulk body size: $(du -cb "$WORK"/batch*.json | tail -1 | cut -f1) bytes in $nb requests"
t0=$(date +%s.%N)
for ((b = 0; b < nb; b++)); do
  code=$(curl -s -m 120 -o "$WORK/bulk.out" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' --data-binary "@$WORK/batch$b.json" "$API/bulk")
  [ "$code" = 201 ] || { echo "bulk batch $b: $code $(cat "$WORK/bulk.out")" >&2; exit 1; }
done
t1=$(date +%s.%N)
total=$(curl -s "$API?limit=1" | sed -n 's/.*"total": *\([0-9]*\).*/\1/p')
echo "bulk_provisioning subscribers=$total seconds=$(echo "$t1 - $t0" | bc)"
[ "$total" = "$USERS" ] || { echo "expected $USERS stored, got $total" >&2; exit 1; }

if [ "$CLIENT" = cx-client ]; then
  CXC=("$BIN/cx-client" --realm "$REALM" --peer-port "$DIA_PORT" --identity "scscf.$REALM"
       --timeout 5000 --connect-timeout 5000 --users "$USERS" --pad 5
       --bench "$REQS" --inflight "$INFLIGHT")
  SAT=REGISTRATION
else
  CXC=("$BIN/cx-load" --realm "$REALM" --port "$DIA_PORT" --identity "scscf.$REALM"
       --timeout 5000 --users "$USERS" --pad 5 --requests "$REQS" --inflight "$INFLIGHT")
  SAT=1 # REGISTRATION
fi
hss_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$HSS_PID/stat"; }

# run_phase NAME ARGS...: one cx-client --bench run, with the CPU split
run_phase() {
  local name=$1 t0 t1 h0 h1 ct
  shift
  sync # the previous phase's writeback is not this phase's cost
  echo "# $name: ${CXC[*]} $*"
  python3 "$BENCH_LIB/procsnap.py" "$WORK/$name.p0.json" $$
  h0=$(hss_ticks)
  t0=$(date +%s.%N)
  if [ "$PERF" = 1 ]; then
    mkdir -p "$PERF_DIR"
    ( sleep 1; exec perf record -q ${PERF_CG:--g} -e cpu-clock -p "$HSS_PID" -o "$PERF_DIR/$name.data" \
        -- sleep "$PERF_SECS" ) >/dev/null 2>&1 &
    PERF_PID=$!
  fi
  ct=$( { TIMEFORMAT='%U %S'; time "${CXC[@]}" "$@" > "$WORK/$name.out"; } 2>&1 | tail -1)
  t1=$(date +%s.%N)
  h1=$(hss_ticks)
  python3 "$BENCH_LIB/procsnap.py" "$WORK/$name.p1.json" $$
  sed "s/^/$name /" "$WORK/$name.out"
  if [ -n "$PERF_PID" ]; then
    wait "$PERF_PID"
    PERF_PID=
    perf report -i "$PERF_DIR/$name.data" --no-children --sort dso,sym --stdio 2>/dev/null \
      | grep -v '^#' | grep '%' | head -40 > "$PERF_DIR/$name.top.txt"
    echo "$name perf: $PERF_DIR/$name.data (top symbols: $PERF_DIR/$name.top.txt)"
  fi
  cp "$WORK/$name.p0.json" "$WORK/procs0.json"
  cp "$WORK/$name.p1.json" "$WORK/procs1.json"
  python3 - "$BENCH_LIB" "$WORK" "$CLK_TCK" "$t0" "$t1" "$h0" "$h1" "$ct" "$name" "$CLIENT" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import stepstats
tck, t0, t1 = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
wall = t1 - t0
hss = (int(sys.argv[7]) - int(sys.argv[6])) / tck / wall * 100
u, s = (float(x) for x in sys.argv[8].split())
pct, top = stepstats.other_cpu(sys.argv[2], tck, wall)
print("%s cpu seconds=%.2f ims-hss=%.0f%% %s=%.0f%% (of one core; 2 cores = 200%%) other=%s%% %s"
      % (sys.argv[9], wall, hss, sys.argv[10], (u + s) / wall * 100, pct, top))
PY
}

if [ "$CLIENT" = cx-client ]; then
  IDS=(--impi "0010100000{n}@$REALM" --impu "sip:0010100000{n}@$REALM")
else # cx-load: the command comes after the options
  IDS=(--impi "0010100000{n}@$REALM" --impu "sip:0010100000{n}@$REALM"
       --server-name "sip:scscf.$REALM:6060")
fi
if [ "$CLIENT" = cx-client ]; then
  run_phase mar mar "${IDS[@]}" --server-name "sip:scscf.$REALM:6060"
  run_phase sar sar "${IDS[@]}" --server-name "sip:scscf.$REALM:6060" --sat $SAT
else
  run_phase mar "${IDS[@]}" mar
  run_phase sar "${IDS[@]}" sar --sat $SAT
fi
# memory of the HSS after the load, then the store's own count at shutdown:
# cache hits/misses, Cx writes and the group commits they took (docs/hss.md)
echo "ims-hss memory: $(grep -E '^Vm(RSS|HWM)' "/proc/$HSS_PID/status" | tr -s ' \t' ' ' | tr '\n' ' ')"
kill "$HSS_PID" 2>/dev/null && wait "$HSS_PID" 2>/dev/null
HSS_PID=
grep -o 'hss.store cache .*' "$WORK/hss.log" | sed 's/^/store: /'
