#!/usr/bin/env bash
# CPU of each sip-proxy-test thread under ONE SIPp UAC peer (one 4-tuple):
# shows whether both workers carry the load (issue 3).
#   sipp UAC :21081 -> sip-proxy-test :21061 (2 workers) -> sipp UAS :21071
#   tests/bench/proxy_threads.sh [BUILD_DIR] [RATE] [SECS]   (build, 2000, 20)
# Run it under the bench lock: flock /tmp/ims-bench.lock tests/bench/proxy_threads.sh ...
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
RATE=${2:-2000}
SECS=${3:-20}
B=$SRC/tests/bench
OUT=${OUT:-$BUILD/bench-results/proxy-threads-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT" && cd "$OUT" || exit 1
[ -x "$BUILD/bin/sip-proxy-test" ] || { echo "no $BUILD/bin/sip-proxy-test" >&2; exit 1; }
"$BUILD/bin/sip-proxy-test" -l 127.0.0.1:21061:udp -w 2 --rr --log warn >proxy.out 2>proxy.log &
PX=$!
timeout 120 sipp -sf "$B/sipp/uas_call.xml" -i 127.0.0.1 -p 21071 -nostdin -buff_size 4194304 \
	-timeout 100 >uas.out 2>&1 &
UAS=$!
trap 'kill $PX $UAS 2>/dev/null' EXIT
sleep 1
snap() { for t in /proc/$PX/task/*; do echo "$(basename "$t") $(awk '{print $14+$15}' "$t/stat")"; done; }
snap >before.txt
timeout $((SECS + 60)) sipp 127.0.0.1:21061 -sf "$B/sipp/uac_call.xml" -i 127.0.0.1 -p 21081 -s uas \
	-key ruri_host 127.0.0.1:21071 -default_behaviors all,-abortunexp -r "$RATE" \
	-m $((RATE * SECS)) -d 1000 -nostdin -buff_size 4194304 >uac.out 2>&1
echo "uac sipp rc=$? (0 = every call succeeded)"
snap >after.txt
grep VmRSS "/proc/$PX/status"
# the main thread only waits for a signal; the others are the workers
join before.txt after.txt | awk '{printf "thread %s: %.1f s CPU\n", $1, ($3 - $2) / 100}'
