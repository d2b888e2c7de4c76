#!/usr/bin/env bash
# ctest-resource-lock: ims_lab
# The lab as a user meets it (deploy/lab.sh, docs/running.md), on the SPEC
# loopback defaults (5060, 4060, 6060, 3868, 8080, 9101-9103): this test and
# lab_netns.sh must not run at the same time (ctest RESOURCE_LOCK ims_lab).
#   1. `lab.sh up` with the built binaries (IMS_BIN) and run/ in $WORK:
#      four daemons healthy, 14 subscribers; a second `up` is harmless.
#   2. SPEC flow 1: SIPp UEs register through the P-CSCF with IMS AKA
#      (retried on a fresh challenge: SIPp 3.6.1 cuts a RES at a 0x00 byte)
#      and a demo subscriber with Digest MD5.
#   3. SPEC flow 2: a call between two registered UEs, the callee sees the
#      caller's identity asserted by the network.
#   4. SPEC flow 3: an originating iFC on INVITE sends the call through the
#      demo AS (tests/tools/demo-as.py) with an odi Route back to the S-CSCF.
#   4b. SPEC flow 4: de-registration by the UE (expires=0) and by the network
#      (HSS REST DELETE -> RTR -> reg-event NOTIFY -> the P-CSCF drops it).
#   5. Every series the Grafana dashboard queries is exported by a daemon.
#   6. `lab.sh down` leaves no daemon running and frees the ports.
set -u
: "${BIN:?}" "${SRC:?}" "${WORK:?}"
REALM=ims.mnc001.mcc001.3gppnetwork.org
LAB=$SRC/deploy/lab.sh
SC=$SRC/deploy/lab/sipp
AS_PORT=5090
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$SRC/tests/lsan.supp:print_suppressions=0}
rm -rf "$WORK" && mkdir -p "$WORK"
cd "$WORK" || exit 1
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
busy=$(ss -Hltnu 2>/dev/null | awk '{print $5}' | grep -E ':(5060|4060|6060|3868|8080|9101|9102|9103|5090|507[0-3])$' | sort -u)
if [ -n "$busy" ]; then
	echo "FAIL: the lab ports are in use (a lab already running? deploy/lab.sh down): $busy"
	exit 1
fi

# ------------------------------------------------------------ 1. up
if timeout 180 "$LAB" up >up.out 2>&1; then
	LAB_UP=1
	ok "lab.sh up"
else
	LAB_UP=1
	fail "lab.sh up"; cat up.out; exit 1
fi
grep -q "subscribers: 14 created" up.out && ok "14 subscribers provisioned" || fail "provisioning: $(grep subscribers up.out)"
grep -q "sipp 127.0.0.1:5060 -sf $SC/register-aka.xml" up.out && ok "up prints a ready SIPp command" \
	|| fail "no SIPp command line in the output of up"
declare -A PID
for d in hss scscf icscf pcscf; do
	PID[$d]=$(cat "$RUN/$d.pid" 2>/dev/null)
	[ -s "$RUN/$d.yaml" ] && "$BIN/ims-$d" -c "$RUN/$d.yaml" -t >/dev/null 2>&1 \
		&& ok "$d.yaml passes -t" || fail "$d.yaml does not pass -t"
done
if "$LAB" status >status.out 2>&1 && [ "$(grep -c ' 200$' status.out)" = 4 ]; then
	ok "status: four daemons, /healthz 200"
else
	fail "status"; cat status.out
fi
timeout 60 "$LAB" up >up2.out 2>&1 || fail "second up failed: $(tail -3 up2.out)"
[ "$(grep -c 'already running' up2.out)" = 4 ] && ok "second up finds the four daemons running" \
	|| fail "second up: $(head -5 up2.out)"
grep -q "subscribers: 0 created, 14 already there" up2.out && ok "second up: subscribers already there (409)" \
	|| fail "second up provisioning: $(grep subscribers up2.out)"
for d in hss scscf icscf pcscf; do
	[ "$(cat "$RUN/$d.pid")" = "${PID[$d]}" ] || fail "$d was restarted by the second up"
done

# ------------------------------------------------------------ 2. registration
aka_register() { # imsi ue-port
	for try in 1 2 3 4 5; do
		if timeout 30 sipp 127.0.0.1:5060 -sf "$SC/register-aka.xml" -i 127.0.0.1 -p "$2" -m 1 -nostdin \
			-trace_err -timeout 15 -timeout_error -key realm "$REALM" -key user "$1" -au "$1@$REALM" \
			>"reg_$1_$try.out" 2>&1; then
			return 0
		fi
		sleep 0.3
	done
	tail -5 "reg_$1_5.out"; cat register-aka_*_errors.log 2>/dev/null | tail -5
	return 1
}
UA=001010000000101 UB=001010000000102 UC=001010000000103
aka_register $UA 5070 && ok "UE $UA registered with IMS AKA through the P-CSCF" || fail "AKA registration of $UA"
aka_register $UB 5071 && ok "UE $UB registered with IMS AKA" || fail "AKA registration of $UB"
if timeout 30 sipp 127.0.0.1:5060 -sf "$SC/register-md5.xml" -i 127.0.0.1 -p 5072 -m 1 -nostdin -trace_err \
	-timeout 15 -timeout_error -key realm "$REALM" -key user 001010000000001 \
	-au "001010000000001@$REALM" -ap secret >reg_md5.out 2>&1; then
	ok "demo subscriber 001010000000001 registered with Digest MD5"
else
	fail "MD5 registration"; tail -5 reg_md5.out
fi
st=$(curl -s -m 5 "http://127.0.0.1:8080/api/v1/subscribers/$UB@$REALM/registration")
echo "$st" | grep -q '"REGISTERED"' && ok "HSS: $UB REGISTERED" || fail "HSS state of $UB: $st"

# ------------------------------------------------------------ 3. call
call() { # caller callee callee-port tag caller-port
	timeout 40 sipp -sf "$SC/call-uas.xml" -i 127.0.0.1 -p "$3" -m 1 -nostdin -trace_err -trace_logs \
		-timeout 30 -timeout_error -key realm "$REALM" >"uas_$4.out" 2>&1 &
	local uas=$!
	PIDS+=("$uas")
	sleep 0.5
	if ! timeout 40 sipp 127.0.0.1:5060 -sf "$SC/call-uac.xml" -i 127.0.0.1 -p "$5" -m 1 -nostdin \
		-trace_err -timeout 30 -timeout_error -key realm "$REALM" -key user "$1" -key callee "$2" \
		>"uac_$4.out" 2>&1; then
		tail -5 "uac_$4.out"; cat call-uac_*_errors.log 2>/dev/null | tail -8
		kill "$uas" 2>/dev/null
		return 1
	fi
	wait "$uas" || { cat call-uas_*_errors.log 2>/dev/null | tail -8; return 1; }
}
if call $UA $UB 5071 ab 5070; then
	ok "$UA called $UB: INVITE/180/200/ACK/BYE/200 through P, S, I, S, P"
	grep -q "call from P-Asserted-Identity sip:$UA@$REALM" call-uas_*_logs.log \
		&& ok "callee saw P-Asserted-Identity sip:$UA@$REALM" \
		|| fail "callee P-Asserted-Identity: $(cat call-uas_*_logs.log)"
else
	fail "call $UA -> $UB"
fi
rm -f call-uas_*_logs.log

# ------------------------------------------------------------ 4. AS chain
if [ -f "$SRC/tests/tools/demo-as.py" ] && command -v python3 >/dev/null; then
	# The demo AS speaks UDP only: its server_name says transport=udp, or a
	# request larger than 1300 bytes would go by TCP (RFC 3261 §18.1.1).
	python3 "$SRC/tests/tools/demo-as.py" --port $AS_PORT --name lab-as --log as.log 2>as.err &
	PIDS+=($!)
	# python can take over a second to start on a loaded machine: a
	# request sent before it binds is ICMP-refused (503, the AS skipped)
	for _ in $(seq 1 100); do
		[ -n "$(ss -Hlun "sport = :$AS_PORT" 2>/dev/null)" ] && break
		sleep 0.1
	done
	[ -n "$(ss -Hlun "sport = :$AS_PORT" 2>/dev/null)" ] || fail "demo AS not listening on $AS_PORT: $(cat as.err)"
	K=$(printf '%s' 465b5ce8b199b49f | od -An -tx1 | tr -d ' \n')
	OP=$(printf '%s' cdc202d5123e20f6 | od -An -tx1 | tr -d ' \n')
	AMF=$(printf '%s' 80 | od -An -tx1 | tr -d ' \n')
	cat >uc.json <<JSON
{"impi": "$UC@$REALM", "impus": ["sip:$UC@$REALM", "tel:+15550000103"],
 "auth": {"k": "$K", "op": "$OP", "amf": "$AMF", "password": "secret"},
 "ifcs": [{"priority": 10,
           "trigger": {"cnf": false, "spt": [{"group": 0, "method": "INVITE"},
                                             {"group": 0, "session_case": "ORIGINATING"}]},
           "application_server": {"server_name": "sip:127.0.0.1:$AS_PORT;transport=udp",
                                  "default_handling": "SESSION_CONTINUED"}}]}
JSON
	code=$(curl -s -m 5 -o put.out -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
		--data-binary @uc.json "http://127.0.0.1:8080/api/v1/subscribers/$UC@$REALM")
	[ "$code" = 200 ] && ok "PUT $UC with an originating INVITE iFC to the demo AS" || fail "PUT $UC: $code $(cat put.out)"
	aka_register $UC 5073 && ok "UE $UC registered" || fail "AKA registration of $UC"
	if call $UC $UB 5071 cb 5073; then
		ok "$UC called $UB through the AS"
	else
		fail "call $UC -> $UB through the AS"
	fi
	# every Route value of the first INVITE, in order, comma-separated
	route=$(awk '/^REQ INVITE/{f=1; next} f&&/^END/{exit} f&&/^HDR Route: /{sub(/^HDR Route: /, ""); printf "%s,", $0}' as.log 2>/dev/null)
	if echo "$route" | grep -Eq "^<sip:127.0.0.1:$AS_PORT;[^>]*lr[^>]*>, ?<sip:127.0.0.1:6060;lr;odi=[^>]+>"; then
		ok "the AS got Route: <AS;lr>, <S-CSCF;lr;odi=...>"
	else
		fail "Route at the AS: '$route'"
	fi
	grep -q "session.from_as impu=sip:$UC@$REALM" "$RUN/scscf.log" && ok "S-CSCF continued after the AS (odi matched)" \
		|| fail "no session.from_as in the S-CSCF log"
else
	echo "note: tests/tools/demo-as.py or python3 missing: AS chain not tested"
fi

# ------------------------------------------------------------ 4b. de-registration
# SPEC flow 4 by the UE: Expires 0 through the P-CSCF, which forgets the flow
dereg_ok=0
for try in 1 2 3 4 5; do
	if timeout 30 sipp 127.0.0.1:5060 -sf "$SC/deregister-aka.xml" -i 127.0.0.1 -p 5070 -m 1 -nostdin \
		-trace_err -timeout 15 -timeout_error -key realm "$REALM" -key user $UA -au "$UA@$REALM" \
		>"dereg_$try.out" 2>&1; then
		dereg_ok=1; break
	fi
	sleep 0.3
done
[ $dereg_ok = 1 ] && ok "UE $UA de-registered (expires=0, AKA)" || fail "de-registration of $UA"
grep -q "reg.removed src=127.0.0.1:5070" "$RUN/pcscf.log" && ok "P-CSCF removed $UA's flow" \
	|| fail "P-CSCF kept $UA after its de-registration"
st=$(curl -s -m 5 "http://127.0.0.1:8080/api/v1/subscribers/$UA@$REALM/registration")
echo "$st" | grep -q '"REGISTERED"' && fail "HSS still has $UA REGISTERED: $st" || ok "HSS: $UA no longer REGISTERED"
# SPEC flow 4 by the network: DELETE -> RTR -> NOTIFY -> the P-CSCF drops the flow
MD5U=001010000000001
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:8080/api/v1/subscribers/$MD5U@$REALM")
[ "$code" = 204 ] && ok "HSS REST DELETE of registered $MD5U: 204" || fail "DELETE $MD5U: $code"
for _ in $(seq 1 50); do grep -q "regevent.terminated aor=sip:$MD5U@" "$RUN/pcscf.log" && break; sleep 0.1; done
grep -q "regevent.terminated aor=sip:$MD5U@" "$RUN/pcscf.log" \
	&& ok "RTR -> S-CSCF NOTIFY -> P-CSCF dropped $MD5U" || fail "P-CSCF kept $MD5U after the DELETE"
timeout 60 "$LAB" provision >prov.out 2>&1 && grep -q "subscribers: 1 created, 13 already there" prov.out \
	&& ok "lab.sh provision put the deleted demo subscriber back" || fail "provision: $(cat prov.out)"

# ------------------------------------------------------------ 5. dashboard series
for u in 127.0.0.1:9101 127.0.0.1:9102 127.0.0.1:9103 127.0.0.1:8080; do
	curl -s -m 5 "http://$u/metrics"
done >metrics.txt
missing=$(python3 - "$SRC/deploy/grafana-dashboard.json" metrics.txt <<'PY'
import json, re, sys
dash = json.load(open(sys.argv[1]))
have = set()
for line in open(sys.argv[2]):
    if line and not line.startswith("#"):
        have.add(re.split(r"[{ ]", line, 1)[0])
exprs = []
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "expr" and isinstance(v, str):
                exprs.append(v)
            else:
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(dash)
exprs = [re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", e) for e in exprs]
funcs = {"rate", "irate", "increase", "sum", "by", "histogram_quantile", "time", "le",
         "max", "min", "avg", "count", "without", "on", "ignoring", "label_replace", "delta"}
names = set()
for e in exprs:
    e = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"", " ", e)
    for n in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        if n not in funcs:
            names.add(n)
print(" ".join(sorted(n for n in names if n not in have)) if exprs else "NO-EXPRS")
PY
)
if [ -z "$missing" ]; then
	ok "every series in grafana-dashboard.json is exported by a daemon"
else
	fail "dashboard series not exported: $missing"
fi

# ------------------------------------------------------------ 6. down
timeout 60 "$LAB" down >down.out 2>&1 || fail "lab.sh down: $(cat down.out)"
LAB_UP=0
for d in hss scscf icscf pcscf; do
	if [ -n "${PID[$d]}" ] && kill -0 "${PID[$d]}" 2>/dev/null; then
		fail "$d (pid ${PID[$d]}) still runs after down"
	fi
done
grep -q "killed" down.out && fail "a daemon needed SIGKILL: $(grep killed down.out)"
left=$(ss -Hltnu 2>/dev/null | awk '{print $5}' | grep -E ':(5060|4060|6060|3868|8080|9101|9102|9103)$' | sort -u)
[ -z "$left" ] && ok "down: no daemon left, ports free" || fail "ports still bound after down: $left"
"$LAB" status >/dev/null 2>&1 && fail "status after down says something runs"
if grep -q "Sanitizer\|runtime error" "$RUN"/*.log; then
	fail "sanitizer report"; grep -A15 "Sanitizer\|runtime error" "$RUN"/*.log | head -40
fi

if [ "$FAILS" -ne 0 ]; then
	for d in pcscf icscf scscf hss; do echo "--- $d.log (tail)"; grep -v "fd log" "$RUN/$d.log" | tail -15; done
	echo "$FAILS failure(s); files in $WORK"
	exit 1
fi
echo "all lab_e2e checks passed"
