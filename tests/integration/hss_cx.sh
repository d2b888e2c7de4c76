#!/usr/bin/env bash
# ims-hss Cx server against the real binary, driven by tests/tools/cx-client
# (TS 29.228 §6 flows): UAR 2001 -> MAR (AKA vectors checked as a USIM would)
# -> SAR REGISTRATION (User-Data valid against CxDataType_Rel7.xsd) -> UAR
# 2002 -> LIR -> SQN resynchronisation -> errors (5001, 5002, 5006, 5005 with
# Failed-AVP) -> REST DELETE sends RTR to cx-client acting as the S-CSCF.
set -u
: "${BIN:?}" "${SRC:?}" "${WORK:?}"
SHARED=${SHARED:-$SRC/../shared}
DIA_PORT=23868
REST_PORT=28100
REALM=ims.mnc001.mcc001.3gppnetwork.org
API=http://127.0.0.1:$REST_PORT/api/v1/subscribers
IMSI=001010000000001
IMPI=$IMSI@$REALM
IMPU=sip:$IMSI@$REALM
TEL=tel:+15550000001
SCSCF=sip:scscf.$REALM:6060
K=465b5ce8b199b49faa5f0a2ee238a6bc
OP=cdc202d5123e20f62b6d676ac72cb318
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$SRC/tests/lsan.supp:print_suppressions=0}
rm -rf "$WORK" && mkdir -p "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
# val FILE KEY: the first value of KEY in a key=value file
val() { sed -n "s/^$2=//p" "$1" | head -1; }
expect() { # file key value what
  local got; got=$(val "$1" "$2")
  if [ "$got" = "$3" ]; then ok "$4 ($2=$3)"; else fail "$4: $2='$got', want '$3' (see $1)"; fi
}

cat > "$WORK/hss.yaml" <<YAML
log_level: info
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

# Another run of this test (another build directory) would answer on the
# same ports and make every check below meaningless: refuse to start then.
for p in $REST_PORT $DIA_PORT; do
  if ss -ltn 2>/dev/null | grep -q "[:.]$p "; then
    echo "FAIL: port $p is already in use (another run of hss_cx.sh?)"; exit 1
  fi
done
"$BIN/ims-hss" -c "$WORK/hss.yaml" >"$WORK/hss.log" 2>&1 &
HSS_PID=$!
PIDS+=("$HSS_PID")
up=0
for _ in $(seq 1 100); do
  kill -0 "$HSS_PID" 2>/dev/null || break
  if curl -s -m 1 -o /dev/null "http://127.0.0.1:$REST_PORT/healthz"; then up=1; break; fi
  sleep 0.1
done
sleep 0.2
kill -0 "$HSS_PID" 2>/dev/null || up=0
[ $up = 1 ] || { echo "FAIL: ims-hss did not start"; cat "$WORK/hss.log"; exit 1; }

cat > "$WORK/sub.json" <<JSON
{"impi": "$IMPI", "impus": ["$IMPU", "$TEL"],
 "auth": {"k": "$K", "op": "$OP", "amf": "8000", "sqn": "000000000000", "password": "secret"},
 "ifcs": []}
JSON
code=$(curl -s -m 5 -o "$WORK/post.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data-binary "@$WORK/sub.json" "$API")
[ "$code" = 201 ] && ok "provisioned $IMPI" || fail "POST subscriber: $code $(cat "$WORK/post.out")"
IMPI2=001010000000002@$REALM
cat > "$WORK/sub2.json" <<JSON
{"impi": "$IMPI2", "impus": ["sip:001010000000002@$REALM"],
 "auth": {"k": "$K", "op": "$OP", "amf": "8000"}}
JSON
code=$(curl -s -m 5 -o "$WORK/post2.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data-binary "@$WORK/sub2.json" "$API")
[ "$code" = 201 ] && ok "provisioned $IMPI2" || fail "POST subscriber 2: $code $(cat "$WORK/post2.out")"

CXC=("$BIN/cx-client" --realm "$REALM" --peer-port "$DIA_PORT" --identity "scscf.$REALM"
     --timeout 3000 --connect-timeout 5000)
n=0
cx() { # name args...: runs cx-client, output in $WORK/<name>.out
  local name=$1; shift
  timeout 30 "${CXC[@]}" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  echo $? >"$WORK/$name.rc"
}

# 1. UAR for a user nobody serves: 2001 with Server-Capabilities
cx uar1 uar --impi "$IMPI" --impu "$IMPU"
expect "$WORK/uar1.out" status OK "UAR answered"
expect "$WORK/uar1.out" exp_result_code 2001 "UAR first registration"
expect "$WORK/uar1.out" capabilities 1 "UAR carries Server-Capabilities"

# 2. MAR AKA: two vectors, each verifies on the simulated USIM
cx mar1 mar --impi "$IMPI" --impu "$IMPU" --server-name "$SCSCF" --items 2 --k "$K" --op "$OP"
expect "$WORK/mar1.out" result_code 2001 "MAR success"
expect "$WORK/mar1.out" items 2 "MAR honours SIP-Number-Auth-Items"
expect "$WORK/mar1.out" item.1.scheme Digest-AKAv1-MD5 "MAR scheme"
expect "$WORK/mar1.out" item.1.mac_ok 1 "AUTN MAC-A verifies"
expect "$WORK/mar1.out" item.1.res_ok 1 "XRES/CK/IK match the USIM's"
expect "$WORK/mar1.out" item.2.res_ok 1 "second vector verifies"
s1=$(val "$WORK/mar1.out" item.1.sqn); s2=$(val "$WORK/mar1.out" item.2.sqn)
[ -n "$s1" ] && [ "$s2" = $((s1 + 1)) ] && ok "SQN increments ($s1, $s2)" || fail "SQNs '$s1' '$s2'"
RAND=$(val "$WORK/mar1.out" item.1.rand)

# 3. SAR REGISTRATION: User-Data valid against the TS 29.228 schema
cx sar1 sar --impi "$IMPI" --impu "$IMPU" --server-name "$SCSCF" --sat REGISTRATION \
  --user-data-out "$WORK/userdata.xml"
expect "$WORK/sar1.out" result_code 2001 "SAR REGISTRATION"
if [ -s "$WORK/userdata.xml" ] && xmllint --noout --schema "$SHARED/data/CxDataType_Rel7.xsd" \
     "$WORK/userdata.xml" 2>"$WORK/xmllint.err"; then
  ok "SAA User-Data validates against CxDataType_Rel7.xsd"
else
  fail "User-Data invalid: $(cat "$WORK/xmllint.err")"
fi
grep -q "$TEL" "$WORK/userdata.xml" && ok "User-Data lists the implicit set" || fail "tel URI missing in User-Data"
reg=$(curl -s -m 5 "$API/$IMPI/registration")
echo "$reg" | grep -q '"REGISTERED"' && ok "REST shows REGISTERED" || fail "registration: $reg"

# 4. UAR again: 2002 with the serving S-CSCF; LIR finds it too
cx uar2 uar --impi "$IMPI" --impu "$TEL"
expect "$WORK/uar2.out" exp_result_code 2002 "UAR subsequent registration"
expect "$WORK/uar2.out" server_name "$SCSCF" "UAR names the S-CSCF"
cx lir1 lir --impu "$TEL"
expect "$WORK/lir1.out" result_code 2001 "LIR success"
expect "$WORK/lir1.out" server_name "$SCSCF" "LIR Server-Name"

# 5. Resynchronisation: AUTS for SQN_MS = 5000, next vectors follow it
cx mar2 mar --impi "$IMPI" --impu "$IMPU" --server-name "$SCSCF" --k "$K" --op "$OP" \
  --resync-sqn 5000 --rand "$RAND"
expect "$WORK/mar2.out" result_code 2001 "resync MAR success"
expect "$WORK/mar2.out" item.1.sqn 5001 "vector after resync uses SQN_MS+1"
cx mar3 mar --impi "$IMPI" --impu "$IMPU" --server-name "$SCSCF" --k "$K" --op "$OP"
expect "$WORK/mar3.out" item.1.sqn 5002 "next MAR continues from SQN_MS"

# 6. SIP Digest for a subscriber with a password
cx mar4 mar --impi "$IMPI" --impu "$IMPU" --server-name "$SCSCF" --scheme "SIP Digest"
expect "$WORK/mar4.out" result_code 2001 "Digest MAR"
ha1=$(printf '%s' "$IMPI:$REALM:secret" | md5sum | cut -d' ' -f1)
expect "$WORK/mar4.out" item.1.digest_ha1 "$ha1" "Digest-HA1 = MD5(impi:realm:password)"

# 7. Errors, each answered
cx uar3 uar --impi "nobody@$REALM" --impu "sip:nobody@$REALM"
expect "$WORK/uar3.out" exp_result_code 5001 "unknown user"
cx uar4 uar --impi "$IMPI" --impu "sip:someone-else@$REALM"
expect "$WORK/uar4.out" exp_result_code 5001 "unknown public identity"
cx uar7 uar --impi "$IMPI" --impu "sip:001010000000002@$REALM"
expect "$WORK/uar7.out" exp_result_code 5002 "identities don't match"
cx mar7 mar --impi "$IMPI2" --impu "sip:001010000000002@$REALM" --server-name "$SCSCF" --scheme "SIP Digest"
expect "$WORK/mar7.out" exp_result_code 5006 "Digest for a user without password"
cx mar5 mar --impi "$IMPI" --impu "$IMPU" --server-name "$SCSCF" --scheme NTLM
expect "$WORK/mar5.out" exp_result_code 5006 "unsupported scheme"
cx uar5 uar --impi "$IMPI" --impu "$IMPU" --drop 600
expect "$WORK/uar5.out" result_code 5005 "missing Visited-Network-Identifier"
expect "$WORK/uar5.out" failed_avp_code 600 "Failed-AVP names it"
cx mar6 mar --impi "$IMPI" --impu "$IMPU" --server-name "$SCSCF" --drop 1
expect "$WORK/mar6.out" result_code 5005 "missing User-Name"
expect "$WORK/mar6.out" failed_avp_code 1 "Failed-AVP names User-Name"
cx lir2 lir --impu "$IMPU"
expect "$WORK/lir2.out" result_code 2001 "daemon still serves after the errors"

# 8. TS 29.228 §8.1.1: a MAR from another S-CSCF de-registers the user at
#    the old one (RTR NEW_SERVER_ASSIGNED); then the old one takes it back
timeout 40 "${CXC[@]}" serve --count 1 --wait 20000 >"$WORK/serve0.out" 2>"$WORK/serve0.err" &
SERVE_PID=$!
PIDS+=("$SERVE_PID")
for _ in $(seq 1 100); do grep -q '^ready=1' "$WORK/serve0.out" 2>/dev/null && break; sleep 0.1; done
cx mar8 mar --identity "scscf2.$REALM" --impi "$IMPI" --impu "$IMPU" --server-name "sip:scscf2.$REALM:6060"
expect "$WORK/mar8.out" result_code 2001 "MAR from another S-CSCF"
wait "$SERVE_PID"; src=$?
[ $src = 0 ] && ok "old S-CSCF got a request" || fail "serve0 exit $src"
expect "$WORK/serve0.out" request RTR "RTR to the old S-CSCF"
expect "$WORK/serve0.out" reason_code 1 "Deregistration-Reason NEW_SERVER_ASSIGNED"
cx mar9 mar --impi "$IMPI" --impu "$IMPU" --server-name "$SCSCF"
expect "$WORK/mar9.out" result_code 2001 "MAR back at the first S-CSCF"
cx sar2 sar --impi "$IMPI" --impu "$IMPU" --server-name "$SCSCF" --sat REGISTRATION
expect "$WORK/sar2.out" result_code 2001 "SAR REGISTRATION again"

# 9. A peer from another realm is refused at the capabilities exchange
timeout 30 "$BIN/cx-client" --realm evil.example.org --identity x.evil.example.org \
  --peer-host "hss.$REALM" --peer-port "$DIA_PORT" --connect-timeout 1500 \
  uar --impi "$IMPI" --impu "$IMPU" >"$WORK/evil.out" 2>"$WORK/evil.err"
erc=$?
[ $erc = 3 ] && ok "foreign realm refused (exit 3)" || fail "foreign realm: exit $erc $(cat "$WORK/evil.out")"

# 10. REST PUT of the registered user pushes the profile (PPR); DELETE sends
#    RTR; cx-client serve plays the S-CSCF that did the SAR
timeout 40 "${CXC[@]}" serve --count 2 --wait 20000 >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE_PID=$!
PIDS+=("$SERVE_PID")
for _ in $(seq 1 100); do grep -q '^ready=1' "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready=1' "$WORK/serve.out" || fail "cx-client serve did not connect"
sed 's/"ifcs": \[\]/"ifcs": [{"priority": 1, "application_server": {"server_name": "sip:as.'"$REALM"'"}}]/' \
  "$WORK/sub.json" >"$WORK/sub-put.json"
code=$(curl -s -m 10 -o "$WORK/put.out" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
  --data-binary "@$WORK/sub-put.json" "$API/$IMPI")
[ "$code" = 200 ] && ok "PUT 200" || fail "PUT: $code $(cat "$WORK/put.out")"
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X DELETE "$API/$IMPI")
[ "$code" = 204 ] && ok "DELETE 204" || fail "DELETE: $code"
wait "$SERVE_PID"; src=$?
[ $src = 0 ] && ok "S-CSCF answered two requests" || fail "serve exit $src"
expect "$WORK/serve.out" request PPR "PPR received first"
grep -q '^user_data_len=[1-9]' "$WORK/serve.out" && ok "PPR carries User-Data" || fail "PPR without User-Data"
grep -q '^request=RTR' "$WORK/serve.out" && ok "RTR received" || fail "no RTR: $(cat "$WORK/serve.out")"
expect "$WORK/serve.out" user_name "$IMPI" "RTR User-Name"
expect "$WORK/serve.out" reason_code 0 "Deregistration-Reason PERMANENT_TERMINATION"
grep -q "^impu=$TEL" "$WORK/serve.out" && ok "RTR lists every public identity" || fail "RTR impus: $(cat "$WORK/serve.out")"
grep -q 'rtr.done' "$WORK/hss.log" && ok "HSS logged the RTA" || fail "no rtr.done in hss.log"

cx uar6 uar --impi "$IMPI" --impu "$IMPU"
expect "$WORK/uar6.out" exp_result_code 5001 "deleted user is unknown"

# 11. An S-CSCF that answers too late: the RTR times out (3 s), the
#     DELETE still completes and the HSS keeps serving
IMPU2=sip:001010000000002@$REALM
cx mar10 mar --impi "$IMPI2" --impu "$IMPU2" --server-name "$SCSCF"
cx sar3 sar --impi "$IMPI2" --impu "$IMPU2" --server-name "$SCSCF" --sat REGISTRATION
expect "$WORK/sar3.out" result_code 2001 "second user registered"
timeout 40 "${CXC[@]}" serve --count 1 --delay 4500 --wait 20000 >"$WORK/serve2.out" 2>"$WORK/serve2.err" &
SERVE_PID=$!
PIDS+=("$SERVE_PID")
for _ in $(seq 1 100); do grep -q '^ready=1' "$WORK/serve2.out" 2>/dev/null && break; sleep 0.1; done
t0=$(date +%s%N)
code=$(curl -s -m 15 -o /dev/null -w '%{http_code}' -X DELETE "$API/$IMPI2")
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
[ "$code" = 204 ] && ok "DELETE after an RTR timeout: 204 in ${ms} ms" || fail "DELETE 2: $code"
[ $ms -ge 2500 ] && [ $ms -lt 8000 ] && ok "the RTR waited for the 3 s timeout" || fail "DELETE took ${ms} ms"
grep -q "rtr.done impi=$IMPI2 .*status=1" "$WORK/hss.log" && ok "HSS logged the RTR timeout" \
  || fail "no RTR timeout in hss.log"
wait "$SERVE_PID"
cx lir3 lir --impu "$TEL"
expect "$WORK/lir3.out" exp_result_code 5001 "HSS answers after the timeout"

kill -0 "$HSS_PID" 2>/dev/null && ok "ims-hss still running" || fail "ims-hss died"

# 12. Concurrent MARs from five S-CSCFs: every vector gets its own SQN
cat > "$WORK/sub3.json" <<JSON
{"impi": "003@$REALM", "impus": ["sip:003@$REALM"],
 "auth": {"k": "$K", "op": "$OP", "amf": "8000", "sqn": "000000000000"}}
JSON
curl -s -m 5 -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary "@$WORK/sub3.json" "$API"
MPIDS=()
for i in 1 2 3 4 5; do
  timeout 30 "$BIN/cx-client" --realm "$REALM" --peer-port "$DIA_PORT" --identity "scscf-p$i.$REALM" \
    mar --impi "003@$REALM" --impu "sip:003@$REALM" --server-name "$SCSCF" --items 3 \
    --k "$K" --op "$OP" >"$WORK/par$i.out" 2>"$WORK/par$i.err" &
  MPIDS+=($!)
done
for p in "${MPIDS[@]}"; do wait "$p"; done
sqns=$(cat "$WORK"/par?.out | sed -n 's/^item\.[0-9]*\.sqn=//p' | sort -n)
total=$(echo "$sqns" | grep -c .); uniq=$(echo "$sqns" | sort -un | grep -c .)
[ "$total" = 15 ] && [ "$uniq" = 15 ] && ok "15 vectors, 15 distinct SQNs from parallel MARs" \
  || fail "parallel MAR SQNs: total=$total distinct=$uniq"

# 13. RTR to an S-CSCF that is not connected: unreachable at once, the
#     DELETE still completes
cx sar4 sar --identity "scscf9.$REALM" --impi "003@$REALM" --impu "sip:003@$REALM" \
  --server-name "sip:scscf9.$REALM:6060" --sat REGISTRATION
expect "$WORK/sar4.out" result_code 2001 "registered at an S-CSCF that then leaves"
code=$(curl -s -m 15 -o /dev/null -w '%{http_code}' -X DELETE "$API/003@$REALM")
[ "$code" = 204 ] && ok "DELETE with the S-CSCF gone: 204" || fail "DELETE 3: $code"
grep -q "rtr.done impi=003@$REALM .*status=2" "$WORK/hss.log" && ok "RTR reported unreachable" \
  || fail "no unreachable RTR in hss.log"

# 14. Hand-made broken messages over a raw connection (tests/tools/dia-raw.py):
#     each gets the exact answer, then the HSS still serves
python3 "$SRC/tests/tools/dia-raw.py" --port "$DIA_PORT" --realm "$REALM" >"$WORK/raw.out" 2>"$WORK/raw.err"
rawcase() { # name code failed_avp what
  if grep -q "^case=$1 code=$2 failed_avp=$3\$" "$WORK/raw.out"; then ok "$4 ($2, Failed-AVP $3)"
  else fail "$4: $(grep "^case=$1 " "$WORK/raw.out") $(tail -3 "$WORK/raw.err")"; fi
}
rawcase bad_length 5014 607 "Unsigned32 of 3 bytes: DIAMETER_INVALID_AVP_LENGTH"
rawcase unknown_m_avp 5001 64999 "unknown AVP with M bit: DIAMETER_AVP_UNSUPPORTED"
rawcase bad_enum 5004 623 "User-Authorization-Type 7: DIAMETER_INVALID_AVP_VALUE"
rawcase missing_avp 5005 1 "UAR without User-Name: DIAMETER_MISSING_AVP"
rawcase valid 5001 0 "well-formed UAR on the same connection"
grep -q '^case=garbage ' "$WORK/raw.out" && ok "version-2 garbage handled" || fail "garbage case missing"
cx uar8 uar --impi "$IMPI2" --impu "sip:001010000000002@$REALM"
kill -0 "$HSS_PID" 2>/dev/null && expect "$WORK/uar8.out" status OK "HSS serves after the garbage" \
  || fail "ims-hss died on garbage"

# 15. Cx counters in the HSS's /metrics
curl -s -m 5 "http://127.0.0.1:$REST_PORT/metrics" >"$WORK/metrics.txt"
grep -q '^cx_requests_received_total{cmd="MAR",code="2001"} [1-9]' "$WORK/metrics.txt" \
  && ok "/metrics counts answered MARs" || fail "no MAR counter in /metrics"
grep -q '^cx_requests_sent_total{cmd="RTR",outcome="2001"} [1-9]' "$WORK/metrics.txt" \
  && ok "/metrics counts RTRs sent" || fail "no RTR counter in /metrics"

# 16. The HSS restarts under a connected S-CSCF: freeDiameter reconnects
#     by itself (Tc), and the RTR finds the S-CSCF through the stored name
#     (the SAR's Origin-Host was only kept in memory)
cat > "$WORK/sub4.json" <<JSON
{"impi": "004@$REALM", "impus": ["sip:004@$REALM"],
 "auth": {"k": "$K", "op": "$OP", "amf": "8000"}}
JSON
curl -s -m 5 -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary "@$WORK/sub4.json" "$API"
cx sar5 sar --impi "004@$REALM" --impu "sip:004@$REALM" --server-name "$SCSCF" --sat REGISTRATION
expect "$WORK/sar5.out" result_code 2001 "user 4 registered"
timeout 60 "${CXC[@]}" serve --count 1 --wait 40000 >"$WORK/serve3.out" 2>"$WORK/serve3.err" &
SERVE_PID=$!
PIDS+=("$SERVE_PID")
for _ in $(seq 1 100); do grep -q '^ready=1' "$WORK/serve3.out" 2>/dev/null && break; sleep 0.1; done
kill -TERM "$HSS_PID"
for _ in $(seq 1 100); do kill -0 "$HSS_PID" 2>/dev/null || break; sleep 0.1; done
wait "$HSS_PID" 2>/dev/null
"$BIN/ims-hss" -c "$WORK/hss.yaml" >"$WORK/hss2.log" 2>&1 &
HSS_PID=$!
PIDS+=("$HSS_PID")
back=0
for _ in $(seq 1 200); do
  if grep -q "peer.accepted host=scscf.$REALM" "$WORK/hss2.log" 2>/dev/null; then back=1; break; fi
  sleep 0.1
done
[ $back = 1 ] && ok "the S-CSCF reconnected to the restarted HSS" || fail "no reconnection in 20 s"
code=$(curl -s -m 15 -o /dev/null -w '%{http_code}' -X DELETE "$API/004@$REALM")
[ "$code" = 204 ] && ok "DELETE after the restart: 204" || fail "DELETE 4: $code"
wait "$SERVE_PID"; src=$?
[ $src = 0 ] && expect "$WORK/serve3.out" user_name "004@$REALM" "RTR after the restart" \
  || fail "serve3 exit $src: $(cat "$WORK/serve3.out")"
cat "$WORK/hss2.log" >>"$WORK/hss.log"

# 17. A clean stop: SIGTERM closes the Diameter side, no leak reports
kill -TERM "$HSS_PID"
for _ in $(seq 1 100); do kill -0 "$HSS_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$HSS_PID" 2>/dev/null; then
  fail "ims-hss did not stop within 10 s of SIGTERM"
else
  wait "$HSS_PID"; hrc=$?
  [ $hrc = 0 ] && ok "ims-hss exited 0" || fail "ims-hss exit status $hrc"
fi
if grep -q -E 'Sanitizer|runtime error' "$WORK/hss.log" "$WORK"/*.err; then
  fail "sanitizer report: $(grep -l -E 'Sanitizer|runtime error' "$WORK/hss.log" "$WORK"/*.err)"
else
  ok "no sanitizer report from ims-hss or cx-client"
fi
if [ $FAILS -ne 0 ]; then
  echo "---- hss.log (tail)"; tail -40 "$WORK/hss.log"
  echo "$FAILS check(s) failed"; exit 1
fi
echo "all Cx checks passed"
