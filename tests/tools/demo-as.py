#!/usr/bin/env python3
"""demo-as: a tiny SIP application server for tests and the lab (UDP).

It acts as a stateless proxy AS (TS 24.229 §5.7.4 "AS acting as a SIP
proxy"): a request it receives is logged, stamped with an
"X-Demo-AS: <name>" header, its own Route entry is removed, and it is sent
to the next Route entry (the S-CSCF with its odi parameter) or, without
one, to the Request-URI. Responses are relayed back along the Via.
With --answer-register it answers REGISTER itself (a third-party REGISTER
target) with 200 and logs what it got. With --retarget URI it changes the
Request-URI of initial INVITEs (a call diversion AS).

Usage: demo-as.py --port 17091 --name as1 --log FILE [--answer-register]
The log has one line per event: "REQ <method> <ruri>", "HDR <name>: <value>"
for Route, From, To, Contact, Expires, Content-Type, then "END".
"""
import argparse
import random
import re
import socket
import sys

LOGGED = ("route", "from", "to", "contact", "expires", "content-type", "x-demo-as",
          "p-asserted-identity")


def split_msg(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    return lines[0], lines[1:], body


def split_values(value):
    """Comma-separated header values, commas inside <> or quotes kept."""
    out, cur, depth, quote = [], "", 0, False
    for ch in value:
        if ch == '"':
            quote = not quote
        elif ch == "<" and not quote:
            depth += 1
        elif ch == ">" and not quote:
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def hostport(uri, default=5060):
    m = re.search(r"sips?:(?:[^@;>]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?", uri)
    if not m:
        return None
    return m.group(1).strip("[]"), int(m.group(2) or default)


def hname(line):
    return line.split(":", 1)[0].strip().lower()


def hval(line):
    return line.split(":", 1)[1].strip() if ":" in line else ""


def build(start, headers, body):
    text = start + "\r\n"
    out = []
    for h in headers:
        if hname(h) in ("content-length", "l"):
            continue
        out.append(h)
    out.append("Content-Length: %d" % len(body))
    return (text + "\r\n".join(out) + "\r\n\r\n").encode() + body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--name", default="demo-as")
    ap.add_argument("--log", required=True)
    ap.add_argument("--answer-register", action="store_true")
    ap.add_argument("--retarget", default="",
                    help="replace the Request-URI of initial INVITEs (call diversion)")
    a = ap.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((a.addr, a.port))
    log = open(a.log, "a", buffering=1)
    me = "%s:%d" % (a.addr, a.port)
    print("demo-as %s listening on %s" % (a.name, me), file=sys.stderr, flush=True)
    while True:
        data, src = sock.recvfrom(65535)
        if not data.strip():
            continue
        start, headers, body = split_msg(data)
        if start.startswith("SIP/2.0"):
            # response: drop our Via, send to the next one
            vias = [i for i, h in enumerate(headers) if hname(h) in ("via", "v")]
            if not vias:
                continue
            first = vias[0]
            values = split_values(hval(headers[first]))
            if not values or me not in values[0]:
                continue
            rest = values[1:]
            if rest:
                headers[first] = "Via: " + ", ".join(rest)
                nxt = rest[0]
            else:
                del headers[first]
                if len(vias) < 2:
                    continue
                nxt = split_values(hval(headers[vias[1] - 1]))[0]
            m = re.search(r"SIP/2\.0/\w+\s+([^;:\s]+)(?::(\d+))?", nxt)
            rp = re.search(r";rport=(\d+)", nxt)
            rc = re.search(r";received=([^;\s]+)", nxt)
            host = rc.group(1) if rc else m.group(1)
            port = int(rp.group(1)) if rp else int(m.group(2) or 5060)
            sock.sendto(build(start, headers, body), (host, port))
            continue

        method, ruri = start.split(" ")[0], start.split(" ")[1]
        log.write("REQ %s %s\n" % (method, ruri))
        for h in headers:
            if hname(h) in LOGGED:
                log.write("HDR %s\n" % h)
        if body:
            log.write("BODY %d\n" % len(body))
        log.write("END\n")

        if method == "REGISTER" and a.answer_register:
            keep = [h for h in headers if hname(h) in ("via", "v", "from", "f", "to", "t",
                                                         "call-id", "i", "cseq", "contact", "m")]
            keep = [h + (";tag=%s" % a.name if hname(h) in ("to", "t") and "tag=" not in h else "")
                    for h in keep]
            sock.sendto(build("SIP/2.0 200 OK", keep, b""), src)
            continue

        if a.retarget and method == "INVITE" and not any(
                hname(h) in ("to", "t") and "tag=" in h for h in headers):
            ruri = a.retarget
            start = "%s %s %s" % (method, ruri, start.split(" ")[2])
            log.write("RETARGET %s\n" % ruri)

        # request: pop our Route value, stamp, add our Via, forward
        routes = [i for i, h in enumerate(headers) if hname(h) == "route"]
        target = None
        if routes:
            i = routes[0]
            values = split_values(hval(headers[i]))
            values = values[1:]
            if values:
                headers[i] = "Route: " + ", ".join(values)
                target = hostport(values[0])
            else:
                del headers[i]
                if len(routes) > 1:
                    target = hostport(split_values(hval(headers[routes[1] - 1]))[0])
        if target is None:
            target = hostport(ruri)
        if target is None:
            continue
        for i, h in enumerate(headers):
            if hname(h) == "max-forwards":
                headers[i] = "Max-Forwards: %d" % max(0, int(hval(h) or "70") - 1)
        branch = "z9hG4bK-%s-%08x" % (a.name, random.getrandbits(32))
        if method not in ("ACK", "CANCEL"):
            headers.insert(0, "Via: SIP/2.0/UDP %s;branch=%s" % (me, branch))
        else:
            headers.insert(0, "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-ack" % (me, a.name))
        headers.append("X-Demo-AS: %s" % a.name)
        sock.sendto(build(start, headers, body), target)


if __name__ == "__main__":
    main()
