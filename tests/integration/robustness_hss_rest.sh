#!/usr/bin/env bash
# Robustness of the HSS REST API (SPEC "HSS REST API" + flow 5): bodies that
# are not what the API expects get a 400 naming the field (or 413 above the
# 1 MiB body limit, announced or chunked), odd paths and queries get a clear
# 4xx, and nothing is half written: a stored subscriber reads back byte for
# byte after every refused PUT, and the daemon keeps serving.
# (Field validation of good-shaped records and kill -9 during writes are in
# hss_rest.sh.)
set -u
: "${BIN:?}" "${SRC:?}" "${WORK:?}"
REALM=ims.mnc001.mcc001.3gppnetwork.org
REST=20102 DIA=20114
API=http://127.0.0.1:$REST/api/v1/subscribers
IMPI=001010000000001@$REALM
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$SRC/tests/lsan.supp:print_suppressions=0}
rm -rf "$WORK" && mkdir -p "$WORK"
cd "$WORK" || exit 1
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
for port in $REST $DIA; do
  if ss -ltn 2>/dev/null | grep -q "[:.]$port "; then
    echo "FAIL: port $port is already in use (another run of this test?)"; exit 1
  fi
done
cat > hss.yaml <<YAML
log_level: info
realm: $REALM
db: $WORK/hss.db
rest: {addr: 127.0.0.1, port: $REST}
diameter:
  listen: {addr: 127.0.0.1, port: $DIA}
YAML
"$BIN/ims-hss" -c hss.yaml >hss.log 2>&1 &
HSS_PID=$!; PIDS+=("$HSS_PID")
up=0
for _ in $(seq 1 100); do
  curl -s -m 1 -o /dev/null "http://127.0.0.1:$REST/healthz" && { up=1; break; }
  kill -0 "$HSS_PID" 2>/dev/null || break
  sleep 0.1
done
[ $up = 1 ] || { echo "FAIL: ims-hss did not start"; tail -20 hss.log; exit 1; }

CODE= BODY=
call() { # METHOD URL BODYFILE [extra curl args]
  local m=$1 u=$2 f=$3; shift 3
  CODE=$(curl -s -m 10 -o resp.out -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' \
         ${f:+--data-binary "@$f"} "$@" "$u")
  BODY=$(tr -d '\0' <resp.out)
}
expect() { # what code body-substring
  if [ "$CODE" = "$2" ] && grep -qF -- "$3" <<<"$BODY"; then ok "$1 -> $CODE $3"
  else fail "$1: got $CODE '$BODY', want $2 with '$3'"; fi
}

cat > good.json <<JSON
{"impi": "$IMPI", "impus": ["sip:001010000000001@$REALM", "tel:+15550000001"],
 "auth": {"k": "465b5ce8b199b49faa5f0a2ee238a6bc", "op": "cdc202d5123e20f62b6d676ac72cb318",
          "amf": "8000", "sqn": "000000000000", "password": "secret"},
 "ifcs": []}
JSON
call POST "$API" good.json
expect "POST a subscriber" 201 "\"impi\":\"$IMPI\""
call GET "$API/$IMPI?secrets=1" ""
cp resp.out before.json

# --- bodies of the wrong shape: 400 naming the field ---------------------------
bad() { # name expected-substring json-text
  printf '%s' "$3" > "bad_$1.json"
  call POST "$API" "bad_$1.json"
  expect "POST $1" 400 "$2"
  call PUT "$API/$IMPI" "bad_$1.json"
  expect "PUT $1" 400 "$2"
}
bad not_an_object '"error":"body: ' '[1, 2, 3]'
bad impus_not_a_list '"error":"impus: ' "{\"impi\": \"$IMPI\", \"impus\": \"sip:x@$REALM\", \"auth\": {\"k\": \"465b5ce8b199b49faa5f0a2ee238a6bc\", \"op\": \"cdc202d5123e20f62b6d676ac72cb318\"}}"
bad impi_number '"error":"impi: ' '{"impi": 12, "impus": ["sip:a@b"], "auth": {"k": "465b5ce8b199b49faa5f0a2ee238a6bc", "op": "cdc202d5123e20f62b6d676ac72cb318"}}'
bad k_number '"error":"auth.k: ' "{\"impi\": \"$IMPI\", \"impus\": [\"sip:001010000000001@$REALM\"], \"auth\": {\"k\": 465, \"op\": \"cdc202d5123e20f62b6d676ac72cb318\"}}"
bad ifcs_not_a_list '"error":"ifcs: ' "{\"impi\": \"$IMPI\", \"impus\": [\"sip:001010000000001@$REALM\"], \"auth\": {\"k\": \"465b5ce8b199b49faa5f0a2ee238a6bc\", \"op\": \"cdc202d5123e20f62b6d676ac72cb318\"}, \"ifcs\": {}}"
bad truncated '"error":"body: invalid JSON' "{\"impi\": \"$IMPI\", \"impus\": [\"sip:"
bad nul_in_string '"error":"body: invalid JSON' "{\"impi\": \"a\\u0000b@$REALM\", \"impus\": [\"sip:001010000000001@$REALM\"], \"auth\": {\"k\": \"465b5ce8b199b49faa5f0a2ee238a6bc\", \"op\": \"cdc202d5123e20f62b6d676ac72cb318\"}}"
bad deep_nesting '"error":"body: ' "$(printf '%.0s[' $(seq 1 5000))"
printf '{"impi": "\xff\xfe@x", "impus": []}' > bad_utf8.json
call POST "$API" bad_utf8.json
expect "POST invalid UTF-8" 400 '"error":"body: '
: > empty.json
call POST "$API" empty.json
expect "POST empty body" 400 '"error":"body: '

# --- too large: 413, announced or streamed --------------------------------------
head -c $((1024 * 1024 + 100)) /dev/zero | tr '\0' ' ' > big.json
call POST "$API" big.json
expect "POST 1 MiB + 100 bytes" 413 "too large"
call PUT "$API/$IMPI" big.json -H 'Transfer-Encoding: chunked'
expect "PUT 1 MiB + 100 bytes, chunked" 413 "too large"

# --- paths and queries ------------------------------------------------------------
# libmicrohttpd hands the path over as a C string; a decoded %00 would cut
# ".../a%00b" to impi "a" and act on it: %00 is refused with a clear 400
call GET "$API/%00" ""
expect "GET .../%00" 400 '"error":"path: a NUL byte'
call GET "$API/nobody%00@$REALM" ""
expect "GET an impi with %00" 400 '"error":"path: a NUL byte'
call DELETE "$API/$IMPI%00x" ""
expect "DELETE an impi with %00 appended" 400 '"error":"path: a NUL byte'
call GET "$API/$IMPI" ""
expect "the subscriber is still there" 200 "\"impi\""
call GET "$API/$(head -c 5000 /dev/zero | tr '\0' a)" ""
[ "${CODE:0:1}" = 4 ] && ok "GET a 5000-character impi -> $CODE" || fail "GET long impi: $CODE $BODY"
call GET "$API?offset=-1&limit=10" ""
expect "GET page offset -1" 400 '"error":"offset: '
call GET "$API?offset=x" ""
expect "GET page offset x" 400 '"error":"offset: '
call DELETE "$API/nobody@$REALM" ""
expect "DELETE unknown" 404 '"error":"impi: '
call PATCH "$API/$IMPI" good.json
[ "$CODE" = 405 ] || [ "$CODE" = 404 ] && ok "PATCH -> $CODE" || fail "PATCH: $CODE $BODY"

# --- nothing half written, still serving ------------------------------------------
call GET "$API/$IMPI?secrets=1" ""
cmp -s resp.out before.json && ok "the subscriber reads back unchanged after every refused write" \
  || fail "record changed: $(diff before.json resp.out | head -5)"
kill -0 "$HSS_PID" 2>/dev/null && ok "ims-hss still running" || fail "ims-hss died"
[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REST/healthz")" = 200 ] \
  && ok "/healthz 200" || fail "/healthz"
if grep -q "ERROR: AddressSanitizer\|runtime error:" hss.log; then
  fail "sanitizer report"; grep -A5 "AddressSanitizer\|runtime error:" hss.log | head
fi
[ "$FAILS" = 0 ] && echo "robustness_hss_rest: all passed" || echo "robustness_hss_rest: $FAILS failure(s)"
[ "$FAILS" = 0 ]
