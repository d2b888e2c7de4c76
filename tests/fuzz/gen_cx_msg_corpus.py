#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_cx_msg (tests/fuzz/corpus/cx_msg/): one
Diameter message per file, the Cx requests and answers of TS 29.229 §6.1
as our peers send them, plus a few broken ones (missing AVP, bad enum,
short Unsigned32, unknown mandatory AVP, truncated group).

Usage: tests/fuzz/gen_cx_msg_corpus.py [OUTDIR]
"""
import os
import struct
import sys

V3GPP = 10415
CX_APP = 16777216
REALM = "ims.mnc001.mcc001.3gppnetwork.org"
IMPI = "001010000000001@" + REALM
IMPU = "sip:001010000000001@" + REALM
SCSCF = "sip:scscf." + REALM + ":6060"


def avp(code, data, vendor=None, mandatory=True):
    flags = (0x40 if mandatory else 0) | (0x80 if vendor else 0)
    hdr = 12 if vendor else 8
    out = struct.pack("!IB", code, flags) + (hdr + len(data)).to_bytes(3, "big")
    if vendor:
        out += struct.pack("!I", vendor)
    return out + data + b"\0" * ((4 - len(data) % 4) % 4)


def u32(code, v, vendor=None):
    return avp(code, struct.pack("!I", v), vendor)


def s(code, text, vendor=None):
    return avp(code, text.encode() if isinstance(text, str) else text, vendor)


def msg(code, avps, request=True):
    body = b"".join(avps)
    flags = 0xC0 if request else 0x40
    return (b"\x01" + (20 + len(body)).to_bytes(3, "big") + bytes([flags]) +
            code.to_bytes(3, "big") + struct.pack("!III", CX_APP, 7, 4242) + body)


def head(origin, request=True):
    out = [s(263, origin + ";1;fuzz"),
           avp(260, u32(266, V3GPP) + u32(258, CX_APP)),
           u32(277, 1), s(264, origin), s(296, REALM)]
    if request:
        out.append(s(283, REALM))
    return out


def result(code, experimental=False):
    if experimental:
        return avp(297, u32(266, V3GPP) + u32(298, code))
    return u32(268, code)


RAND_AUTN = bytes(range(32))
XRES = bytes(range(100, 108))
CK, IK = bytes(range(16)), bytes(range(16, 32))

SEEDS = {
    "uar": msg(300, head("icscf." + REALM) + [
        s(1, IMPI), s(601, IMPU, V3GPP), s(600, REALM, V3GPP), u32(623, 0, V3GPP)]),
    "uar-caps-flags": msg(300, head("icscf." + REALM) + [
        s(1, IMPI), s(601, IMPU, V3GPP), s(600, REALM, V3GPP), u32(623, 2, V3GPP),
        u32(637, 1, V3GPP)]),
    "mar-aka": msg(303, head("scscf." + REALM) + [
        s(1, IMPI), s(601, IMPU, V3GPP), u32(607, 1, V3GPP),
        avp(612, s(608, "Digest-AKAv1-MD5", V3GPP), V3GPP), s(602, SCSCF, V3GPP)]),
    "mar-resync": msg(303, head("scscf." + REALM) + [
        s(1, IMPI), s(601, IMPU, V3GPP), u32(607, 1, V3GPP),
        avp(612, s(608, "Digest-AKAv1-MD5", V3GPP) + s(610, bytes(range(30)), V3GPP), V3GPP),
        s(602, SCSCF, V3GPP)]),
    "sar-registration": msg(301, head("scscf." + REALM) + [
        s(1, IMPI), s(601, IMPU, V3GPP), s(602, SCSCF, V3GPP), u32(614, 1, V3GPP),
        u32(624, 0, V3GPP)]),
    "sar-two-impus": msg(301, head("scscf." + REALM) + [
        s(1, IMPI), s(601, IMPU, V3GPP), s(601, "tel:+15550000001", V3GPP),
        s(602, SCSCF, V3GPP), u32(614, 5, V3GPP), u32(624, 1, V3GPP)]),
    "lir": msg(302, head("icscf." + REALM) + [s(601, IMPU, V3GPP), u32(633, 0, V3GPP)]),
    "rtr": msg(304, head("hss." + REALM) + [
        s(293, "scscf." + REALM), s(1, IMPI), s(601, IMPU, V3GPP),
        avp(615, u32(616, 0, V3GPP) + s(617, "removed by operator", V3GPP), V3GPP)]),
    "ppr": msg(305, head("hss." + REALM) + [
        s(293, "scscf." + REALM), s(1, IMPI),
        s(606, "<?xml version=\"1.0\"?><IMSSubscription><PrivateID>" + IMPI +
          "</PrivateID></IMSSubscription>", V3GPP)]),
    "uaa": msg(300, head("hss." + REALM, False) + [
        result(2001, True), s(602, SCSCF, V3GPP)], request=False),
    "uaa-caps": msg(300, head("hss." + REALM, False) + [
        result(2001, True),
        avp(603, u32(604, 1, V3GPP) + u32(605, 2, V3GPP) + s(602, SCSCF, V3GPP), V3GPP)],
        request=False),
    "maa-aka": msg(303, head("hss." + REALM, False) + [
        result(2001), s(1, IMPI), s(601, IMPU, V3GPP), u32(607, 1, V3GPP),
        avp(612, u32(613, 1, V3GPP) + s(608, "Digest-AKAv1-MD5", V3GPP) +
            s(609, RAND_AUTN, V3GPP) + s(610, XRES, V3GPP) + s(625, CK, V3GPP) +
            s(626, IK, V3GPP), V3GPP)], request=False),
    "maa-digest": msg(303, head("hss." + REALM, False) + [
        result(2001), s(1, IMPI), s(601, IMPU, V3GPP), u32(607, 1, V3GPP),
        avp(612, s(608, "SIP Digest", V3GPP) +
            avp(635, s(104, REALM) + s(110, "auth") + s(111, "MD5") +
                s(121, "0123456789abcdef0123456789abcdef"), V3GPP), V3GPP)],
        request=False),
    "saa-userdata": msg(301, head("hss." + REALM, False) + [
        result(2001), s(1, IMPI),
        s(606, "<?xml version=\"1.0\"?><IMSSubscription/>", V3GPP),
        avp(632, s(1, IMPI) + s(1, "other@" + REALM), V3GPP)], request=False),
    "saa-error": msg(301, head("hss." + REALM, False) + [
        result(5001, True), s(281, "user unknown"),
        avp(279, s(1, IMPI))], request=False),
    "lia": msg(302, head("hss." + REALM, False) + [
        result(2001), s(602, SCSCF, V3GPP)], request=False),
    "rta": msg(304, head("scscf." + REALM, False) + [result(2001)], request=False),
    # broken ones: each is answered, not crashed on
    "bad-uar-no-user": msg(300, head("icscf." + REALM) + [
        s(601, IMPU, V3GPP), s(600, REALM, V3GPP)]),
    "bad-uar-enum": msg(300, head("icscf." + REALM) + [
        s(1, IMPI), s(601, IMPU, V3GPP), s(600, REALM, V3GPP), u32(623, 7, V3GPP)]),
    "bad-mar-short-u32": msg(303, head("scscf." + REALM) + [
        s(1, IMPI), s(601, IMPU, V3GPP), avp(607, b"\0\0\1", V3GPP),
        avp(612, s(608, "Digest-AKAv1-MD5", V3GPP), V3GPP), s(602, SCSCF, V3GPP)]),
    "bad-unknown-m-avp": msg(300, head("icscf." + REALM) + [
        s(1, IMPI), s(601, IMPU, V3GPP), s(600, REALM, V3GPP),
        avp(64999, b"boom", V3GPP)]),
    "bad-rtr-reason": msg(304, head("hss." + REALM) + [
        s(293, "scscf." + REALM), s(1, IMPI),
        avp(615, u32(616, 9, V3GPP), V3GPP)]),
    "bad-group-truncated": msg(303, head("scscf." + REALM) + [
        s(1, IMPI), s(601, IMPU, V3GPP), u32(607, 1, V3GPP),
        avp(612, s(608, "Digest-AKAv1-MD5", V3GPP)[:10], V3GPP), s(602, SCSCF, V3GPP)]),
    # regression (fuzz_cx_msg): Session-Id (vendor 0) sent with the V flag
    # made libfdproto abort in fd_msg_sess_get; dia/cx-guard.c removes it
    "regress-session-id-v-flag": msg(300, [
        avp(263, b"\0\0\0\0" + b"icscf;1;v", mandatory=False)[:4] + b"\x80" +
        (12 + 9).to_bytes(3, "big") + b"\0\0\0\0" + b"icscf;1;v" + b"\0" * 3,
    ] + head("icscf." + REALM)[1:] + [s(1, IMPI), s(601, IMPU, V3GPP), s(600, REALM, V3GPP)]),
    # regression: a NUL in the Session-Id shut freeDiameter's dispatch down
    "regress-session-id-nul": msg(300, [s(263, b"icscf;1\0nul")] + head("icscf." + REALM)[1:] +
                                  [s(1, IMPI), s(601, IMPU, V3GPP), s(600, REALM, V3GPP)]),
    # regression: R and E bits with a Proxy-Info that is no AVP list made
    # freeDiameter's Routing-IN thread end (the Cx stack shut down)
    "regress-re-bits-bad-proxy-info": (lambda m: m[:4] + b"\xe0" + m[5:])(
        msg(300, head("icscf." + REALM) + [s(284, "not an AVP list"), s(1, IMPI),
                                          s(601, IMPU, V3GPP), s(600, REALM, V3GPP)])),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "cx_msg")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
