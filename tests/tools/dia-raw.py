#!/usr/bin/env python3
"""dia-raw: send hand-built (and deliberately broken) Diameter messages to a
peer over TCP and print what comes back, one `key=value` line per case.

It does the capabilities exchange itself (CER/CEA, RFC 6733 §5.3) and then
runs the robustness cases of tests/integration/hss_cx.sh against the HSS:

  bad_length     MAR whose SIP-Number-Auth-Items (Unsigned32) has 3 bytes
  unknown_m_avp  UAR carrying an unknown AVP with the M bit set
  bad_enum       UAR with User-Authorization-Type = 7
  missing_avp    UAR without User-Name
  valid          a well-formed UAR for an unknown user
  garbage        20 bytes with Diameter version 2 (the peer may close)

(The caller then checks with cx-client that the peer still serves.)

Usage: dia-raw.py --port 3868 [--host 127.0.0.1] [--realm R] [--identity ID]
(default identity: dia-raw-<pid>.<realm>)
Output per case: case=<name> code=<Result-Code or Experimental-Result-Code>
failed_avp=<code of the AVP inside Failed-AVP, 0 if none> (or closed=1).
"""
import argparse
import os
import random
import socket
import struct
import sys

VENDOR_3GPP = 10415
CX_APP = 16777216
FLAG_V, FLAG_M = 0x80, 0x40


def avp(code, data, vendor=None, mandatory=True):
    flags = (FLAG_M if mandatory else 0) | (FLAG_V if vendor else 0)
    hdr_len = 12 if vendor else 8
    length = hdr_len + len(data)
    out = struct.pack("!IB", code, flags) + length.to_bytes(3, "big")
    if vendor:
        out += struct.pack("!I", vendor)
    out += data
    return out + b"\0" * ((4 - len(data) % 4) % 4)


def u32(code, v, vendor=None):
    return avp(code, struct.pack("!I", v), vendor)


def utf8(code, s, vendor=None):
    return avp(code, s.encode(), vendor)


E2E = [random.getrandbits(20) << 12]


def message(code, app, avps, request=True, hbh=1, e2e=None):
    """A Diameter message; requests get a fresh End-to-End id (RFC 6733
    §3: a repeated one is taken for a retransmission of the same request)."""
    if e2e is None:
        E2E[0] += 1
        e2e = E2E[0]
    body = b"".join(avps)
    flags = 0xC0 if request else 0x40
    return (struct.pack("!B", 1) + (20 + len(body)).to_bytes(3, "big") +
            struct.pack("!B", flags) + code.to_bytes(3, "big") +
            struct.pack("!III", app, hbh, e2e) + body)


def parse_avps(data):
    out, i = [], 0
    while i + 8 <= len(data):
        code, flags = struct.unpack("!IB", data[i:i + 5])
        length = int.from_bytes(data[i + 5:i + 8], "big")
        if length < 8:
            break
        hdr = 12 if flags & FLAG_V else 8
        out.append((code, data[i + hdr:i + length]))
        i += length + ((4 - length % 4) % 4)
    return out


def result_of(msg):
    code, failed = 0, 0
    for c, v in parse_avps(msg[20:]):
        if c == 268:  # Result-Code
            code = struct.unpack("!I", v[:4])[0]
        elif c == 297:  # Experimental-Result
            for cc, vv in parse_avps(v):
                if cc == 298:
                    code = struct.unpack("!I", vv[:4])[0]
        elif c == 279:  # Failed-AVP
            inner = parse_avps(v)
            if inner:
                failed = inner[0][0]
    return code, failed


def recv_msg(sock):
    hdr = b""
    while len(hdr) < 4:
        chunk = sock.recv(4 - len(hdr))
        if not chunk:
            return None
        hdr += chunk
    length = int.from_bytes(hdr[1:4], "big")
    rest = b""
    while len(rest) < length - 4:
        chunk = sock.recv(length - 4 - len(rest))
        if not chunk:
            return None
        rest += chunk
    return hdr + rest


def recv_answer(sock, hbh):
    """Next answer with this hop-by-hop id; answers DWRs on the way."""
    while True:
        m = recv_msg(sock)
        if m is None:
            return None
        code = int.from_bytes(m[5:8], "big")
        is_req = m[4] & 0x80
        m_hbh = struct.unpack("!I", m[12:16])[0]
        if is_req and code == 280:  # DWR -> DWA
            sock.sendall(message(280, 0, [u32(268, 2001), utf8(264, ARGS.identity),
                                          utf8(296, ARGS.realm)],
                                 request=False, hbh=m_hbh,
                                 e2e=struct.unpack("!I", m[16:20])[0]))
            continue
        if not is_req and m_hbh == hbh:
            return m


def connect():
    s = socket.create_connection((ARGS.host, ARGS.port), timeout=5)
    cer = message(257, 0, [
        utf8(264, ARGS.identity), utf8(296, ARGS.realm),
        avp(257, struct.pack("!H", 1) + socket.inet_aton("127.0.0.1")),
        u32(266, 0), avp(269, b"dia-raw", mandatory=False),
        avp(260, u32(266, VENDOR_3GPP) + u32(258, CX_APP)),
    ], hbh=100)
    s.sendall(cer)
    cea = recv_answer(s, 100)
    if cea is None or result_of(cea)[0] != 2001:
        raise SystemExit("CER refused: %r" % (result_of(cea) if cea else "closed"))
    return s


def common(session):
    return [utf8(263, session),
            avp(260, u32(266, VENDOR_3GPP) + u32(258, CX_APP)),
            u32(277, 1), utf8(264, ARGS.identity), utf8(296, ARGS.realm),
            utf8(283, ARGS.realm)]


def uar(session, impi=True, extra=()):
    avps = common(session)
    if impi:
        avps.append(utf8(1, "nobody@" + ARGS.realm))
    avps += [utf8(601, "sip:nobody@" + ARGS.realm, VENDOR_3GPP),
             utf8(600, ARGS.realm, VENDOR_3GPP)]
    avps += list(extra)
    return message(300, CX_APP, avps)


def run_case(sock, name, msg, hbh):
    msg = msg[:12] + struct.pack("!I", hbh) + msg[16:]
    sock.sendall(msg)
    ans = recv_answer(sock, hbh)
    if ans is None:
        print("case=%s closed=1" % name)
        return False
    code, failed = result_of(ans)
    print("case=%s code=%d failed_avp=%d" % (name, code, failed))
    return True


def main():
    s = connect()
    sid = ARGS.identity + ";raw;"
    mar = common(sid + "1") + [
        utf8(1, "nobody@" + ARGS.realm), utf8(601, "sip:nobody@" + ARGS.realm, VENDOR_3GPP),
        avp(607, b"\0\0\1", VENDOR_3GPP),  # Unsigned32 with 3 bytes
        avp(612, utf8(608, "Digest-AKAv1-MD5", VENDOR_3GPP), VENDOR_3GPP),
        utf8(602, "sip:scscf." + ARGS.realm, VENDOR_3GPP)]
    run_case(s, "bad_length", message(303, CX_APP, mar), 1)
    run_case(s, "unknown_m_avp",
             uar(sid + "2", extra=[avp(64999, b"boom", VENDOR_3GPP)]), 2)
    run_case(s, "bad_enum", uar(sid + "3", extra=[u32(623, 7, VENDOR_3GPP)]), 3)
    run_case(s, "missing_avp", uar(sid + "4", impi=False), 4)
    run_case(s, "valid", uar(sid + "5"), 5)
    s.sendall(b"\x02" + b"\0\0\x14" + b"\x80" + b"\0\x01\x2c" + b"\0" * 12)
    s.settimeout(3)
    try:
        m = recv_msg(s)
        print("case=garbage closed=%d" % (1 if m is None else 0))
    except (socket.timeout, OSError):
        print("case=garbage closed=0")
    s.close()
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=3868)
    ap.add_argument("--realm", default="ims.mnc001.mcc001.3gppnetwork.org")
    ap.add_argument("--identity", default=None)
    ARGS = ap.parse_args()
    if ARGS.identity is None:
        # a fresh identity per run: freeDiameter 1.2.1 does not serve a raw
        # peer that comes back under the identity of a connection it saw
        # drop without DPR (its C peers are fine)
        ARGS.identity = "dia-raw-%d.%s" % (os.getpid(), ARGS.realm)
    sys.exit(main())
