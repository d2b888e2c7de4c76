#!/usr/bin/env python3
"""Provision bench subscribers in ims-hss over its REST API, on one
keep-alive connection, and write the SIPp injection file.

  provision.py HOST:PORT REALM FIRST_IMSI COUNT PASSWORD CSV_OUT

Subscriber i (0 <= i < COUNT) has IMSI FIRST_IMSI+i (15 digits), private
identity <IMSI>@REALM, public identities sip:<IMSI>@REALM and tel:+<IMSI>,
SIP Digest password PASSWORD and the TS 35.208 set-1 AKA keys. An existing
subscriber (409) is kept. CSV lines: <IMSI>;<REALM>;<PASSWORD>.
Exit status 1 on any other answer than 201 or 409.
"""
import http.client
import json
import sys
import time


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
            body = json.dumps({
                "impi": "%s@%s" % (imsi, realm),
                "impus": ["sip:%s@%s" % (imsi, realm), "tel:+%s" % imsi],
                "auth": {"k": "465b5ce8b199b49faa5f0a2ee238a6bc",
                         "op": "cdc202d5123e20f62b6d676ac72cb318",
                         "amf": "8000", "sqn": "000000000000", "password": password}})
            conn.request("POST", "/api/v1/subscribers", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            if resp.status == 201:
                created += 1
            elif resp.status == 409:
                existed += 1
            else:
                sys.exit("provision.py: POST %s: HTTP %d" % (imsi, resp.status))
            csv.write("%s;%s;%s\n" % (imsi, realm, password))
    print("provisioned %d subscribers (%d new, %d existed) in %.1f s"
          % (count, created, existed, time.time() - t0))


if __name__ == "__main__":
    main()
