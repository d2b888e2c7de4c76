#!/usr/bin/env bash
# The IMS lab: ims-hss, ims-scscf, ims-icscf and ims-pcscf with the SPEC.md
# defaults, either on loopback or as four "hosts" in Linux network
# namespaces.
#
#   deploy/lab.sh up [--netns]   install deps, build, write configs, start,
#                                wait for /healthz, provision demo subscribers
#   deploy/lab.sh down           stop what `up` started (TERM, then KILL)
#   deploy/lab.sh status         pid, address, /healthz of each daemon
#   deploy/lab.sh logs [daemon]  tail the logs (hss, scscf, icscf, pcscf)
#   deploy/lab.sh provision      (re)provision the subscribers (409 = there)
#
# Environment:
#   IMS_LAB_RUN    run directory (configs, logs, PID files, databases);
#                  default <repo>/run/lab
#   IMS_BIN        use the binaries in this directory: no package install,
#                  no build (what the integration tests do)
#   IMS_LAB_LOG_LEVEL  log_level written into the configs (default info)
#   IMS_LAB_WAIT   seconds to wait for each /healthz (default 30)
#   IMS_LAB_HSS_URL, IMS_LAB_HSS_TOKEN  `provision` against another HSS
#                  (e.g. http://hss:8080 in docker-compose) and its token
# Everything a daemon reads can still be overridden per key with IMS_CFG_*
# variables (docs/configuration.md); they are passed through unchanged.
# See docs/running.md.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN=$(realpath -m "${IMS_LAB_RUN:-$SRC/run/lab}")   # absolute: the daemons run in it
REALM=ims.mnc001.mcc001.3gppnetwork.org
DAEMONS=(hss scscf icscf pcscf)             # start order; stop is the reverse
WAIT=${IMS_LAB_WAIT:-30}
LOG_LEVEL=${IMS_LAB_LOG_LEVEL:-info}
NS_PREFIX=ims-lab-
BRIDGE=ims-lab-br0
NET_HOST=10.77.0.1                          # the host's address on the lab bridge

# SPEC.md demo subscribers: TS 35.208 test set 1 keys, Digest password.
K=465b5ce8b199b49faa5f0a2ee238a6bc
OP=cdc202d5123e20f62b6d676ac72cb318
AMF=8000

die() { echo "lab: $*" >&2; exit 1; }
say() { echo "lab: $*"; }

bin_of() { echo "ims-$1"; }

# Addresses and ports per mode. Loopback: the SPEC table, except that the
# S-CSCF may be moved with IMS_LAB_SCSCF_ADDR (see docs/running.md).
set_topology() { # mode
	MODE=$1
	PCSCF_PORT=5060 ICSCF_PORT=4060 SCSCF_PORT=6060 HSS_DIA_PORT=3868 HSS_REST_PORT=8080
	PCSCF_HTTP_PORT=9101 ICSCF_HTTP_PORT=9102 SCSCF_HTTP_PORT=9103
	if [ "$MODE" = netns ]; then
		PCSCF_ADDR=10.77.0.10 ICSCF_ADDR=10.77.0.11 SCSCF_ADDR=10.77.0.12 HSS_ADDR=10.77.0.13
	else
		PCSCF_ADDR=127.0.0.1 ICSCF_ADDR=127.0.0.1 HSS_ADDR=127.0.0.1
		SCSCF_ADDR=${IMS_LAB_SCSCF_ADDR:-127.0.0.1}
	fi
}

addr_of() { local v="${1^^}_ADDR"; echo "${!v}"; }
# the port /healthz and /metrics answer on
http_port_of() { if [ "$1" = hss ]; then echo "$HSS_REST_PORT"; else local v="${1^^}_HTTP_PORT"; echo "${!v}"; fi; }
sip_port_of() {
	case $1 in hss) echo "$HSS_DIA_PORT/tcp(diameter)" ;; *) local v="${1^^}_PORT"; echo "${!v}" ;; esac
}

# ---------------------------------------------------------------- state

# PID of a daemon the lab started and that still runs, or nothing. The PID
# file alone is not trusted: /proc/<pid>/cmdline must name the binary.
running_pid() { # daemon
	local f="$RUN/$1.pid" pid
	[ -f "$f" ] || return 1
	pid=$(cat "$f" 2>/dev/null) || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	[ -r "/proc/$pid/cmdline" ] || return 1
	local argv0=""
	IFS= read -r -d '' argv0 <"/proc/$pid/cmdline" 2>/dev/null || true
	[ "$(basename -- "$argv0")" = "$(bin_of "$1")" ] || return 1
	echo "$pid"
}

saved_mode() { cat "$RUN/mode" 2>/dev/null || echo loopback; }

healthz() { # daemon -> prints the HTTP status (000 when nothing answers)
	local d=$1 url
	url="http://$(addr_of "$d"):$(http_port_of "$d")/healthz"
	curl -s -m 2 -o /dev/null -w '%{http_code}' "$url" 2>/dev/null || true
}

# ---------------------------------------------------------------- up

find_binaries() {
	if [ -n "${IMS_BIN:-}" ]; then
		BIN=$IMS_BIN
		for d in "${DAEMONS[@]}"; do
			[ -x "$BIN/$(bin_of "$d")" ] || die "IMS_BIN=$BIN has no $(bin_of "$d")"
		done
		return
	fi
	"$SRC/deploy/install-deps.sh"
	BIN=$SRC/build/bin
	local missing=()
	for d in "${DAEMONS[@]}"; do
		[ -x "$BIN/$(bin_of "$d")" ] || missing+=("$(bin_of "$d")")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "building ${missing[*]} in $SRC/build"
		cmake -S "$SRC" -B "$SRC/build" >/dev/null
		cmake --build "$SRC/build" -j2 --target "${missing[@]}"
	fi
}

# a value for the right-hand side of sed's s|||: |, & and \ taken literally
sed_esc() { printf '%s' "$1" | sed -e 's/[|&\\]/\\&/g'; }

render() { # template output
	sed -e "s|@REALM@|$REALM|g" -e "s|@RUN@|$(sed_esc "$RUN")|g" -e "s|@LOG_LEVEL@|$LOG_LEVEL|g" \
	    -e "s|@PCSCF_ADDR@|$PCSCF_ADDR|g" -e "s|@PCSCF_PORT@|$PCSCF_PORT|g" \
	    -e "s|@PCSCF_HTTP_PORT@|$PCSCF_HTTP_PORT|g" \
	    -e "s|@ICSCF_ADDR@|$ICSCF_ADDR|g" -e "s|@ICSCF_PORT@|$ICSCF_PORT|g" \
	    -e "s|@ICSCF_HTTP_PORT@|$ICSCF_HTTP_PORT|g" \
	    -e "s|@SCSCF_ADDR@|$SCSCF_ADDR|g" -e "s|@SCSCF_PORT@|$SCSCF_PORT|g" \
	    -e "s|@SCSCF_HTTP_PORT@|$SCSCF_HTTP_PORT|g" \
	    -e "s|@SCSCF_URI@|sip:$SCSCF_ADDR:$SCSCF_PORT|g" \
	    -e "s|@HSS_ADDR@|$HSS_ADDR|g" -e "s|@HSS_DIA_PORT@|$HSS_DIA_PORT|g" \
	    -e "s|@HSS_REST_PORT@|$HSS_REST_PORT|g" \
	    -e "s|@HSS_TOKEN_LINE@|$HSS_TOKEN_LINE|g" \
	    "$1" >"$2.tmp"
	mv "$2.tmp" "$2"
}

write_configs() {
	# A REST listener off loopback needs a token (SPEC.md): the netns lab
	# makes one and keeps it in run/lab/api_token.
	HSS_TOKEN_LINE="  # api_token: only needed off loopback"
	if [ "$MODE" = netns ]; then
		[ -s "$RUN/api_token" ] || (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$RUN/api_token")
		HSS_TOKEN_LINE="  api_token: $(cat "$RUN/api_token")"
	fi
	for d in "${DAEMONS[@]}"; do
		render "$SRC/deploy/lab/$d.yaml.in" "$RUN/$d.yaml"
		"$BIN/$(bin_of "$d")" -c "$RUN/$d.yaml" -t >/dev/null 2>"$RUN/$d.check" ||
			die "$RUN/$d.yaml: $(cat "$RUN/$d.check")"
		rm -f "$RUN/$d.check"
	done
}

net_up() {
	ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
	ip addr replace "$NET_HOST/24" dev "$BRIDGE"
	ip link set "$BRIDGE" up
	for d in "${DAEMONS[@]}"; do
		local ns=$NS_PREFIX$d veth="iml-$d" addr
		addr=$(addr_of "$d")
		ip netns list | grep -qw "^$ns" || ip netns add "$ns"
		if ! ip link show "$veth" >/dev/null 2>&1; then
			ip link add "$veth" type veth peer name eth0 netns "$ns"
			ip link set "$veth" master "$BRIDGE" up
		fi
		ip -n "$ns" link set lo up
		ip -n "$ns" addr replace "$addr/24" dev eth0
		ip -n "$ns" link set eth0 up
		ip -n "$ns" route replace default via "$NET_HOST" 2>/dev/null || true
		# `ip netns exec` mounts /etc/netns/<ns>/* over /etc: the lab names
		# resolve to lab addresses, and no lookup waits for a name server
		# the namespace cannot reach (freeDiameter resolves names on connect).
		mkdir -p "/etc/netns/$ns"
		{
			echo "127.0.0.1 localhost"
			for h in "${DAEMONS[@]}"; do echo "$(addr_of "$h") $h.$REALM $h"; done
		} >"/etc/netns/$ns/hosts"
		printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$ns/resolv.conf"
	done
}

net_down() {
	for d in "${DAEMONS[@]}"; do
		ip link del "iml-$d" 2>/dev/null || true
		ip netns del "$NS_PREFIX$d" 2>/dev/null || true
		rm -rf "/etc/netns/$NS_PREFIX$d"
	done
	rmdir /etc/netns 2>/dev/null || true
	ip link del "$BRIDGE" 2>/dev/null || true
}

wait_healthy() { # daemon pid
	local i
	for i in $(seq 1 $((WAIT * 10))); do
		[ "$(healthz "$1")" = 200 ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

start_daemon() { # daemon
	local d=$1 pid
	if pid=$(running_pid "$d"); then
		say "$d already running (pid $pid)"
		return 0
	fi
	# setsid: the daemon outlives this script and its terminal; `ip netns
	# exec` execs the binary, so $! is the daemon's own PID.
	(cd "$RUN" && exec setsid "${IP_NS[@]}" "$BIN/$(bin_of "$d")" -c "$RUN/$d.yaml" \
		>>"$RUN/$d.log" 2>&1 </dev/null) &
	pid=$!
	echo "$pid" >"$RUN/$d.pid"
	if ! wait_healthy "$d" "$pid"; then
		echo "lab: $d did not become healthy within ${WAIT}s; last log lines:" >&2
		tail -n 15 "$RUN/$d.log" >&2
		return 1
	fi
	say "$d up (pid $pid, http://$(addr_of "$d"):$(http_port_of "$d")/healthz)"
}

# The HSS REST API: the lab's own, or IMS_LAB_HSS_URL (+ IMS_LAB_HSS_TOKEN)
# for `provision` against another HSS (the docker-compose provisioner).
hss_url() { echo "${IMS_LAB_HSS_URL:-http://$HSS_ADDR:$HSS_REST_PORT}"; }
hss_curl() { # curl args...
	local auth=() token=${IMS_LAB_HSS_TOKEN:-}
	[ -z "$token" ] && [ "$MODE" = netns ] && token=$(cat "$RUN/api_token")
	[ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
	curl -s -m 5 "${auth[@]}" "$@"
}

post_subscriber() { # imsi tel k op amf -> prints created|present, dies otherwise
	local code
	code=$(hss_curl -o "$RUN/provision.out" -w '%{http_code}' -X POST \
		-H 'Content-Type: application/json' \
		--data-binary "{\"impi\": \"$1@$REALM\",
		  \"impus\": [\"sip:$1@$REALM\", \"tel:$2\"],
		  \"auth\": {\"k\": \"$3\", \"op\": \"$4\", \"amf\": \"$5\",
		           \"sqn\": \"000000000000\", \"password\": \"secret\"}}" \
		"$(hss_url)/api/v1/subscribers") || code=000
	case $code in
	201) echo created ;;
	409) echo present ;;
	*) die "provisioning $1: HTTP $code $(cat "$RUN/provision.out" 2>/dev/null)" ;;
	esac
}

# hex of the bytes of a text: what SIPp 3.6.1 really uses as a key
text_hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

# SPEC.md demo subscribers 001010000000001..010 with the TS 35.208 set 1
# keys; tel:+1555000000N (tel:+15550000010 for the tenth: eleven digits like
# the others). Then the SIPp AKA subscribers 001010000000101..104: SIPp
# 3.6.1 takes aka_K/aka_OP/aka_AMF as text and uses their first 16/16/2
# characters as the key bytes, so these four get exactly those bytes and a
# SIPp scenario can keep the SPEC keys as written (docs/running.md).
provision() {
	local n imsi r created=0 present=0
	for n in $(seq 1 10); do
		imsi=$(printf '0010100000%05d' "$n")
		r=$(post_subscriber "$imsi" "$(printf '+1555%07d' "$n")" "$K" "$OP" "$AMF")
		if [ "$r" = created ]; then created=$((created + 1)); else present=$((present + 1)); fi
	done
	for n in $(seq 101 104); do
		imsi=$(printf '0010100000%05d' "$n")
		r=$(post_subscriber "$imsi" "$(printf '+1555%07d' "$n")" "$(text_hex "${K:0:16}")" \
			"$(text_hex "${OP:0:16}")" "$(text_hex "${AMF:0:2}")")
		if [ "$r" = created ]; then created=$((created + 1)); else present=$((present + 1)); fi
	done
	rm -f "$RUN/provision.out"
	say "subscribers: $created created, $present already there (demo 001010000000001..010, SIPp AKA 001010000000101..104)"
}

print_howto() {
	local ue_ip=127.0.0.1
	[ "$MODE" = netns ] && ue_ip=$NET_HOST
	cat <<EOF

The lab is up ($MODE). Point a UE at the P-CSCF:
  outbound proxy  sip:$PCSCF_ADDR:$PCSCF_PORT (UDP or TCP)
  domain/realm    $REALM
  user            001010000000001 .. 001010000000010 (IMPU sip:<user>@$REALM)
  private id      <user>@$REALM
  AKA             K=$K OP=$OP AMF=$AMF
  Digest MD5      password "secret"

SIPp UE (3.6.1) registering with IMS AKA: use the SIPp AKA subscribers
001010000000101..104 (SIPp reads the keys as text, see docs/running.md);
run it again if it fails: SIPp cuts an AKA answer at a 0x00 byte (~3%):
  sipp $PCSCF_ADDR:$PCSCF_PORT -sf $SRC/deploy/lab/sipp/register-aka.xml -i $ue_ip -p 5070 -m 1 \\
       -key realm $REALM -key user 001010000000101 -au 001010000000101@$REALM
SIPp UE registering a demo subscriber with Digest MD5:
  sipp $PCSCF_ADDR:$PCSCF_PORT -sf $SRC/deploy/lab/sipp/register-md5.xml -i $ue_ip -p 5071 -m 1 \\
       -key realm $REALM -key user 001010000000001 -au 001010000000001@$REALM -ap secret
A call from the first UE to the second (run call-uas.xml with -p 5071 first):
  sipp $PCSCF_ADDR:$PCSCF_PORT -sf $SRC/deploy/lab/sipp/call-uac.xml -i $ue_ip -p 5070 -m 1 \\
       -key realm $REALM -key user 001010000000101 -key callee 001010000000001

HSS REST:    http://$HSS_ADDR:$HSS_REST_PORT/api/v1/subscribers$( [ "$MODE" = netns ] && echo " (Authorization: Bearer \$(cat $RUN/api_token))")
metrics:     http://$PCSCF_ADDR:$PCSCF_HTTP_PORT/metrics  http://$ICSCF_ADDR:$ICSCF_HTTP_PORT/metrics  http://$SCSCF_ADDR:$SCSCF_HTTP_PORT/metrics  http://$HSS_ADDR:$HSS_REST_PORT/metrics
logs:        $RUN/<daemon>.log   ($0 logs [daemon])
stop:        $0 down
See docs/running.md.
EOF
}

cmd_up() {
	local mode=loopback
	case "${1:-}" in
	--netns) mode=netns ;;
	"") ;;
	*) die "unknown option $1 (up [--netns])" ;;
	esac
	mkdir -p "$RUN"
	if [ -f "$RUN/mode" ] && [ "$(saved_mode)" != "$mode" ]; then
		for d in "${DAEMONS[@]}"; do
			running_pid "$d" >/dev/null &&
				die "a $(saved_mode) lab runs from $RUN: run '$0 down' first"
		done
	fi
	set_topology "$mode"
	[ "$mode" = netns ] && [ "$(id -u)" -ne 0 ] && die "up --netns needs root (ip netns add)"
	find_binaries
	echo "$mode" >"$RUN/mode"
	[ "$mode" = netns ] && net_up
	write_configs
	for d in "${DAEMONS[@]}"; do
		IP_NS=()
		[ "$mode" = netns ] && IP_NS=(ip netns exec "$NS_PREFIX$d")
		start_daemon "$d" || die "start of $d failed (the others keep running: '$0 down' stops them)"
		[ "$d" = hss ] && provision
	done
	print_howto
}

# ---------------------------------------------------------------- down

stop_pid() { # daemon pid
	local i
	kill -TERM "$2" 2>/dev/null || return 0
	for i in $(seq 1 100); do
		kill -0 "$2" 2>/dev/null || { say "$1 stopped (pid $2)"; return 0; }
		sleep 0.1
	done
	kill -KILL "$2" 2>/dev/null || true
	say "$1 killed after 10s (pid $2)"
}

cmd_down() {
	local i pid
	set_topology "$(saved_mode)"
	for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
		local d=${DAEMONS[$i]}
		if pid=$(running_pid "$d"); then
			stop_pid "$d" "$pid"
		fi
		rm -f "$RUN/$d.pid"
	done
	if [ "$MODE" = netns ]; then
		net_down
		say "namespaces ${NS_PREFIX}{${DAEMONS[*]}} and $BRIDGE removed"
	fi
	rm -f "$RUN/mode"
}

# ---------------------------------------------------------------- status, logs

cmd_status() {
	local d pid rc=0
	set_topology "$(saved_mode)"
	printf '%-6s %-8s %-16s %-22s %s\n' daemon pid address sip/diameter healthz
	for d in "${DAEMONS[@]}"; do
		if pid=$(running_pid "$d"); then
			printf '%-6s %-8s %-16s %-22s %s\n' "$d" "$pid" "$(addr_of "$d")" \
				"$(sip_port_of "$d")" "$(healthz "$d")"
		else
			printf '%-6s %-8s %-16s %-22s %s\n' "$d" - "$(addr_of "$d")" "$(sip_port_of "$d")" stopped
			rc=3
		fi
	done
	echo "mode: $MODE, run directory: $RUN"
	return $rc
}

cmd_logs() {
	local files=()
	if [ -n "${1:-}" ]; then
		[[ " ${DAEMONS[*]} " == *" $1 "* ]] || die "no daemon $1 (${DAEMONS[*]})"
		files=("$RUN/$1.log")
	else
		for d in "${DAEMONS[@]}"; do files+=("$RUN/$d.log"); done
	fi
	if [ -t 1 ]; then exec tail -n 50 -F "${files[@]}"; else exec tail -n 50 "${files[@]}"; fi
}

cmd_provision() {
	set_topology "$(saved_mode)"
	mkdir -p "$RUN"
	provision
}

case "${1:-}" in
up) shift; cmd_up "$@" ;;
provision) cmd_provision ;;
down) cmd_down ;;
status) cmd_status ;;
logs) shift; cmd_logs "$@" ;;
*) echo "usage: $0 up [--netns] | down | status | logs [hss|scscf|icscf|pcscf] | provision" >&2; exit 2 ;;
esac
