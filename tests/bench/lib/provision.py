#!/usr/bin/env python3
"""Provision bench subscribers in ims-hss over its REST API, on one
keep-alive connection, and write the SIPp injection file.

  provision.py HOST:PORT REALM FIRST_IMSI COUNT PASSWORD CSV_OUT

Subscriber i (0 <= i < COUNT) has IMSI FIRST_IMSI+i (15 digits), private
identity <IMSI>@REALM, public identities sip:<IMSI>@REALM and tel:+<IMSI>,
SIP Digest password PASSWORD and AKA keys of its own. SIPp 3.6.1 takes
aka_K / aka_OP / aka_AMF as raw text bytes (16 / 16 / 2 characters), not
hex, so the keys are texts and the HSS gets their hex: K = "k<IMSI>" (distinct
per subscriber), OP = "imscore-bench-op", AMF = "80" (hex 3830). An existing
subscriber (409) is kept as it is. CSV lines:
<IMSI>;<REALM>;<PASSWORD>;<K text>;<OP text>  (fields 0-4 in SIPp).
Exit status 1 on any other answer than 201 or 409.
"""
import http.client
import json
import sys
import time

OP_TEXT = "imscore-bench-op"
AMF_TEXT = "80"


def text_hex(t):
    """The hex of a key's text bytes, as SIPp 3.6.1 uses them."""
    return t.encode("ascii").hex()


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    hostport, realm, first, count, password, csv_out = sys.argv[1:]
    host, port = hostport.rsplit(":", 1)
    first, count = int(first), int(count)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    t0 = time.time()
    created = existed = 0
    with open(csv_out, "w") as csv:
        csv.write("SEQUENTIAL\n")
        for i in range(count):
            imsi = "%015d" % (first + i)
            k_text = "k" + imsi
            body = json.dumps({
                "impi": "%s@%s" % (imsi, realm),
                "impus": ["sip:%s@%s" % (imsi, realm), "tel:+%s" % imsi],
                "auth": {"k": text_hex(k_text), "op": text_hex(OP_TEXT),
                         "amf": text_hex(AMF_TEXT), "sqn": "000000000000",
                         "password": password}})
            conn.request("POST", "/api/v1/subscribers", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            if resp.status == 201:
                created += 1
            elif resp.status == 409:
                existed += 1
            else:
                sys.exit("provision.py: POST %s: HTTP %d" % (imsi, resp.status))
            csv.write("%s;%s;%s;%s;%s\n" % (imsi, realm, password, k_text, OP_TEXT))
    print("provisioned %d subscribers (%d new, %d existed) in %.1f s"
          % (count, created, existed, time.time() - t0))


if __name__ == "__main__":
    main()
