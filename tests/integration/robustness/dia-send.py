#!/usr/bin/env python3
"""dia-send: after a capabilities exchange (RFC 6733 §5.3), sends each
given file as one Diameter message to a peer over TCP and prints what came
back, one line per file:

  file=<name> code=<Result-Code or Experimental-Result-Code> failed_avp=<code>
  file=<name> closed=1          (the peer closed the connection)
  file=<name> timeout=1         (no answer within --wait seconds)

A file whose header is not a request of length = its size is sent as is
(garbage); others get a fresh hop-by-hop id so answers can be matched.
After a closed connection the next file goes on a new one.

Usage: dia-send.py --port P [--host 127.0.0.1] [--identity ID] [--realm R]
                   [--wait S] FILE...
"""
import argparse
import os
import socket
import struct
import sys

V3GPP, CX_APP = 10415, 16777216


def avp(code, data, vendor=None):
    flags = 0x40 | (0x80 if vendor else 0)
    hdr = 12 if vendor else 8
    out = struct.pack("!IB", code, flags) + (hdr + len(data)).to_bytes(3, "big")
    if vendor:
        out += struct.pack("!I", vendor)
    return out + data + b"\0" * ((4 - len(data) % 4) % 4)


def u32(code, v, vendor=None):
    return avp(code, struct.pack("!I", v), vendor)


def msg(code, app, avps, request=True, hbh=1, e2e=1):
    body = b"".join(avps)
    return (b"\x01" + (20 + len(body)).to_bytes(3, "big") +
            bytes([0x80 if request else 0]) + code.to_bytes(3, "big") +
            struct.pack("!III", app, hbh, e2e) + body)


def parse_avps(data):
    out, i = [], 0
    while i + 8 <= len(data):
        code, flags = struct.unpack("!IB", data[i:i + 5])
        length = int.from_bytes(data[i + 5:i + 8], "big")
        if length < 8:
            break
        hdr = 12 if flags & 0x80 else 8
        out.append((code, data[i + hdr:i + length]))
        i += length + ((4 - length % 4) % 4)
    return out


def result_of(m):
    code, failed = 0, 0
    for c, v in parse_avps(m[20:]):
        if c == 268 and len(v) >= 4:
            code = struct.unpack("!I", v[:4])[0]
        elif c == 297:
            for cc, vv in parse_avps(v):
                if cc == 298 and len(vv) >= 4:
                    code = struct.unpack("!I", vv[:4])[0]
        elif c == 279:
            inner = parse_avps(v)
            if inner:
                failed = inner[0][0]
    return code, failed


def recv_msg(sock):
    buf = b""
    while len(buf) < 4:
        chunk = sock.recv(4 - len(buf))
        if not chunk:
            return None
        buf += chunk
    length = int.from_bytes(buf[1:4], "big")
    while len(buf) < length:
        chunk = sock.recv(length - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def recv_answer(sock, args, hbh):
    """The answer with this hop-by-hop id (DWRs on the way are answered)."""
    while True:
        m = recv_msg(sock)
        if m is None:
            return None
        is_req = m[4] & 0x80
        code = int.from_bytes(m[5:8], "big")
        m_hbh, m_e2e = struct.unpack("!II", m[12:20])
        if is_req and code == 280:
            sock.sendall(msg(280, 0, [u32(268, 2001), avp(264, args.identity.encode()),
                                      avp(296, args.realm.encode())],
                             request=False, hbh=m_hbh, e2e=m_e2e))
            continue
        if not is_req and (hbh is None or m_hbh == hbh):
            return m


def connect(args):
    s = socket.create_connection((args.host, args.port), timeout=args.wait)
    s.sendall(msg(257, 0, [
        avp(264, args.identity.encode()), avp(296, args.realm.encode()),
        avp(257, struct.pack("!H", 1) + socket.inet_aton("127.0.0.1")),
        u32(266, 0), avp(269, b"dia-send"),
        avp(260, u32(266, V3GPP) + u32(258, CX_APP))], hbh=0x7000))
    cea = recv_answer(s, args, 0x7000)
    if cea is None or result_of(cea)[0] != 2001:
        raise SystemExit("CER refused")
    return s


def disconnect(sock, args):
    """RFC 6733 §5.4: DPR/DPA before closing, so the peer takes the next
    connection of this identity at once (after a plain close it would be
    SUSPECT, then REOPEN waiting for watchdog exchanges)."""
    try:
        sock.sendall(msg(282, 0, [avp(264, args.identity.encode()), avp(296, args.realm.encode()),
                                  u32(273, 0)], hbh=0x7001))
        recv_answer(sock, args, 0x7001)
    except OSError:
        pass
    sock.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--realm", default="ims.mnc001.mcc001.3gppnetwork.org")
    p.add_argument("--identity", default=None)
    p.add_argument("--wait", type=float, default=3.0)
    p.add_argument("files", nargs="+")
    args = p.parse_args()
    if not args.identity:
        args.identity = "dia-send-%d.%s" % (os.getpid(), args.realm)
    sock = None
    for n, path in enumerate(args.files):
        name = os.path.basename(path)
        with open(path, "rb") as f:
            data = f.read()
        if sock is None:
            sock = connect(args)
        framed = (len(data) >= 20 and data[0] == 1 and
                  int.from_bytes(data[1:4], "big") == len(data) and data[4] & 0x80)
        hbh = 0x100 + n
        if framed:
            data = data[:12] + struct.pack("!I", hbh) + data[16:]
        try:
            sock.sendall(data)
            ans = recv_answer(sock, args, hbh if framed else None)
        except socket.timeout:
            print("file=%s timeout=1" % name, flush=True)
            continue  # (the connection stays up)
        except OSError:
            ans = None
        if ans is None:
            print("file=%s closed=1" % name, flush=True)
            sock.close()
            sock = None
            continue
        code, failed = result_of(ans)
        print("file=%s code=%d failed_avp=%d" % (name, code, failed), flush=True)
    if sock:
        disconnect(sock, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
