#!/usr/bin/env python3
"""A scripted SIP user agent on UDP for the services_*.sh tests (issue 9).

It plays the roles SIPp cannot play simply: a device that rings and then
sees a CANCEL (it must answer 487 with the INVITE's Via set), a device or
an application server that answers 3xx, a presence server that answers a
SUBSCRIBE and then sends a NOTIFY along the dialog's route set (RFC 3261
§12.1.1, RFC 6665 §4.2.1), a store-and-forward server that accepts MESSAGE.

Reactions per method: --on METHOD=ACTION[,ACTION...], actions run in order
for each new request of that method:
  <code>            send that response (180, 200, 486, 603...)
  <code>sdp         the same with an SDP answer (INVITE 200)
  3xx:<uri>         a redirect with Contact: <uri> (e.g. 302:sip:x@realm)
  sleep:<seconds>   wait before the next action
  hold              do nothing more: wait for CANCEL (answered 200 + 487)
  notify            (SUBSCRIBE) after the answer, send a NOTIFY in the dialog
An INVITE with no --on gets 200sdp; other methods get 200.

As a UE it can also send one out-of-dialog request first: --send METHOD
--to URI --from URI --proxy IP:PORT [--hdr "Name: value"]... [--body TEXT
--ctype TYPE]; the final response to it is logged "FINAL <code>" and
printed, and counts as a response for --expect-responses; --want CODE
makes any other final an error (exit 2). --resubscribe: after a 200 to
the SUBSCRIBE, end the subscription with a SUBSCRIBE (Expires: 0) inside
the dialog, along the reversed Record-Route set.

Every message received is appended to --log as "RX <first line> <CSeq>
@<unix time>" followed by the message, every response sent as "TX <status line>". The agent exits
0 once --expect requests (retransmissions not counted; ACK and CANCEL count)
and --expect-responses responses have arrived, 1 on --timeout.
"""
import argparse
import random
import re
import select
import socket
import sys
import time


def parse(data):
    text = data.decode("utf-8", "replace")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    hdrs = []
    for ln in lines[1:]:
        if ln[:1] in (" ", "\t") and hdrs:
            hdrs[-1] = (hdrs[-1][0], hdrs[-1][1] + " " + ln.strip())
        elif ":" in ln:
            n, v = ln.split(":", 1)
            hdrs.append((n.strip(), v.strip()))
    return lines[0], hdrs, body


COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
           "c": "content-type", "o": "event"}


def norm(name):
    n = name.lower()
    return COMPACT.get(n, n)


def values(hdrs, name):
    """All values of a header, comma-separated lists split outside <> and quotes."""
    out = []
    for n, v in hdrs:
        if norm(n) != name:
            continue
        if name in ("via", "record-route", "route", "contact"):
            cur, ang, quo = "", False, False
            for ch in v:
                if ch == '"' and not ang:
                    quo = not quo
                elif ch == "<" and not quo:
                    ang = True
                elif ch == ">" and not quo:
                    ang = False
                if ch == "," and not ang and not quo:
                    out.append(cur.strip())
                    cur = ""
                else:
                    cur += ch
            if cur.strip():
                out.append(cur.strip())
        else:
            out.append(v)
    return out


def first(hdrs, name):
    v = values(hdrs, name)
    return v[0] if v else ""


def uri_of(nameaddr):
    m = re.search(r"<([^>]*)>", nameaddr)
    return m.group(1) if m else nameaddr.split(";")[0].strip()


def hostport(uri):
    m = re.match(r"sips?:(?:[^@;>]*@)?([^:;>]+)(?::(\d+))?", uri)
    return m.group(1), int(m.group(2) or 5060)


class UA:
    def __init__(self, a):
        self.a = a
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((a.ip, a.port))
        # RFC 3261 §18.1.1: a proxy sends a request over 1300 bytes on TCP.
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((a.ip, a.port))
        self.lsock.listen(8)
        self.conns = {}      # TCP socket -> bytes buffered
        self.log = open(a.log, "a")
        self.on = {}
        for spec in a.on:
            meth, _, acts = spec.partition("=")
            self.on[meth.upper()] = [x for x in acts.split(",") if x]
        self.seen = {}       # (branch, method) -> last response bytes
        self.pending = {}    # INVITE branch -> (hdrs, src) while no final sent
        self.tag = "ua%06d" % random.randrange(1000000)
        self.nreq = 0
        self.nrsp = 0
        self.final = 0
        self.routes = {}     # Call-ID -> route set of a dialog we serve (notifier)
        self.cseqs = {}      # Call-ID -> last CSeq we sent in it

    def write(self, line, msg=None):
        self.log.write(line + "\n")
        if msg is not None:
            self.log.write(msg.rstrip("\r\n") + "\n\n")
        self.log.flush()

    def respond(self, hdrs, src, code, reason, extra="", body="", ctype=""):
        lines = ["SIP/2.0 %d %s" % (code, reason)]
        for v in values(hdrs, "via"):
            lines.append("Via: " + v)
        lines.append("From: " + first(hdrs, "from"))
        to = first(hdrs, "to")
        if code > 100 and ";tag=" not in to:
            to += ";tag=" + self.tag
        lines.append("To: " + to)
        lines.append("Call-ID: " + first(hdrs, "call-id"))
        lines.append("CSeq: " + first(hdrs, "cseq"))
        meth = first(hdrs, "cseq").split()[-1].upper()
        if meth in ("INVITE", "SUBSCRIBE") and 100 < code < 300:
            for rr in values(hdrs, "record-route"):
                lines.append("Record-Route: " + rr)
            lines.append("Contact: <sip:%s@%s:%d>" % (self.a.user, self.a.ip, self.a.port))
        if extra:
            lines.extend(x for x in extra.split("\r\n") if x)
        if body:
            lines.append("Content-Type: " + ctype)
        lines.append("Content-Length: %d" % len(body.encode()))
        msg = "\r\n".join(lines) + "\r\n\r\n" + body
        self.out(src, msg.encode())
        self.write("TX " + lines[0] + " " + meth)
        return msg.encode()

    def out(self, dst, data):
        """Sends on the TCP connection a request came on, else by UDP."""
        if isinstance(dst, socket.socket):
            try:
                dst.sendall(data)
            except OSError:
                pass
        else:
            self.sock.sendto(data, dst)

    def sdp(self):
        return ("v=0\r\no=- 7 7 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 40010 RTP/AVP 0\r\n"
                % (self.a.ip, self.a.ip))

    def notify(self, hdrs):
        """RFC 6665 §4.2.1.2 (notifier): NOTIFY in the new dialog, along the
        route set taken from Record-Route in order (UAS, RFC 3261 §12.1.1)."""
        cid = first(hdrs, "call-id")
        routes = values(hdrs, "record-route") or self.routes.get(cid, [])
        self.routes[cid] = routes
        self.cseqs[cid] = self.cseqs.get(cid, 0) + 1
        ended = first(hdrs, "expires").strip() == "0"
        target = uri_of(first(hdrs, "contact"))
        nxt = uri_of(routes[0]) if routes else target
        to = first(hdrs, "to")
        if ";tag=" not in to:
            to += ";tag=" + self.tag
        body = ('<?xml version="1.0" encoding="UTF-8"?>\r\n'
                '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="%s">'
                '<tuple id="t1"><status><basic>open</basic></status></tuple></presence>\r\n'
                % uri_of(to))
        lines = ["NOTIFY %s SIP/2.0" % target,
                 "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%08x;rport" % (self.a.ip, self.a.port,
                                                                      random.randrange(1 << 32)),
                 "Max-Forwards: 70"]
        lines += ["Route: " + r for r in routes]
        lines += ["From: " + to, "To: " + first(hdrs, "from"), "Call-ID: " + first(hdrs, "call-id"),
                  "CSeq: %d NOTIFY" % self.cseqs[cid], "Event: presence",
                  "Subscription-State: " + ("terminated;reason=timeout" if ended else "active;expires=600"),
                  "Contact: <sip:%s@%s:%d>" % (self.a.user, self.a.ip, self.a.port),
                  "Content-Type: application/pidf+xml", "Content-Length: %d" % len(body.encode())]
        msg = "\r\n".join(lines) + "\r\n\r\n" + body
        self.sock.sendto(msg.encode(), hostport(nxt))
        self.write("TX NOTIFY " + target)

    def request(self, first_line, hdrs, body, src):
        meth = first_line.split()[0].upper()
        via = first(hdrs, "via")
        m = re.search(r"branch=([^;,\s]+)", via)
        branch = m.group(1) if m else ""
        key = (branch, meth)
        if key in self.seen:
            if self.seen[key]:
                self.out(src, self.seen[key])
            return
        self.seen[key] = b""
        self.nreq += 1
        if meth == "ACK":
            return
        if meth == "CANCEL":
            inv = self.pending.pop(branch, None)
            self.respond(hdrs, src, 200 if inv else 481, "OK" if inv else "Call Does Not Exist")
            if inv:
                self.seen[(branch, "INVITE")] = self.respond(inv[0], inv[1], 487, "Request Terminated")
            return
        acts = self.on.get(meth, ["200sdp"] if meth == "INVITE" else ["200"])
        if meth == "INVITE":
            self.pending[branch] = (hdrs, src)
        for act in acts:
            if meth == "INVITE" and branch not in self.pending:
                return  # cancelled meanwhile
            if act.startswith("sleep:"):
                self.wait(float(act[6:]))
                continue
            if act == "hold":
                return
            if act == "notify":
                self.notify(hdrs)
                continue
            code_s, _, arg = act.partition(":")
            withsdp = code_s.endswith("sdp")
            code = int(code_s[:3])
            reasons = {180: "Ringing", 183: "Session Progress", 200: "OK", 202: "Accepted",
                       480: "Temporarily Unavailable", 486: "Busy Here", 603: "Decline",
                       301: "Moved Permanently", 302: "Moved Temporarily", 404: "Not Found"}
            extra = ""
            if 300 <= code < 400:
                extra = "Contact: <%s>" % arg
            if meth == "PUBLISH" and code == 200:
                extra = "SIP-ETag: et%06d\r\nExpires: 600" % random.randrange(1000000)
            if meth == "SUBSCRIBE" and code == 200:
                extra = "Expires: 600"
            out = self.respond(hdrs, src, code, reasons.get(code, "Whatever"), extra,
                               self.sdp() if withsdp else "", "application/sdp")
            if code >= 200:
                self.seen[key] = out
                self.pending.pop(branch, None)

    def handle(self, data, src):
        try:
            first_line, hdrs, body = parse(data)
        except Exception:  # noqa: BLE001 - garbage on a test socket
            return
        if not first_line:
            return
        self.write("RX %s %s @%.3f" % (first_line, first(hdrs, "cseq"), time.time()),
                   data.decode("utf-8", "replace"))
        if first_line.startswith("SIP/2.0"):
            code = int(first_line.split()[1])
            if code >= 200:
                self.nrsp += 1
                if first(hdrs, "cseq").split()[-1].upper() == self.a.send and not self.final:
                    self.final = code
                    self.write("FINAL %d" % code)
                    print("FINAL %d" % code, flush=True)
                    if self.a.resubscribe and code == 200:
                        self.resubscribe(hdrs)
        else:
            self.request(first_line, hdrs, body, src)

    def wait(self, seconds):
        end = time.time() + seconds
        while True:
            left = end - time.time()
            if left <= 0:
                return
            rd, _, _ = select.select([self.sock, self.lsock] + list(self.conns), [], [], left)
            for r in rd:
                if r is self.sock:
                    data, src = self.sock.recvfrom(65535)
                    self.handle(data, src)
                elif r is self.lsock:
                    c, _ = self.lsock.accept()
                    self.conns[c] = b""
                else:
                    self.tcp_read(r)

    def tcp_read(self, c):
        """Frames SIP messages on a stream by Content-Length (RFC 3261 §18.3)."""
        try:
            chunk = c.recv(65535)
        except OSError:
            chunk = b""
        if not chunk:
            self.conns.pop(c, None)
            c.close()
            return
        buf = self.conns[c] + chunk
        while True:
            buf = buf.lstrip(b"\r\n")
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            m = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", buf[:end])
            total = end + 4 + (int(m.group(1)) if m else 0)
            if len(buf) < total:
                break
            msg, buf = buf[:total], buf[total:]
            self.handle(msg, c)
        if c in self.conns:
            self.conns[c] = buf

    def send(self):
        """An out-of-dialog request through the P-CSCF (RFC 3261 §8.1.1)."""
        a = self.a
        body = a.body.replace("\\n", "\r\n") if a.body else ""
        lines = ["%s %s SIP/2.0" % (a.send, a.to),
                 "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%08x;rport" % (a.ip, a.port, random.randrange(1 << 32)),
                 "Max-Forwards: 70", "Route: <sip:%s;lr>" % a.proxy,
                 "From: <%s>;tag=%s" % (a.from_uri, self.tag), "To: <%s>" % a.to,
                 "Call-ID: %s-%08x@%s" % (a.send.lower(), random.randrange(1 << 32), a.ip),
                 "CSeq: 1 %s" % a.send,
                 "Contact: <sip:%s@%s:%d>" % (a.user, a.ip, a.port)]
        lines += a.hdr
        if body:
            lines.append("Content-Type: " + a.ctype)
        lines.append("Content-Length: %d" % len(body.encode()))
        msg = "\r\n".join(lines) + "\r\n\r\n" + body
        host, port = a.proxy.split(":")
        self.sock.sendto(msg.encode(), (host, int(port)))
        self.write("TX " + lines[0], msg)

    def resubscribe(self, rsp):
        """Ends the subscription inside its dialog (RFC 6665 §4.1.2.3:
        SUBSCRIBE with Expires: 0), along the route set of the 200
        reversed (RFC 3261 §12.1.2)."""
        a = self.a
        routes = list(reversed(values(rsp, "record-route")))
        target = uri_of(first(rsp, "contact"))
        nxt = uri_of(routes[0]) if routes else target
        lines = ["SUBSCRIBE %s SIP/2.0" % target,
                 "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%08x;rport" % (a.ip, a.port, random.randrange(1 << 32)),
                 "Max-Forwards: 70"]
        lines += ["Route: " + r for r in routes]
        lines += ["From: " + first(rsp, "from"), "To: " + first(rsp, "to"),
                  "Call-ID: " + first(rsp, "call-id"), "CSeq: 2 SUBSCRIBE", "Event: presence",
                  "Expires: 0", "Contact: <sip:%s@%s:%d>" % (a.user, a.ip, a.port), "Content-Length: 0"]
        msg = "\r\n".join(lines) + "\r\n\r\n"
        self.sock.sendto(msg.encode(), hostport(nxt))
        self.write("TX " + lines[0], msg)

    def run(self):
        end = time.time() + self.a.timeout
        if self.a.send:
            self.send()
        while self.nreq < self.a.expect or self.nrsp < self.a.expect_responses:
            left = end - time.time()
            if left <= 0:
                self.write("TIMEOUT requests=%d responses=%d" % (self.nreq, self.nrsp))
                return 1
            self.wait(min(left, 0.2))
        self.wait(self.a.linger)
        self.write("DONE requests=%d responses=%d" % (self.nreq, self.nrsp))
        if self.a.want and self.final != self.a.want:
            return 2
        return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ip", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", default="ua")
    p.add_argument("--log", required=True)
    p.add_argument("--on", action="append", default=[])
    p.add_argument("--expect", type=int, default=1)
    p.add_argument("--expect-responses", type=int, default=0)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--linger", type=float, default=0.3)
    p.add_argument("--send", default="")
    p.add_argument("--to", default="")
    p.add_argument("--from", dest="from_uri", default="")
    p.add_argument("--proxy", default="")
    p.add_argument("--hdr", action="append", default=[])
    p.add_argument("--body", default="")
    p.add_argument("--ctype", default="text/plain")
    p.add_argument("--want", type=int, default=0)
    p.add_argument("--resubscribe", action="store_true",
                   help="after a 200 to --send SUBSCRIBE, unsubscribe in the dialog")
    a = p.parse_args()
    a.send = a.send.upper()
    return UA(a).run()


if __name__ == "__main__":
    sys.exit(main())
