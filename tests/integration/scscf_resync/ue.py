#!/usr/bin/env python3
"""A small IMS UE (stdlib only) that registers straight at ims-scscf with
IMS AKA and drives an SQN resynchronisation end to end. The USIM and the
Digest arithmetic are the aka-ue tool (tests/tools/aka-ue.c); this script
does the SIP and checks what comes back:

  A. REGISTER -> 401 whose AUTN carries the HSS's next SQN -> RES answer
     (CK/IK of the 401 = the USIM's) -> 200.
  B. The USIM's SQN_MS is far ahead: it rejects the next AUTN and answers
     with auts (RFC 3310 §3.4) -> the S-CSCF sends a MAR with RAND||AUTS
     (TS 29.228 §6.3.3) -> a fresh 401 whose SQN is SQN_MS + 1 -> 200; the
     HSS's stored SQN moved to SQN_MS + 1.
  C. auts with a wrong MAC-S: the HSS keeps its SQN and hands out the next
     vector (TS 33.102 §6.3.5, docs/diameter.md MAR row), so the UE gets a
     fresh 401 whose SQN is still not fresh; a correct auts then
     resynchronises and the UE registers.
  D. auts that is not base64 of 14 bytes -> 403 Authentication Failed
     (scscf/auth-nonce.h IMS_EPARSE, scscf/reg-handler.c), the
     registration stays, and a normal re-registration still works.

Prints one "ok: ..." or "FAIL: ..." line per check; exit status 1 when a
check failed."""
import argparse
import base64
import json
import random
import re
import socket
import subprocess
import sys
import urllib.request

FAILS = 0


def ok(msg):
    print("ok: " + msg, flush=True)


def fail(msg):
    global FAILS
    FAILS += 1
    print("FAIL: " + msg, flush=True)


def check(cond, msg):
    (ok if cond else fail)(msg)
    return cond


class Abort(Exception):
    pass


class UE:
    def __init__(self, a):
        self.a = a
        self.impu = "sip:%s" % a.impi
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", a.local_port))
        self.sock.settimeout(a.timeout)
        self.dst = ("127.0.0.1", a.scscf_port)
        self.call_id = "resync-%08x@127.0.0.1" % random.getrandbits(32)
        self.tag = "%08x" % random.getrandbits(32)
        self.cseq = 0

    def register(self, authz):
        """Sends one REGISTER (UDP, bounded retransmissions) and returns
        (status code, reason, headers dict of lists) of the final answer."""
        self.cseq += 1
        branch = "z9hG4bK%08x" % random.getrandbits(32)
        msg = ("REGISTER sip:{realm} SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch};rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <{impu}>;tag={tag}\r\n"
               "To: <{impu}>\r\n"
               "Call-ID: {cid}\r\n"
               "CSeq: {cseq} REGISTER\r\n"
               "Contact: <sip:{user}@127.0.0.1:{port}>;expires=600\r\n"
               "Authorization: {authz}\r\n"
               "Supported: path\r\n"
               "Content-Length: 0\r\n\r\n").format(
                   realm=self.a.realm, port=self.a.local_port, branch=branch, impu=self.impu,
                   tag=self.tag, cid=self.call_id, cseq=self.cseq,
                   user=self.a.impi.split("@")[0], authz=authz)
        # RFC 3261 §17.1.2: retransmit a non-INVITE request over UDP
        for _attempt in range(4):
            self.sock.sendto(msg.encode(), self.dst)
            while True:
                try:
                    data = self.sock.recv(65535).decode(errors="replace")
                except socket.timeout:
                    break
                code, reason, hdrs = parse(data)
                if hdrs.get("cseq", [""])[0].split()[0:1] != [str(self.cseq)]:
                    continue  # a late answer to an earlier request
                if code >= 200:
                    return code, reason, hdrs
        raise Abort("no final answer to REGISTER CSeq %d" % self.cseq)

    def initial_authz(self):
        return ('Digest username="%s", realm="%s", nonce="", uri="sip:%s", response="", '
                'algorithm=AKAv1-MD5' % (self.a.impi, self.a.realm, self.a.realm))

    def authz(self, ch, out, auts=None):
        s = ('Digest username="%s", realm="%s", nonce="%s", uri="sip:%s", response="%s", '
             'algorithm=AKAv1-MD5, qop=auth, nc=%s, cnonce="%s", opaque="%s"'
             % (self.a.impi, self.a.realm, ch["nonce"], self.a.realm, out["response"],
                out["nc"], out["cnonce"], ch.get("opaque", "")))
        if auts is not None:
            s += ', auts="%s"' % auts
        return s

    def usim(self, ch, *extra):
        """Runs aka-ue on a challenge; returns its key=value output plus
        the nc/cnonce it was given."""
        nc = "00000001"  # every challenge here is answered once
        cnonce = "%08x" % random.getrandbits(32)
        cmd = [self.a.aka_ue, "--k", self.a.k, "--op", self.a.op, "--nonce", ch["nonce"],
               "--user", self.a.impi, "--realm", self.a.realm, "--uri", "sip:" + self.a.realm,
               "--nc", nc, "--cnonce", cnonce] + list(extra)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=10)
        out = dict(l.split("=", 1) for l in p.stdout.splitlines() if "=" in l)
        out["rc"] = p.returncode
        out["nc"], out["cnonce"] = nc, cnonce
        if p.returncode != 0:
            raise Abort("aka-ue exit %d: %s %s" % (p.returncode, p.stdout, p.stderr))
        return out


def parse(data):
    head = data.split("\r\n\r\n", 1)[0].split("\r\n")
    m = re.match(r"SIP/2\.0 (\d{3}) ?(.*)", head[0])
    if not m:
        return 0, "", {}
    hdrs = {}
    for line in head[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    return int(m.group(1)), m.group(2), hdrs


def challenge(hdrs):
    """The auth-params of the (single) WWW-Authenticate."""
    v = hdrs.get("www-authenticate", [""])[0]
    if not v.startswith("Digest "):
        return {}
    return {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
            for m in re.finditer(r'([A-Za-z-]+)=(?:"([^"]*)"|([^\s,]+))', v[7:])}


def stored_sqn(a):
    url = "%s/%s?secrets=1" % (a.api, a.impi)
    with urllib.request.urlopen(url, timeout=5) as r:
        return int(json.load(r)["auth"]["sqn"], 16)


def expect_401(ue, code, reason, hdrs, what):
    if code != 401:
        raise Abort("%s: %d %s instead of 401" % (what, code, reason))
    ch = challenge(hdrs)
    if ch.get("algorithm") != "AKAv1-MD5" or not ch.get("nonce"):
        raise Abort("%s: 401 without an AKAv1-MD5 challenge: %s" % (what, hdrs))
    return ch


def answer(ue, ch, what, sqn_ms):
    """Answers a fresh challenge with RES and expects 200; returns the SQN."""
    out = ue.usim(ch, "--sqn-ms", str(sqn_ms))
    if out.get("resync") != "0":
        raise Abort("%s: the USIM wanted a resync (sqn=%s)" % (what, out.get("sqn")))
    check(ch.get("ck") == out["ck"] and ch.get("ik") == out["ik"],
          "%s: CK/IK in the 401 are the USIM's" % what)
    code, reason, hdrs = ue.register(ue.authz(ch, out))
    check(code == 200, "%s: RES answer -> %d %s" % (what, code, reason))
    return int(out["sqn"])


def run(a):
    ue = UE(a)
    sqn0 = a.sqn0

    # --- A: normal registration -------------------------------------------
    ch = expect_401(ue, *ue.register(ue.initial_authz()), what="A")
    sqn = answer(ue, ch, "A (normal registration)", 0)
    check(sqn == sqn0 + 1, "A: AUTN carried the HSS's next SQN %#x (got %#x)" % (sqn0 + 1, sqn))
    check(stored_sqn(a) == sqn, "A: HSS stored SQN %#x" % sqn)

    # --- B: the USIM is ahead: auts -> resync MAR -> fresh 401 -> 200 ------
    ms = a.sqn_ms
    ch = expect_401(ue, *ue.register(ue.initial_authz()), what="B")
    out = ue.usim(ch, "--sqn-ms", str(ms))
    check(out.get("resync") == "1" and int(out["sqn"]) == sqn0 + 2 and int(out["sqn_ms"]) == ms,
          "B: AUTN SQN %#x not above SQN_MS %#x: the USIM answers auts" % (int(out["sqn"]), ms))
    check(len(base64.b64decode(out["auts"])) == 14, "B: auts is base64 of 14 bytes")
    code, reason, hdrs = ue.register(ue.authz(ch, out, auts=out["auts"]))
    ch2 = expect_401(ue, code, reason, hdrs, "B (after auts)")
    check(ch2["nonce"] != ch["nonce"], "B: auts -> a fresh 401 (new nonce)")
    out2 = ue.usim(ch2, "--sqn-ms", str(ms))
    check(out2.get("resync") == "0" and int(out2["sqn"]) == ms + 1,
          "B: the new AUTN carries SQN_MS + 1 = %#x (got %s)" % (ms + 1, out2.get("sqn")))
    check(stored_sqn(a) == ms + 1, "B: HSS stored SQN moved past SQN_MS: %#x" % stored_sqn(a))
    answer(ue, ch2, "B (after resync)", ms)

    # --- C: a wrong MAC-S: no re-alignment, then a correct one -------------
    ms2 = a.sqn_ms2
    ch = expect_401(ue, *ue.register(ue.initial_authz()), what="C")
    out = ue.usim(ch, "--sqn-ms", str(ms2), "--tamper-mac-s")
    check(out.get("resync") == "1", "C: the USIM answers auts (MAC-S tampered)")
    before = stored_sqn(a)
    code, reason, hdrs = ue.register(ue.authz(ch, out, auts=out["auts"]))
    ch2 = expect_401(ue, code, reason, hdrs, "C (tampered auts)")
    out2 = ue.usim(ch2, "--sqn-ms", str(ms2))
    check(out2.get("resync") == "1" and int(out2["sqn"]) == before + 1,
          "C: wrong MAC-S: the HSS kept its SQN, next vector %#x (got %s), still stale for the USIM"
          % (before + 1, out2.get("sqn")))
    check(stored_sqn(a) == before + 1, "C: HSS stored SQN not set to the forged SQN_MS")
    code, reason, hdrs = ue.register(ue.authz(ch2, out2, auts=out2["auts"]))
    ch3 = expect_401(ue, code, reason, hdrs, "C (correct auts)")
    out3 = ue.usim(ch3, "--sqn-ms", str(ms2))
    check(out3.get("resync") == "0" and int(out3["sqn"]) == ms2 + 1,
          "C: correct auts -> SQN %#x (got %s)" % (ms2 + 1, out3.get("sqn")))
    answer(ue, ch3, "C (after resync)", ms2)
    check(stored_sqn(a) == ms2 + 1, "C: HSS stored SQN %#x" % (ms2 + 1))

    # --- D: auts that is no AUTS -> 403, registration kept -----------------
    ch = expect_401(ue, *ue.register(ue.initial_authz()), what="D")
    out = ue.usim(ch, "--sqn-ms", str(ms2 + 1))
    bad = base64.b64encode(b"0123456789").decode()  # 10 bytes, not 14
    code, reason, hdrs = ue.register(ue.authz(ch, out, auts=bad))
    check(code == 403 and reason == "Authentication Failed",
          "D: auts of 10 bytes -> %d %s (403 Authentication Failed)" % (code, reason))
    ch = expect_401(ue, *ue.register(ue.initial_authz()), what="D (retry)")
    answer(ue, ch, "D (registration after the refused auts)", ms2 + 1)
    check(stored_sqn(a) == ms2 + 3, "D: HSS stored SQN %#x" % (ms2 + 3))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scscf-port", type=int, required=True)
    p.add_argument("--local-port", type=int, required=True)
    p.add_argument("--impi", required=True)
    p.add_argument("--realm", required=True)
    p.add_argument("--k", required=True)
    p.add_argument("--op", required=True)
    p.add_argument("--aka-ue", required=True)
    p.add_argument("--api", required=True, help="HSS REST .../api/v1/subscribers")
    p.add_argument("--sqn0", type=lambda s: int(s, 0), required=True,
                   help="the SQN provisioned at the HSS")
    p.add_argument("--sqn-ms", type=lambda s: int(s, 0), default=0x1000)
    p.add_argument("--sqn-ms2", type=lambda s: int(s, 0), default=0x5000)
    p.add_argument("--timeout", type=float, default=2.0)
    a = p.parse_args()
    try:
        run(a)
    except (Abort, OSError, KeyError, ValueError) as e:
        fail("aborted: %s" % e)
    print("ue failures: %d" % FAILS)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
