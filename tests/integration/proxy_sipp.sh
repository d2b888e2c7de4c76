#!/usr/bin/env bash
# SIPp UAC -> sip-proxy-test -> SIPp UAS on 127.0.0.1 (ports 15060-15099):
#   1. 200 INVITE/100/180/200/ACK/BYE/200 calls over UDP (Record-Route on)
#   2. 200 calls over TCP
#   3. 5 calls to a UAS that never answers -> 408 from the proxy (timer B,
#      T1 = 100 ms so B = 6.4 s)
#   4. 5 calls to a port nobody listens on -> ICMP unreachable -> the branch
#      gets 503, the UAC 500 (RFC 3261 §16.7 step 6), well before timer B
#   5. REGISTER over UDP and TCP: the registrar (SIPp UAS) sees the proxy's
#      Via on top of the UAC's and Max-Forwards 69; the 200 reaches the UAC
#      with its own Via only (RFC 3261 §16.6 steps 3 and 8, §16.7 step 3)
#   6. CANCEL of a ringing INVITE over UDP and TCP: 180, CANCEL -> 200 for
#      the CANCEL, the UAS gets the proxy's CANCEL (the INVITE's branch) and
#      answers 487, the UAC gets the 487 and ACKs it, the proxy ACKs the
#      UAS (RFC 3261 §9, §16.10, §17.1.1.3)
#   7. 10% packet loss at the UAC (SIPp -lost 10, in both directions): 100
#      calls at 20/s all complete by retransmission (the UAC's timers and
#      the proxy's transactions), none fails
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
fail() { echo "FAIL: $*"; for f in proxy.log uas_*.log uac_*.log uas_*.err uac_*.err; do [ -f "$f" ] && { echo "== $f"; tail -20 "$f"; }; done; exit 1; }

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
# python can take over a second to start on a loaded machine: an INVITE
# sent before it binds gets ICMP port unreachable (503 -> 500, not 408)
for _ in $(seq 100); do ss -Huln 'sport = :15099' | grep -q . && break; sleep 0.1; done
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

# $1 name  $2 transport  $3 uas port  $4 uac port  $5 calls  $6 rate
# $7 UAS scenario ("uas" = SIPp's built-in)  $8 UAC scenario  [UAC args]
# Both sides must succeed: the UAS runs -m calls and exits 0 by itself,
# the UAC's statistics show every call successful and none failed.
run_pair() {
	local name=$1 t=$2 uas=$3 uac=$4 n=$5 r=$6 uas_sc=$7 uac_sc=$8
	shift 8
	local uas_args=(-sn uas)
	[ "$uas_sc" = uas ] || uas_args=(-sf "$SC/$uas_sc.xml")
	sipp "${uas_args[@]}" -i 127.0.0.1 -p "$uas" -t "$t" -m "$n" -nostdin -timeout 40s \
		-timeout_error -trace_err -error_file "uas_$name.err" >"uas_$name.log" 2>&1 &
	local uas_pid=$!
	PIDS+=("$uas_pid")
	sleep 0.5
	timeout 50 sipp -sf "$SC/$uac_sc.xml" 127.0.0.1:15060 -key uas_port "$uas" -s bob \
		-i 127.0.0.1 -p "$uac" -t "$t" -m "$n" -r "$r" -l 40 -nostdin \
		-timeout 40s -timeout_error -trace_err -error_file "uac_$name.err" \
		-trace_stat -stf "uac_$name.csv" "$@" >"uac_$name.log" 2>&1
	local rc=$?
	[ $rc -eq 0 ] || fail "$name: SIPp UAC exit $rc"
	for _ in $(seq 100); do kill -0 "$uas_pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$uas_pid" 2>/dev/null && fail "$name: the UAS did not finish its $n calls"
	wait "$uas_pid"
	rc=$?
	[ $rc -eq 0 ] || fail "$name: SIPp UAS exit $rc (a check failed, see uas_$name.err)"
	# the last line of the stats file has the cumulative counters
	local ok bad
	ok=$(stat_col "uac_$name.csv" 'SuccessfulCall(C)')
	bad=$(stat_col "uac_$name.csv" 'FailedCall(C)')
	[ "$ok" = "$n" ] && [ "$bad" = 0 ] || fail "$name: $ok of $n calls succeeded, $bad failed"
}
stat_col() { # $1 csv  $2 column name -> value on the last line
	awk -F';' -v col="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==col) c=i} END{if(c) print $c}' "$1"
}

run_pair reg_u1 u1 15074 15088 20 20 proxy_register_uas proxy_register_uac
run_pair reg_t1 t1 15075 15089 20 20 proxy_register_uas proxy_register_uac
echo "ok: 20+20 REGISTERs (UDP, TCP) through the proxy: its Via added, then removed from the 200"

run_pair cancel_u1 u1 15076 15090 20 20 proxy_cancel_uas proxy_cancel_uac
run_pair cancel_t1 t1 15077 15091 10 20 proxy_cancel_uas proxy_cancel_uac
echo "ok: 20+10 ringing INVITEs cancelled (UDP, TCP): 200 for the CANCEL, 487 to the UAC, ACKs"

# -T2 1000: the UAC's BYE retransmissions (500 ms, then every 1 s) stay
# inside the proxy's timer J (64*T1 = 6.4 s), so a BYE whose 200 was lost
# is answered from the proxy's completed transaction, not forwarded anew
run_pair lost u1 15078 15092 100 20 uas proxy_uac -lost 10 -T2 1000
retrans=$(stat_col uac_lost.csv 'Retransmissions(C)')
[ "${retrans:-0}" -gt 0 ] || fail "-lost 10: no retransmission at the UAC (was anything lost?)"
echo "ok: 100 calls with 10% loss at the UAC all completed ($retrans UAC retransmissions, 0 failed)"

kill -TERM "$PROXY"
for _ in $(seq 100); do kill -0 "$PROXY" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PROXY" 2>/dev/null && fail "proxy did not stop on SIGTERM"
wait "$PROXY"
prc=$?
cat proxy.out
[ $prc -eq 0 ] || fail "proxy exit status $prc (sanitizer report in proxy.log?)"
echo "PASS"
