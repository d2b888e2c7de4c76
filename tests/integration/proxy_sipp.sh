#!/usr/bin/env bash
# SIPp UAC -> sip-proxy-test -> SIPp UAS on 127.0.0.1 (ports 15060-15099):
#   1. 200 INVITE/100/180/200/ACK/BYE/200 calls over UDP (Record-Route on)
#   2. 200 calls over TCP
#   3. 5 calls to a UAS that never answers -> 408 from the proxy (timer B,
#      T1 = 100 ms so B = 6.4 s)
#   4. 5 calls to a port nobody listens on -> ICMP unreachable -> the branch
#      gets 503, the UAC 500 (RFC 3261 §16.7 step 6), well before timer B
# Every wait is bounded; only the PIDs started here are stopped.
set -u
BIN=${BIN:?} SRC=${SRC:?} WORK=${WORK:?}
SC=$SRC/tests/integration/sipp
mkdir -p "$WORK"
cd "$WORK" || exit 1
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in proxy.log uas_*.log uac_*.log; do [ -f "$f" ] && { echo "== $f"; tail -20 "$f"; }; done; exit 1; }

command -v sipp >/dev/null || fail "sipp not installed"
[ -x "$BIN/sip-proxy-test" ] || fail "no $BIN/sip-proxy-test"

"$BIN/sip-proxy-test" -l 127.0.0.1:15060:udp -l 127.0.0.1:15060:tcp -w 2 --rr --t1 100 \
	>proxy.out 2>proxy.log &
PROXY=$!
PIDS+=("$PROXY")
for _ in $(seq 50); do grep -q started proxy.log 2>/dev/null && break; sleep 0.1; done
grep -q started proxy.log || fail "proxy did not start"

# $1 transport (u1|t1)  $2 uas port  $3 uac port  $4 calls
run_calls() {
	local t=$1 uas=$2 uac=$3 n=$4
	sipp -sn uas -i 127.0.0.1 -p "$uas" -t "$t" -nostdin -timeout 90s \
		-trace_err -error_file "uas_$t.err" >"uas_$t.log" 2>&1 &
	local uas_pid=$!
	PIDS+=("$uas_pid")
	sleep 0.5
	timeout 100 sipp -sf "$SC/proxy_uac.xml" 127.0.0.1:15060 -key uas_port "$uas" -s bob \
		-i 127.0.0.1 -p "$uac" -t "$t" -m "$n" -r 50 -l 40 -nostdin \
		-timeout 60s -timeout_error -trace_err -error_file "uac_$t.err" \
		-trace_stat -stf "uac_$t.csv" >"uac_$t.log" 2>&1
	local rc=$?
	kill "$uas_pid" 2>/dev/null
	wait "$uas_pid" 2>/dev/null
	[ $rc -eq 0 ] || fail "$t: SIPp UAC exit $rc"
	# the last line of the stats file has the cumulative counters
	local ok
	ok=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="SuccessfulCall(C)") c=i} END{print $c}' "uac_$t.csv")
	[ "$ok" = "$n" ] || fail "$t: $ok of $n calls succeeded"
	echo "ok: $n calls over $t"
}

run_calls u1 15070 15080 200
run_calls t1 15072 15082 200

# a UAS that reads and never answers: the proxy's INVITE branch times out
timeout 60 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 15099))
while True:
    s.recv(65535)
' >silent.log 2>&1 &
PIDS+=("$!")
sleep 0.3
timeout 60 sipp -sf "$SC/proxy_uac_408.xml" 127.0.0.1:15060 -key uas_port 15099 -s nobody \
	-i 127.0.0.1 -p 15084 -t u1 -m 5 -r 5 -nostdin -timeout 40s -timeout_error \
	-trace_err -error_file uac_408.err -trace_stat -stf uac_408.csv >uac_408.log 2>&1
rc=$?
[ $rc -eq 0 ] || fail "408 scenario: SIPp exit $rc"
echo "ok: 5 calls answered 408 by the proxy"

# nobody at all on 15098: ICMP port unreachable -> 503 on the branch -> 500
start=$(date +%s)
timeout 30 sipp -sf "$SC/proxy_uac_500.xml" 127.0.0.1:15060 -key uas_port 15098 -s nobody \
	-i 127.0.0.1 -p 15086 -t u1 -m 5 -r 5 -nostdin -timeout 20s -timeout_error \
	-trace_err -error_file uac_500.err >uac_500.log 2>&1
rc=$?
[ $rc -eq 0 ] || fail "unreachable scenario: SIPp exit $rc"
[ $(( $(date +%s) - start )) -lt 6 ] || fail "unreachable next hop took timer B, not ICMP"
echo "ok: 5 calls to an unreachable next hop answered 500 at once"

kill -TERM "$PROXY"
for _ in $(seq 100); do kill -0 "$PROXY" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PROXY" 2>/dev/null && fail "proxy did not stop on SIGTERM"
wait "$PROXY"
prc=$?
cat proxy.out
[ $prc -eq 0 ] || fail "proxy exit status $prc (sanitizer report in proxy.log?)"
echo "PASS"
