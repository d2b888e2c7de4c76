#!/usr/bin/env bash
# REGISTER load straight at ims-scscf with ims-hss behind it, SIP Digest MD5
# or IMS AKA: every registration is REGISTER -> MAR -> 401, REGISTER -> SAR -> 200.
#   sipp :21180 -> ims-scscf :21100 (Diameter) -> ims-hss :21210 (REST :21200)
#   tests/bench/scscf_register.sh [BUILD_DIR]      (default: build)
# Ladders (names in steps.jsonl):
#   scscf_reg       initial registrations (users cycle: after the first pass a
#                   REGISTER renews an existing binding, still challenged)
#   scscf_rereg     one initial registration then 3 refreshes on the same
#                   Call-ID with the nonce reused (nc 2, 3, 4): rtd 2 = refresh
#   scscf_reg_aka   initial registrations with IMS AKA (AKAv1-MD5), each
#                   subscriber with its own K; a registration SIPp answers
#                   wrongly (it cuts RES at a 0x00 byte, ~3 %) gets 403 and
#                   starts again with a fresh challenge (sipp/reg_aka.xml);
#                   the 403s of each step are printed and kept in
#                   <step>/aka_403.txt
#   mem             (not a ladder) memory per registered contact: registers
#                   MEM_COUNTS contacts (distinct subscribers, AKA) at
#                   MEM_RATE/s, waits MEM_SETTLE_S for the transactions and
#                   challenges to go, then reads the S-CSCF's smaps_rollup
#                   after a malloc_trim, its live heap (malloc_stats; both
#                   through gdb, `install-deps.sh --bench`) and the SQLite
#                   file size; OUT/mem/mem.txt
# Knobs: USERS (10000; mem raises it to the last of MEM_COUNTS), REG_RATES,
#   REREG_RATES, AKA_RATES, STEP_SECS, WORKERS (2), SCSCF_DB (file in OUT;
#   ":memory:" keeps nothing), LADDERS ("reg rereg"; also "aka", "mem"),
#   MEM_COUNTS ("10000 50000"), MEM_RATE (1000), MEM_SETTLE_S (65),
#   RUN_BUDGET_S (900), OUT.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/bin
BENCH=$SRC/tests/bench
OUT=${OUT:-$BUILD/bench-results/scscf-$(date +%Y%m%d-%H%M%S)}
REALM=ims.mnc001.mcc001.3gppnetwork.org
SIP_PORT=${SIP_PORT:-21100} LOAD_PORT=${LOAD_PORT:-21180} REST_PORT=${REST_PORT:-21200}
DIA_PORT=${DIA_PORT:-21210} METRICS_PORT=${METRICS_PORT:-21220}
USERS=${USERS:-10000} WORKERS=${WORKERS:-2}
REG_RATES=${REG_RATES:-"250 500 1000 1500 2000 3000 4000 5000"}
REREG_RATES=${REREG_RATES:-"100 250 500 750 1000 1500"}
AKA_RATES=${AKA_RATES:-"250 500 1000 1500 2000 2500 3000"}
LADDERS=${LADDERS:-"reg rereg"}
MEM_COUNTS=${MEM_COUNTS:-"10000 50000"} MEM_RATE=${MEM_RATE:-1000} MEM_SETTLE_S=${MEM_SETTLE_S:-65}
case " $LADDERS " in *" mem "*)
  for c in $MEM_COUNTS; do [ "$c" -gt "$USERS" ] && USERS=$c; done ;;
esac
RUN_BUDGET_S=${RUN_BUDGET_S:-900}
# server transactions stay 64*T1 = 32 s after their final response (timer J)
PAUSE_S=${PAUSE_S:-35}
HOLD_MS=0
TARGET=127.0.0.1:$SIP_PORT
. "$BENCH/lib/ladder.sh"
bench_check_env
SCSCF_DB=${SCSCF_DB:-$OUT/scscf.db}
for b in ims-hss ims-scscf; do [ -x "$BIN/$b" ] || bench_die "no $BIN/$b"; done

HSS_PID='' SCSCF_PID=''
cleanup() {
  local p
  for p in $SCSCF_PID $HSS_PID; do kill "$p" 2>/dev/null; done
  for _ in $(seq 30); do kill -0 $SCSCF_PID $HSS_PID 2>/dev/null || break; sleep 0.1; done
  for p in $SCSCF_PID $HSS_PID; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "results: $OUT"
echo "other load before start: $(bench_other_load)" | tee "$OUT/other_before.txt"
cat > "$OUT/hss.yaml" <<YAML
log_level: warn
realm: $REALM
db: $OUT/hss.db
rest: {addr: 127.0.0.1, port: $REST_PORT}
diameter:
  listen: {addr: 127.0.0.1, port: $DIA_PORT}
YAML
cat > "$OUT/scscf.yaml" <<YAML
log_level: warn
realm: $REALM
own_uri: sip:scscf.$REALM:$SIP_PORT
sip:
  listen:
    - {addr: 127.0.0.1, port: $SIP_PORT, proto: udp}
  workers: $WORKERS
diameter: {hss_addr: 127.0.0.1, hss_port: $DIA_PORT, timeout_ms: 3000}
db: {path: "$SCSCF_DB"}
registrar: {max_expires: 7200}
http: {port: $METRICS_PORT}
YAML
( cd "$OUT" && exec "$BIN/ims-hss" -c hss.yaml > hss.log 2>&1 ) &
HSS_PID=$!
for _ in $(seq 100); do curl -s -m 1 -o /dev/null "http://127.0.0.1:$REST_PORT/healthz" && break; sleep 0.1; done
kill -0 "$HSS_PID" 2>/dev/null || bench_die "ims-hss did not start: $(tail -3 "$OUT/hss.log")"
python3 "$BENCH/lib/provision.py" "127.0.0.1:$REST_PORT" "$REALM" 1010100000001 "$USERS" secret \
  "$OUT/users.csv" || bench_die "provisioning failed"
( cd "$OUT" && exec "$BIN/ims-scscf" -c scscf.yaml > scscf.log 2>&1 ) &
SCSCF_PID=$!
for _ in $(seq 150); do
  [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/healthz")" = 200 ] && break
  kill -0 "$SCSCF_PID" 2>/dev/null || break
  sleep 0.1
done
[ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/healthz")" = 200 ] ||
  bench_die "ims-scscf not ready: $(tail -3 "$OUT/scscf.log")"
SUT_PIDS="$SCSCF_PID $HSS_PID"

# 403s (wrong AKA answers, retried by the scenario) of each step of a ladder,
# from sipp -trace_counts: the last line holds the totals per message.
aka_403() {
  local d f
  for d in "$OUT/$1"/r*; do
    f=$(ls "$d"/*_counts.csv 2>/dev/null | head -1)
    [ -n "$f" ] || continue
    python3 - "$f" "$d" <<'PY'
import os, sys
rows = [l.rstrip("\n").split(";") for l in open(sys.argv[1]) if l.strip()]
head, last = rows[0], rows[-1]
n403 = sum(int(v) for h, v in zip(head, last) if h.endswith("_403_Recv") and v.isdigit())
ok = sum(int(v) for h, v in zip(head, last) if h.endswith("_200_Recv") and v.isdigit())
line = "%s: %d wrong AKA answers (403, retried) for %d registrations = %.2f %%" % (
    os.path.basename(sys.argv[2]), n403, ok, 100.0 * n403 / ok if ok else 0.0)
open(os.path.join(sys.argv[2], "aka_403.txt"), "w").write(line + "\n")
print("  " + line)
PY
  done
}

# "Rss=.. Pss=.. Anonymous=.. heap_inuse=.." of the S-CSCF, in kB: gdb has
# it return its free heap pages to the kernel (malloc_trim) and print glibc's
# malloc_stats to its log, whose "in use bytes" total is the live heap.
mem_of() {
  local pid=$1 log=$OUT/scscf.log off inuse=-1
  off=$(stat -c %s "$log")
  if command -v gdb >/dev/null; then
    gdb -p "$pid" -batch -nx -ex 'call (int) malloc_trim(0)' -ex 'call (void) malloc_stats()' \
      >/dev/null 2>&1
    sleep 0.5
    inuse=$(tail -c +$((off + 1)) "$log" | awk '/^Total/ { t = 1 } t && /in use bytes/ { print int($NF / 1024); exit }')
  fi
  awk '/^(Rss|Pss|Anonymous):/ { sub(":", "", $1); printf "%s=%s ", $1, $2 }' "/proc/$pid/smaps_rollup"
  printf 'heap_inuse=%s ' "${inuse:--1}"
}

# sipp_regs CSV COUNT RATE TAG: AKA registrations (expires 7200) of the first
# COUNT users of CSV, in $OUT/mem; prints "<ok> ok <failed> failed"
sipp_regs() {
  local csv=$1 n=$2 rate=$3 tag=$4
  ( cd "$OUT/mem" && timeout -k 5 $((n / rate + 120)) sipp "$TARGET" -sf "$BENCH/sipp/reg_aka.xml" \
      -inf "$csv" -i 127.0.0.1 -p "$LOAD_PORT" -key expires 7200 -default_behaviors all,-bye \
      -r "$rate" -m "$n" -l $((rate * 5)) -nostdin -buff_size 4194304 -timeout $((n / rate + 100)) \
      -recv_timeout 10000 -trace_stat -stf "stat-$tag.csv" -fd 5 > "sipp-$tag.out" 2>&1 )
  awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "SuccessfulCall(C)") s = i;
                       else if ($i == "FailedCall(C)") e = i }
             END { print $s " ok " $e " failed" }' "$OUT/mem/stat-$tag.csv"
}

# Memory per registered contact: register the users of the injection file in
# slices (MEM_COUNTS are cumulative totals) and after each slice wait until
# its transactions (32 s) and challenges (2 * nonce ttl = 60 s) are gone,
# refresh one registration so the challenge table purges, then read the
# S-CSCF's memory (mem_of) and the SQLite file (after a WAL checkpoint).
mem_phase() {
  local prev=0 c n d f line
  d="$OUT/mem"; mkdir -p "$d"
  db_kb() {
    python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA wal_checkpoint(TRUNCATE)")' \
      "$SCSCF_DB" 2>/dev/null
    echo $(( $(cat "$SCSCF_DB" "$SCSCF_DB-wal" 2>/dev/null | wc -c) / 1024 ))
  }
  line="registered=0 $(mem_of "$SCSCF_PID")db_kB=$(db_kb)"
  echo "  mem: $line" | tee "$d/mem.txt"
  echo "$line" > "$d/mem.raw"
  for c in $MEM_COUNTS; do
    n=$((c - prev))
    { echo SEQUENTIAL; sed -n "$((prev + 2)),$((c + 1))p" "$OUT/users.csv"; } > "$d/users-$c.csv"
    f=$(sipp_regs "$d/users-$c.csv" "$n" "$MEM_RATE" "$c")
    sleep "$MEM_SETTLE_S"
    sipp_regs "$d/users-$c.csv" 1 1 "$c-purge" >/dev/null
    line="registered=$c $(mem_of "$SCSCF_PID")db_kB=$(db_kb)"
    echo "  mem: $line (sipp: $f)" | tee -a "$d/mem.txt"
    echo "$line" >> "$d/mem.raw"
    prev=$c
  done
  python3 - "$d/mem.raw" <<'PY' | tee -a "$d/mem.txt"
import sys
rows = [dict(kv.split("=") for kv in l.split()) for l in open(sys.argv[1]) if l.strip()]
for a, b in zip(rows, rows[1:]):
    n = int(b["registered"]) - int(a["registered"])
    per = {k: (int(b[k]) - int(a[k])) * 1024.0 / n
           for k in ("Rss", "Pss", "Anonymous", "heap_inuse", "db_kB")}
    print("  mem: contacts %s -> %s, per contact: %.0f B RSS, %.0f B PSS, %.0f B anonymous,"
          " %.0f B heap in use, %.0f B SQLite" % (a["registered"], b["registered"], per["Rss"],
          per["Pss"], per["Anonymous"], per["heap_inuse"], per["db_kB"]))
PY
}

for l in $LADDERS; do
  case $l in
    reg) ladder scscf_reg "$REG_RATES" -sf "$BENCH/sipp/reg_md5.xml" -inf "$OUT/users.csv" \
           -i 127.0.0.1 -p "$LOAD_PORT" -key expires 3600 -default_behaviors all,-bye ;;
    aka) ladder scscf_reg_aka "$AKA_RATES" -sf "$BENCH/sipp/reg_aka.xml" -inf "$OUT/users.csv" \
           -i 127.0.0.1 -p "$LOAD_PORT" -key expires 3600 -default_behaviors all,-bye -trace_counts
         aka_403 scscf_reg_aka ;;
    mem) mem_phase ;;
    rereg) ladder scscf_rereg "$REREG_RATES" -sf "$BENCH/sipp/rereg_md5.xml" -inf "$OUT/users.csv" \
           -i 127.0.0.1 -p "$LOAD_PORT" -key expires 3600 -default_behaviors all,-bye ;;
    *) bench_die "unknown ladder $l" ;;
  esac
done
curl -s -m 5 "http://127.0.0.1:$METRICS_PORT/metrics" > "$OUT/scscf_metrics.txt"
[ -s "$OUT/steps.jsonl" ] && python3 "$BENCH/lib/summarize.py" "$OUT" | tee "$OUT/summary.txt"
