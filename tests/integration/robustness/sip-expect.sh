# Expected first lines for robustness_sip.sh, sourced by it:
#   expect DAEMON PROTO CASE WANT
# "none": no answer can be formed and the daemon drops the message (a
# response, garbage, no Call-ID so no 400 can name the transaction, a Via
# whose port does not parse so there is no address to answer to);
# "closed": over TCP the daemon closes a connection that carries garbage
# or ends mid-message.
for d in pcscf icscf scscf; do
  for t in udp tcp; do
    expect $d $t no_call_id "none"
    expect $d $t bad_cseq "SIP/2.0 400 Bad CSeq"
    expect $d $t cseq_method_mismatch "SIP/2.0 400 CSeq method mismatch"
    expect $d $t huge_header "SIP/2.0 400 Header too long"      # > 16 KiB in one field
    expect $d $t many_headers "SIP/2.0 400 Too many headers"    # > 256 fields
    expect $d $t via_bad_port "none"
    expect $d $t bad_version "SIP/2.0 505 Version Not Supported" # RFC 4475 §3.1.2.16
    expect $d $t max_forwards_zero "SIP/2.0 483 Too Many Hops"  # RFC 3261 §16.3 step 3
    expect $d $t register_bad_contact "SIP/2.0 400 Bad Contact"
    # the quote swallows the rest of the line: no usable credentials, so
    # the answer is a fresh challenge
    expect $d $t auth_broken_quoting "SIP/2.0 401 Unauthorized"
    expect $d $t stray_response "none"                           # RFC 3261 §16.7 step 2
  done
  expect $d udp garbage "none"
  expect $d tcp garbage "closed"
  expect $d udp clen_larger_than_body "SIP/2.0 400 Bad Content-Length" # RFC 3261 §18.3
  expect $d tcp truncated_then_close "closed"
done
# A NUL inside a header value does not stop the parser (views carry
# lengths): the request is routed like any other and each daemon answers
# as it would without it; OPTIONS to the daemon itself likewise.
for t in udp tcp; do
  # the P-CSCF takes requests only from the flows of registered UEs
  expect pcscf $t nul_in_header "SIP/2.0 403 Forbidden"
  expect pcscf $t options_ok "SIP/2.0 403 Forbidden"
  # the Request-URI sip:<user>@127.0.0.1:<port> names no public identity
  expect icscf $t nul_in_header "SIP/2.0 404 Not Found"
  expect icscf $t options_ok "SIP/2.0 404 Not Found"
  # terminating OPTIONS to a user with no usable contact from here
  expect scscf $t nul_in_header "SIP/2.0 480 Temporarily Unavailable"
  expect scscf $t options_ok "SIP/2.0 200 OK"
done
