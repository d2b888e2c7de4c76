#!/usr/bin/env bash
# ctest-resource-lock: ims_lab
# `deploy/lab.sh up --netns`: the four daemons as separate hosts, each in its
# own network namespace (ims-lab-hss/-scscf/-icscf/-pcscf) on the bridge
# ims-lab-br0 in 10.77.0.0/24, the test (the UEs) on the host at 10.77.0.1.
#   - up: four namespaces, each daemon bound to its own address, /healthz 200
#   - the HSS REST listener off loopback demands its bearer token
#   - SPEC flows 1 and 2 across the namespaces: two SIPp UEs register with
#     IMS AKA through the P-CSCF at 10.77.0.10 and call each other
#   - down: daemons stopped, namespaces, bridge and /etc/netns entries gone
# Skipped (exit 0) only when this host does not allow `ip netns add`.
# Must not run beside lab_e2e.sh (ctest RESOURCE_LOCK ims_lab).
set -u
: "${BIN:?}" "${SRC:?}" "${WORK:?}"
REALM=ims.mnc001.mcc001.3gppnetwork.org
LAB=$SRC/deploy/lab.sh
SC=$SRC/deploy/lab/sipp
HOST_IP=10.77.0.1 PCSCF=10.77.0.10:5060
NSS="ims-lab-hss ims-lab-scscf ims-lab-icscf ims-lab-pcscf"
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$SRC/tests/lsan.supp:print_suppressions=0}
rm -rf "$WORK" && mkdir -p "$WORK"
cd "$WORK" || exit 1

if ! command -v ip >/dev/null; then
	echo "SKIP: no ip command (iproute2): the netns lab cannot run here"; exit 0
fi
probe=ims-lab-probe-$$
if ! ip netns add "$probe" 2>probe.err; then
	echo "SKIP: 'ip netns add' is not permitted here ($(cat probe.err)): netns lab not tested"; exit 0
fi
ip netns del "$probe"
for ns in $NSS; do
	ip netns list | grep -qw "^$ns" && { echo "FAIL: namespace $ns exists already (a netns lab running? deploy/lab.sh down)"; exit 1; }
done

export IMS_BIN=$BIN IMS_LAB_RUN=$WORK/run
RUN=$IMS_LAB_RUN
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
PIDS=()
LAB_UP=0
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	[ "$LAB_UP" = 1 ] && timeout 60 "$LAB" down >/dev/null 2>&1
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
for b in ims-hss ims-scscf ims-icscf ims-pcscf; do
	[ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b not built"; exit 1; }
done

LAB_UP=1
if timeout 240 "$LAB" up --netns >up.out 2>&1; then
	ok "lab.sh up --netns"
else
	fail "lab.sh up --netns"; cat up.out
	for d in hss scscf icscf pcscf; do echo "--- $d.log"; grep -v "fd log" "$RUN/$d.log" 2>/dev/null | tail -10; done
	exit 1
fi
declare -A PID
for d in hss scscf icscf pcscf; do
	PID[$d]=$(cat "$RUN/$d.pid" 2>/dev/null)
	ns=ims-lab-$d
	if [ -n "${PID[$d]}" ] && [ "$(ip netns identify "${PID[$d]}" 2>/dev/null)" = "$ns" ]; then
		ok "$d (pid ${PID[$d]}) runs in namespace $ns"
	else
		fail "$d is not in $ns (pid '${PID[$d]}', in '$(ip netns identify "${PID[$d]}" 2>/dev/null)')"
	fi
done
"$LAB" status >status.out 2>&1 && [ "$(grep -c ' 200$' status.out)" = 4 ] \
	&& ok "status: four daemons healthy on 10.77.0.10-13" || { fail "status"; cat status.out; }
grep -q "addr: 10.77.0.13" "$RUN/hss.yaml" && ok "HSS configured on 10.77.0.13" || fail "HSS address in hss.yaml"
ip netns exec ims-lab-pcscf ss -Hlun | grep -q "10.77.0.10:5060" && ok "P-CSCF bound to 10.77.0.10:5060/udp inside its namespace" \
	|| fail "P-CSCF socket: $(ip netns exec ims-lab-pcscf ss -Hlun)"
ss -Hlunp | grep -q "pid=${PID[pcscf]}," && fail "the P-CSCF has a socket in the host namespace"

code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://10.77.0.13:8080/api/v1/subscribers?limit=1")
[ "$code" = 401 ] && ok "HSS REST off loopback refuses a call without the token (401)" || fail "REST without token: $code"
code=$(curl -s -m 5 -o list.json -w '%{http_code}' -H "Authorization: Bearer $(cat "$RUN/api_token")" \
	"http://10.77.0.13:8080/api/v1/subscribers?limit=100")
[ "$code" = 200 ] && grep -q "001010000000010@" list.json && ok "HSS REST with the token lists the demo subscribers" \
	|| fail "REST with token: $code $(head -c 200 list.json)"

aka_register() { # imsi ue-port
	for try in 1 2 3 4 5; do
		if timeout 30 sipp "$PCSCF" -sf "$SC/register-aka.xml" -i "$HOST_IP" -p "$2" -m 1 -nostdin \
			-trace_err -timeout 15 -timeout_error -key realm "$REALM" -key user "$1" -au "$1@$REALM" \
			>"reg_$1_$try.out" 2>&1; then
			return 0
		fi
		sleep 0.3
	done
	tail -5 "reg_$1_5.out"; cat register-aka_*_errors.log 2>/dev/null | tail -5
	return 1
}
UA=001010000000101 UB=001010000000102
aka_register $UA 15070 && ok "UE $UA registered with IMS AKA across the namespaces" || fail "registration of $UA"
aka_register $UB 15071 && ok "UE $UB registered" || fail "registration of $UB"

timeout 40 sipp -sf "$SC/call-uas.xml" -i "$HOST_IP" -p 15071 -m 1 -nostdin -trace_err -trace_logs \
	-timeout 30 -timeout_error -key realm "$REALM" >uas.out 2>&1 &
UAS=$!
PIDS+=("$UAS")
sleep 0.5
if timeout 40 sipp "$PCSCF" -sf "$SC/call-uac.xml" -i "$HOST_IP" -p 15070 -m 1 -nostdin -trace_err \
	-timeout 30 -timeout_error -key realm "$REALM" -key user $UA -key callee $UB >uac.out 2>&1; then
	ok "$UA called $UB: P (10.77.0.10) -> S (.12) -> I (.11) -> S -> P"
else
	fail "call"; tail -5 uac.out; cat call-uac_*_errors.log 2>/dev/null | tail -8
fi
if wait $UAS; then
	grep -q "call from P-Asserted-Identity sip:$UA@$REALM" call-uas_*_logs.log \
		&& ok "callee saw the network-asserted caller" || fail "callee PAI: $(cat call-uas_*_logs.log)"
else
	fail "callee side"; cat call-uas_*_errors.log 2>/dev/null | tail -8
fi

timeout 90 "$LAB" down >down.out 2>&1 || fail "lab.sh down: $(cat down.out)"
LAB_UP=0
for d in hss scscf icscf pcscf; do
	[ -n "${PID[$d]}" ] && kill -0 "${PID[$d]}" 2>/dev/null && fail "$d (pid ${PID[$d]}) still runs after down"
done
grep -q killed down.out && fail "a daemon needed SIGKILL: $(grep killed down.out)"
left=""
for ns in $NSS; do ip netns list | grep -qw "^$ns" && left="$left $ns"; [ -e "/etc/netns/$ns" ] && left="$left /etc/netns/$ns"; done
ip link show ims-lab-br0 >/dev/null 2>&1 && left="$left ims-lab-br0"
[ -z "$left" ] && ok "down removed the namespaces, the bridge and /etc/netns entries" || fail "left after down:$left"
if grep -q "Sanitizer\|runtime error" "$RUN"/*.log; then
	fail "sanitizer report"; grep -A15 "Sanitizer\|runtime error" "$RUN"/*.log | head -40
fi

if [ "$FAILS" -ne 0 ]; then
	for d in pcscf icscf scscf hss; do echo "--- $d.log (tail)"; grep -v "fd log" "$RUN/$d.log" | tail -15; done
	echo "$FAILS failure(s); files in $WORK"
	exit 1
fi
echo "all lab_netns checks passed"
