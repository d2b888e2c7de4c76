# tests/bench/lib/ladder.sh - bounded SIPp load ladder, sourced by the bench
# scripts in tests/bench/. Not run on its own.
#
# The caller sets, before sourcing or before calling ladder:
#   OUT        results directory (created)
#   TARGET     host:port the load goes to (loopback only)
#   SUT_PIDS   pids of the daemons under test (their CPU is measured)
#   UAS_PID    optional pid of a UAS sipp (its CPU is reported apart)
# and calls:
#   ladder NAME "RATE RATE ..." SIPP_ARGS...
# which runs `sipp TARGET SIPP_ARGS -r RATE -m RATE*STEP_SECS ...` at each
# rate for STEP_SECS seconds, retries a failing rate once, stops at the first
# rate that fails twice and then halves the gap to the last pass REFINE times.
# Every step appends one JSON line to $OUT/steps.jsonl (lib/stepstats.py).
#
# Knobs: STEP_SECS (10), REFINE (2), RETRY_FAIL (1), PAUSE_S (3),
# RUN_BUDGET_S (600: no step starts past it), HOLD_MS (call pause, 1000),
# MAX_FAIL_PCT (0.01), MAX_RETRANS_PCT (1), MIN_RATE_PCT (95).
# Everything is bounded: sipp gets -m, -timeout, -recv_timeout and an outer
# `timeout -k`.

BENCH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the source tree
STEP_SECS=${STEP_SECS:-10}
REFINE=${REFINE:-2}
RETRY_FAIL=${RETRY_FAIL:-1}
PAUSE_S=${PAUSE_S:-3}
RUN_BUDGET_S=${RUN_BUDGET_S:-600}
HOLD_MS=${HOLD_MS:-1000}
export MAX_FAIL_PCT=${MAX_FAIL_PCT:-0.01} MAX_RETRANS_PCT=${MAX_RETRANS_PCT:-1} MIN_RATE_PCT=${MIN_RATE_PCT:-95}
BENCH_T0=$(date +%s)
CLK_TCK=$(getconf CLK_TCK)

bench_die() { echo "bench: $*" >&2; exit 1; }

bench_check_env() {
  local b h=${TARGET%:*}
  case "$h" in 127.*|localhost) ;; *) bench_die "TARGET must be on loopback, got $TARGET";; esac
  for b in sipp python3 timeout /usr/bin/time; do command -v "$b" >/dev/null || bench_die "missing $b"; done
  mkdir -p "$OUT" || bench_die "cannot create $OUT"
  # sipp needs more open files than concurrent calls
  ulimit -n 65536 2>/dev/null || true
}

# utime+stime ticks of the given processes (all their threads)
bench_ticks() {
  local t=0 p v
  for p in "$@"; do
    v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) && t=$((t + ${v:-0}))
  done
  echo "$t"
}

# "comm=ticks,comm=ticks" for the given processes
bench_ticks_each() {
  local p out=
  for p in "$@"; do
    out+=$(awk '{ c = $0; sub(/^[^(]*\(/, "", c); sub(/\).*$/, "", c); sub(/^.*\) /, ""); printf "%s=%d,", c, $12 + $13 }' \
      "/proc/$p/stat" 2>/dev/null)
  done
  echo "${out%,}"
}

bench_rss_mb() {
  local t=0 p v
  for p in "$@"; do
    v=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null) && t=$((t + ${v:-0}))
  done
  awk -v k="$t" 'BEGIN { printf "%.1f", k / 1024 }'
}

# CPU used by processes outside this bench over 3 s, printed as "PCT (top)"
bench_other_load() {
  local d
  d=$(mktemp -d)
  python3 "$BENCH_LIB/procsnap.py" "$d/p0.json" $$
  sleep 3
  python3 "$BENCH_LIB/procsnap.py" "$d/p1.json" $$
  printf 'WALL_S=3\nCLK_TCK=%s\n' "$CLK_TCK" > "$d/meta.env"
  cp "$d/p0.json" "$d/procs0.json"; cp "$d/p1.json" "$d/procs1.json"
  python3 -c '
import json, sys
sys.path.insert(0, sys.argv[1])
import stepstats
pct, top = stepstats.other_cpu(sys.argv[2], float(sys.argv[3]), 3.0)
print("%s%% of a core (%s)" % (pct, top))' "$BENCH_LIB" "$d" "$CLK_TCK"
  rm -rf "$d"
}

# bench_start_uas PORT: a SIPp UAS (sipp/uas_call.xml) on 127.0.0.1:PORT for
# the rest of the run, output in $OUT; sets UAS_WRAP (its timeout wrapper,
# for the caller's cleanup) and UAS_PID (its CPU is reported apart)
bench_start_uas() {
  local tmo=$(( RUN_BUDGET_S + 120 ))
  ( cd "$OUT" && exec timeout -k 5 "$tmo" sipp -sf "$BENCH_LIB/../sipp/uas_call.xml" -i 127.0.0.1 \
      -p "$1" -nostdin -buff_size 4194304 -timeout "$tmo" -trace_err \
      -error_file uas_errors.log > uas.out 2>&1 ) &
  UAS_WRAP=$!
  sleep 0.5
  kill -0 "$UAS_WRAP" 2>/dev/null || bench_die "UAS sipp did not start"
  UAS_PID=$(pgrep -P "$UAS_WRAP" sipp || echo "$UAS_WRAP")
}

bench_budget_ok() { [ $(( $(date +%s) - BENCH_T0 + STEP_SECS * 3 + 20 )) -lt "$RUN_BUDGET_S" ]; }

# bench_step NAME RATE SIPP_ARGS... ; returns 0 when the step passed
bench_step() {
  local name=$1 rate=$2; shift 2
  local d="$OUT/$name/r$rate" n tmo lim rc u s e t0 t1 k0 k1 uk0 uk1 j
  [ -d "$d" ] && d="$d.$(date +%s)"
  mkdir -p "$d"
  n=$(( rate * STEP_SECS ))
  tmo=$(( STEP_SECS * 3 + HOLD_MS / 1000 + 30 ))
  lim=$(( rate * (HOLD_MS / 1000 + 6) + 100 ))
  printf 'NAME=%s\nRATE=%s\nCALLS=%s\nCLK_TCK=%s\n' "$name" "$rate" "$n" "$CLK_TCK" > "$d/meta.env"
  python3 "$BENCH_LIB/procsnap.py" "$d/procs0.json" $$ $SUT_PIDS
  t0=$(date +%s.%N); k0=$(bench_ticks $SUT_PIDS); uk0=$(bench_ticks ${UAS_PID:-}); e0=$(bench_ticks_each $SUT_PIDS)
  ( cd "$d" && /usr/bin/time -f "%U %S %e" -o gen_time timeout -k 5 "$tmo" sipp "$TARGET" "$@" \
      -r "$rate" -rp 1000 -m "$n" -l "$lim" -d "$HOLD_MS" -nostdin -buff_size 4194304 \
      -timeout $(( tmo - 5 )) -recv_timeout 10000 -trace_stat -stf load_stat.csv -fd 1 \
      -trace_rtt -rtt_freq "$rate" -trace_err -error_file load_errors.log > load.out 2>&1 )
  rc=$?
  k1=$(bench_ticks $SUT_PIDS); uk1=$(bench_ticks ${UAS_PID:-}); e1=$(bench_ticks_each $SUT_PIDS); t1=$(date +%s.%N)
  python3 "$BENCH_LIB/procsnap.py" "$d/procs1.json" $$ $SUT_PIDS
  read -r u s e < <(tail -1 "$d/gen_time" 2>/dev/null) || true
  {
    echo "SUT_TICKS0=$k0"; echo "SUT_TICKS1=$k1"; echo "SUT_EACH0=$e0"; echo "SUT_EACH1=$e1"
    [ -n "${UAS_PID:-}" ] && { echo "UAS_TICKS0=$uk0"; echo "UAS_TICKS1=$uk1"; }
    echo "WALL_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
    echo "GEN_UTIME=${u:-0}"; echo "GEN_STIME=${s:-0}"; echo "GEN_WALL_S=${e:-0}"; echo "LOAD_RC=$rc"
    echo "SUT_RSS_MB=$(bench_rss_mb $SUT_PIDS)"
  } >> "$d/meta.env"
  j=$(python3 "$BENCH_LIB/stepstats.py" "$d")
  echo "$j" >> "$OUT/steps.jsonl"
  # keep the results small: the rtt files are only needed for the figures above
  gzip -9 -f "$d"/*_rtt.csv 2>/dev/null
  [ "$(stat -c %s "$d/load_errors.log" 2>/dev/null || echo 0)" -gt 1000000 ] &&
    { head -c 1000000 "$d/load_errors.log" > "$d/e.tmp"; mv "$d/e.tmp" "$d/load_errors.log"; }
  echo "$j" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
print("  %-14s rate %6d ok %7d fail %.3f%% retr %.2f%% achieved %s rtd1 p50/p99 %s/%s ms  cpu sut %s%% [%s] (%s us/call) gen %s%% uas %s%%  other %s%% %s  rss %sMB  %s" % (
  r["name"], r["target_rate"], r["ok"], r["fail_pct"], r["retrans_pct"], r["achieved_rate"],
  r.get("rtd1_p50_ms"), r.get("rtd1_p99_ms"), r["sut_cpu_pct"], r.get("sut_split"), r.get("sut_us_per_call"), r["gen_cpu_pct"],
  r["uas_cpu_pct"], r["other_cpu_pct"], r["other_top"], r["sut_rss_mb"],
  "PASS" if r["pass"] else "FAIL(" + r["why"] + ")"))'
  sleep "$PAUSE_S"
  echo "$j" | grep -q '"pass": true'
}

# ladder NAME "RATES" SIPP_ARGS... ; sets LADDER_BEST and LADDER_FAIL
ladder() {
  local name=$1 rates=$2 rate lo hi mid; shift 2
  LADDER_BEST=; LADDER_FAIL=
  echo "== $name (elapsed $(( $(date +%s) - BENCH_T0 )) s)"
  for rate in $rates; do
    bench_budget_ok || { echo "  run budget reached"; break; }
    if bench_step "$name" "$rate" "$@"; then LADDER_BEST=$rate; continue; fi
    if [ "$RETRY_FAIL" = 1 ] && bench_budget_ok && bench_step "$name" "$rate" "$@"; then
      LADDER_BEST=$rate; continue
    fi
    LADDER_FAIL=$rate; break
  done
  if [ -n "$LADDER_BEST" ] && [ -n "$LADDER_FAIL" ]; then
    lo=$LADDER_BEST; hi=$LADDER_FAIL
    for _ in $(seq 1 "$REFINE"); do
      mid=$(( (lo + hi) / 2 / 25 * 25 )); [ "$mid" -le "$lo" ] && break
      bench_budget_ok || break
      if bench_step "$name" "$mid" "$@"; then lo=$mid; LADDER_BEST=$mid; else hi=$mid; LADDER_FAIL=$mid; fi
    done
  fi
  echo "  $name: max_rate ${LADDER_BEST:-none} first_fail ${LADDER_FAIL:-none}"
}
