#!/usr/bin/env python3
"""demo-as: a tiny SIP application server for tests and the lab (UDP and TCP).

It acts as a stateless proxy AS (TS 24.229 §5.7.4 "AS acting as a SIP
proxy"): a request it receives is logged, stamped with an
"X-Demo-AS: <name>" header, its own Route entry is removed, and it is sent
to the next Route entry (the S-CSCF with its odi parameter) or, without
one, to the Request-URI. Responses are relayed back along the Via (over the
TCP connection a request came on, when it came over TCP).
With --answer-register it answers REGISTER itself (a third-party REGISTER
target) with 200 and logs what it got. With --retarget URI it changes the
Request-URI of initial INVITEs (a call diversion AS).

Usage: demo-as.py --port 17091 --name as1 --log FILE [--answer-register]
The log has one line per event: "REQ <method> <ruri>", "HDR <name>: <value>"
for Route, From, To, Contact, Expires, Content-Type, then "END".
Requests go out over TCP when the next hop URI says ;transport=tcp or the
message is larger than 1300 bytes (RFC 3261 §18.1.1), else over UDP.
"""
import argparse
import random
import re
import socket
import sys
import threading

LOGGED = ("route", "from", "to", "contact", "expires", "content-type", "x-demo-as",
          "p-asserted-identity")
MTU = 1300


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
    tcp = re.search(r";transport=tcp", uri, re.I) is not None
    return m.group(1).strip("[]"), int(m.group(2) or default), tcp


def hname(line):
    return line.split(":", 1)[0].strip().lower()


def hval(line):
    return line.split(":", 1)[1].strip() if ":" in line else ""


def build(start, headers, body):
    out = [h for h in headers if hname(h) not in ("content-length", "l")]
    out.append("Content-Length: %d" % len(body))
    return (start + "\r\n" + "\r\n".join(out) + "\r\n\r\n").encode() + body


class DemoAS:
    def __init__(self, a):
        self.a = a
        self.me = "%s:%d" % (a.addr, a.port)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((a.addr, a.port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((a.addr, a.port))
        self.tcp.listen(16)
        self.log = open(a.log, "a", buffering=1)
        self.lock = threading.Lock()
        self.conns = {}      # (host, port) -> outgoing TCP socket
        self.upstream = {}   # branch of the Via below ours -> incoming TCP socket

    # ---- transport ----------------------------------------------------------
    def send(self, data, host, port, tcp, conn=None):
        if conn is not None:
            with self.lock:
                conn.sendall(data)
            return
        if not tcp and len(data) <= MTU:
            self.udp.sendto(data, (host, port))
            return
        with self.lock:
            s = self.conns.get((host, port))
            if s is None:
                s = socket.create_connection((host, port), timeout=3)
                s.settimeout(None)
                self.conns[(host, port)] = s
                threading.Thread(target=self.read_tcp, args=(s,), daemon=True).start()
            s.sendall(data)

    def read_tcp(self, s):
        buf = b""
        while True:
            try:
                chunk = s.recv(65535)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while True:
                buf = buf.lstrip(b"\r\n")
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                m = re.search(rb"\r\n(?:content-length|l)\s*:\s*(\d+)", buf[:end + 2], re.I)
                n = int(m.group(1)) if m else 0
                if len(buf) < end + 4 + n:
                    break
                msg, buf = buf[:end + 4 + n], buf[end + 4 + n:]
                self.handle(msg, None, s)

    def serve_tcp(self):
        while True:
            c, _ = self.tcp.accept()
            threading.Thread(target=self.read_tcp, args=(c,), daemon=True).start()

    def run(self):
        threading.Thread(target=self.serve_tcp, daemon=True).start()
        print("demo-as %s listening on %s (udp, tcp)" % (self.a.name, self.me), file=sys.stderr,
              flush=True)
        while True:
            data, src = self.udp.recvfrom(65535)
            if data.strip():
                self.handle(data, src, None)

    # ---- SIP ------------------------------------------------------------------
    def handle(self, data, src, conn):
        try:
            start, headers, body = split_msg(data)
            if start.startswith("SIP/2.0"):
                self.response(start, headers, body)
            else:
                self.request(start, headers, body, src, conn)
        except Exception as e:  # a broken message must not stop the AS
            print("demo-as: %s" % e, file=sys.stderr, flush=True)

    def response(self, start, headers, body):
        vias = [i for i, h in enumerate(headers) if hname(h) in ("via", "v")]
        if not vias:
            return
        first = vias[0]
        values = split_values(hval(headers[first]))
        if not values or self.me not in values[0]:
            return
        rest = values[1:]
        if rest:
            headers[first] = "Via: " + ", ".join(rest)
            nxt = rest[0]
        else:
            del headers[first]
            if len(vias) < 2:
                return
            nxt = split_values(hval(headers[vias[1] - 1]))[0]
        m = re.search(r"SIP/2\.0/(\w+)\s+([^;:\s]+)(?::(\d+))?", nxt)
        rp = re.search(r";rport=(\d+)", nxt)
        rc = re.search(r";received=([^;\s]+)", nxt)
        br = re.search(r";branch=([^;\s,]+)", nxt)
        host = rc.group(1) if rc else m.group(2)
        port = int(rp.group(1)) if rp else int(m.group(3) or 5060)
        conn = self.upstream.get(br.group(1)) if br else None
        self.send(build(start, headers, body), host, port, m.group(1).upper() == "TCP", conn)

    def request(self, start, headers, body, src, conn):
        a = self.a
        method, ruri = start.split(" ")[0], start.split(" ")[1]
        self.log.write("REQ %s %s\n" % (method, ruri))
        for h in headers:
            if hname(h) in LOGGED:
                self.log.write("HDR %s\n" % h)
        if body:
            self.log.write("BODY %d\n" % len(body))
        self.log.write("END\n")

        if method == "REGISTER" and a.answer_register:
            keep = [h for h in headers if hname(h) in ("via", "v", "from", "f", "to", "t",
                                                         "call-id", "i", "cseq", "contact", "m")]
            keep = [h + (";tag=%s" % a.name if hname(h) in ("to", "t") and "tag=" not in h else "")
                    for h in keep]
            data = build("SIP/2.0 200 OK", keep, b"")
            if conn is not None:
                self.send(data, None, None, True, conn)
            else:
                self.udp.sendto(data, src)
            return

        if a.retarget and method == "INVITE" and not any(
                hname(h) in ("to", "t") and "tag=" in h for h in headers):
            ruri = a.retarget
            start = "%s %s %s" % (method, ruri, start.split(" ")[2])
            self.log.write("RETARGET %s\n" % ruri)

        # pop our Route value, stamp, add our Via, forward
        routes = [i for i, h in enumerate(headers) if hname(h) == "route"]
        target = None
        if routes:
            i = routes[0]
            values = split_values(hval(headers[i]))[1:]
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
            return
        if conn is not None:
            # remember where the answers to this request go back
            vias = [h for h in headers if hname(h) in ("via", "v")]
            br = re.search(r";branch=([^;\s,]+)", split_values(hval(vias[0]))[0]) if vias else None
            if br:
                self.upstream[br.group(1)] = conn
        for i, h in enumerate(headers):
            if hname(h) == "max-forwards":
                headers[i] = "Max-Forwards: %d" % max(0, int(hval(h) or "70") - 1)
        host, port, tcp = target
        headers.append("X-Demo-AS: %s" % a.name)
        size = len(build(start, headers, body)) + 80
        proto = "TCP" if tcp or size > MTU else "UDP"
        if method not in ("ACK", "CANCEL"):
            branch = "z9hG4bK-%s-%08x" % (a.name, random.getrandbits(32))
        else:
            branch = "z9hG4bK-%s-ack" % a.name
        headers.insert(0, "Via: SIP/2.0/%s %s;branch=%s" % (proto, self.me, branch))
        self.send(build(start, headers, body), host, port, proto == "TCP")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--name", default="demo-as")
    ap.add_argument("--log", required=True)
    ap.add_argument("--answer-register", action="store_true")
    ap.add_argument("--retarget", default="",
                    help="replace the Request-URI of initial INVITEs (call diversion)")
    DemoAS(ap.parse_args()).run()


if __name__ == "__main__":
    main()
