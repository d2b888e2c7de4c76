#!/usr/bin/env bash
# HSS Cx benchmark (issue 4): bulk-provision USERS subscribers through
# POST /api/v1/subscribers/bulk (batches of BATCH, timed), then drive MAR and
# SAR load with tests/tools/cx-client --bench and print answers/s, p50/p99.
# Usage: tests/bench/hss_cx.sh BUILD_DIR   (a Release build, e.g. build-h14-rel)
# Env: USERS (100000), BATCH (10000), REQS (100000 per command), INFLIGHT (64).
# Ports 25000 (REST) and 25001 (Diameter); DB under /tmp.
set -u
BUILD=${1:?usage: hss_cx.sh BUILD_DIR}
BIN=$BUILD/bin
USERS=${USERS:-100000}
BATCH=${BATCH:-10000}
REQS=${REQS:-100000}
INFLIGHT=${INFLIGHT:-64}
REST_PORT=25000
DIA_PORT=25001
REALM=ims.mnc001.mcc001.3gppnetwork.org
API=http://127.0.0.1:$REST_PORT/api/v1/subscribers
WORK=$(mktemp -d /tmp/hss_cx_bench.XXXXXX)
HSS_PID=
cleanup() {
  [ -n "$HSS_PID" ] && { kill "$HSS_PID" 2>/dev/null; wait "$HSS_PID" 2>/dev/null; }
  rm -rf "$WORK"
}
trap cleanup EXIT

for p in $REST_PORT $DIA_PORT; do
  if ss -ltn 2>/dev/null | grep -q "[:.]$p "; then echo "port $p is busy" >&2; exit 1; fi
done
cat > "$WORK/hss.yaml" <<YAML
log_level: warn
realm: $REALM
db: $WORK/hss.db
rest:
  addr: 127.0.0.1
  port: $REST_PORT
diameter:
  listen:
    addr: 127.0.0.1
    port: $DIA_PORT
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

CXC=("$BIN/cx-client" --realm "$REALM" --peer-port "$DIA_PORT" --identity "scscf.$REALM"
     --timeout 5000 --connect-timeout 5000 --users "$USERS" --pad 5
     --bench "$REQS" --inflight "$INFLIGHT")
echo "# MAR: ${CXC[*]} mar --impi '0010100000{n}@$REALM' --impu 'sip:0010100000{n}@$REALM' --server-name sip:scscf.$REALM:6060"
"${CXC[@]}" mar --impi "0010100000{n}@$REALM" --impu "sip:0010100000{n}@$REALM" \
  --server-name "sip:scscf.$REALM:6060" | sed 's/^/mar /'
echo "# SAR: ${CXC[*]} sar --impi '0010100000{n}@$REALM' --impu 'sip:0010100000{n}@$REALM' --server-name sip:scscf.$REALM:6060 --sat REGISTRATION"
"${CXC[@]}" sar --impi "0010100000{n}@$REALM" --impu "sip:0010100000{n}@$REALM" \
  --server-name "sip:scscf.$REALM:6060" --sat REGISTRATION | sed 's/^/sar /'
