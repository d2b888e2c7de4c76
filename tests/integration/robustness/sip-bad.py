#!/usr/bin/env python3
"""sip-bad: sends malformed SIP to a daemon and prints the first line of
what came back, one line per case (robustness in the manner of redis's
tests/unit/protocol.tcl):

  case=<name> got=<status line>        an answer arrived
  case=<name> got=none                 nothing within --wait seconds
  case=<name> got=closed               (tcp) the daemon closed the connection

Each case goes on its own UDP socket (bound to --lport upwards) or TCP
connection, so a late answer to one case is never read as another's.
Cases: all of CASES below, or the names given with --only.

Usage: sip-bad.py --port P [--proto udp|tcp] [--lport L] [--realm R]
                  [--user IMSI] [--wait S] [--only a,b]
"""
import argparse
import os
import socket
import sys

ARGS = None


def hdrs(method="OPTIONS", branch="z9hG4bKbad", callid=True, cseq=None, extra="",
         via=None, ruri=None, body="", clen=None, maxf="70"):
    a = ARGS
    ruri = ruri or "sip:%s@127.0.0.1:%d" % (a.user, a.port)
    # RFC 3261 §17.2.3: a branch seen before (the same case over the
    # other transport, or an earlier run) would match that transaction
    # and get its answer retransmitted there: make each one unique
    branch = "%s-%s-%d" % (branch, a.proto, os.getpid())
    via = via or "SIP/2.0/%s 127.0.0.1:%d;branch=%s;rport" % (a.proto.upper(), a.cur_lport, branch)
    lines = ["%s %s SIP/2.0" % (method, ruri), "Via: " + via]
    if maxf is not None:
        lines.append("Max-Forwards: " + maxf)
    lines += ["From: <sip:%s@%s>;tag=bad1" % (a.user, a.realm), "To: <sip:%s@%s>" % (a.user, a.realm)]
    if callid:
        lines.append("Call-ID: bad-%s-%s@127.0.0.1" % (branch, a.proto))
    lines.append("CSeq: " + (cseq or "1 " + method))
    if extra:
        lines.append(extra)
    lines.append("Content-Length: %d" % (len(body.encode("latin-1")) if clen is None else clen))
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode("latin-1")


def register(extra, branch):
    a = ARGS
    return hdrs("REGISTER", branch, ruri="sip:" + a.realm,
                extra="Contact: <sip:%s@127.0.0.1:%d>;expires=600\r\n%s" % (a.user, a.cur_lport, extra)
                if extra is not None else "")


# name -> (function building the bytes, transports it applies to)
CASES = [
    ("garbage", lambda: b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n", "udp tcp"),
    ("no_call_id", lambda: hdrs(branch="z9hG4bKnocid", callid=False), "udp tcp"),
    ("bad_cseq", lambda: hdrs(branch="z9hG4bKcseq", cseq="one OPTIONS"), "udp tcp"),
    ("cseq_method_mismatch", lambda: hdrs(branch="z9hG4bKcsm", cseq="1 INVITE"), "udp tcp"),
    ("huge_header", lambda: hdrs(branch="z9hG4bKhuge", extra="X-Huge: " + "a" * 20000), "udp tcp"),
    ("many_headers", lambda: hdrs(branch="z9hG4bKmany",
                                  extra="\r\n".join("X-H%d: v" % i for i in range(2000))), "udp tcp"),
    ("nul_in_header", lambda: hdrs(branch="z9hG4bKnul", extra="Subject: a\x00b"), "udp tcp"),
    ("via_bad_port", lambda: hdrs(branch="z9hG4bKport",
                                  via="SIP/2.0/%s 127.0.0.1:99999;branch=z9hG4bKport%d"
                                  % (ARGS.proto.upper(), os.getpid())),
     "udp tcp"),
    ("bad_version", lambda: hdrs(branch="z9hG4bKver").replace(b" SIP/2.0\r\n", b" SIP/3.0\r\n", 1), "udp tcp"),
    ("max_forwards_zero", lambda: hdrs(branch="z9hG4bKmf0", maxf="0"), "udp tcp"),
    ("clen_larger_than_body", lambda: hdrs(branch="z9hG4bKclen", body="v=0\r\n", clen=500), "udp"),
    ("register_bad_contact", lambda: hdrs("REGISTER", "z9hG4bKrbc", ruri="sip:" + ARGS.realm,
                                          extra="Contact: <sip:x@127.0.0.1;expires=600"), "udp tcp"),
    ("auth_broken_quoting", lambda: register('Authorization: Digest username="%s@%s, realm="%s", '
                                             'nonce="abc, uri="sip:%s", response="' %
                                             (ARGS.user, ARGS.realm, ARGS.realm, ARGS.realm),
                                             "z9hG4bKauthq"), "udp tcp"),
    ("stray_response", lambda: ("SIP/2.0 200 OK\r\nVia: SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bKnobody\r\n"
                                "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: stray@x\r\n"
                                "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
                                % (ARGS.proto.upper(), ARGS.port)).encode(), "udp tcp"),
    ("truncated_then_close", lambda: hdrs(branch="z9hG4bKtrunc", body="v=0\r\n", clen=200), "tcp"),
    # the daemon itself (no user part): a keep-alive probe
    ("options_ok", lambda: hdrs(branch="z9hG4bKok", ruri="sip:127.0.0.1:%d" % ARGS.port), "udp tcp"),
]


def first_line(data):
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def run_udp(data):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", ARGS.cur_lport))
    s.settimeout(ARGS.wait)
    try:
        s.sendto(data, ("127.0.0.1", ARGS.port))
        while True:
            got = s.recv(65535)
            line = first_line(got)
            if line.startswith("SIP/2.0 100 "):
                continue  # provisional: wait for the final answer
            return line
    except socket.timeout:
        return "none"
    finally:
        s.close()


def run_tcp(name, data):
    # an ephemeral source port (the answers come back on the connection)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(ARGS.wait)
    try:
        s.connect(("127.0.0.1", ARGS.port))
        s.sendall(data)
        if name == "truncated_then_close":
            s.shutdown(socket.SHUT_WR)  # half the body, then the UE goes away
        buf = b""
        while True:
            chunk = s.recv(65535)
            if not chunk:
                return first_line(buf) if buf else "closed"
            buf += chunk
            while b"\r\n\r\n" in buf:
                line = first_line(buf)
                if not line.startswith("SIP/2.0 100 "):
                    return line
                buf = buf.split(b"\r\n\r\n", 1)[1]
    except socket.timeout:
        return "none"
    except OSError as e:
        return "error:%s" % e.errno
    finally:
        s.close()


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--proto", default="udp", choices=["udp", "tcp"])
    p.add_argument("--lport", type=int, default=20090)
    p.add_argument("--realm", default="ims.mnc001.mcc001.3gppnetwork.org")
    p.add_argument("--user", default="001010000000001")
    p.add_argument("--wait", type=float, default=2.0)
    p.add_argument("--only", default="")
    ARGS = p.parse_args()
    only = set(filter(None, ARGS.only.split(",")))
    n = 0
    for name, build, protos in CASES:
        if ARGS.proto not in protos.split() or (only and name not in only):
            continue
        ARGS.cur_lport = ARGS.lport + n
        n += 1
        data = build()
        got = run_udp(data) if ARGS.proto == "udp" else run_tcp(name, data)
        print("case=%s got=%s" % (name, got), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
