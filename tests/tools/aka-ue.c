/* aka-ue: plays the USIM and the UE's Digest layer for IMS AKA tests
 * (TS 33.102 §6.3, RFC 3310). Given K and OP (or OPc), the nonce of a
 * WWW-Authenticate (base64 of RAND || AUTN, RFC 3310 §3.2) and the Digest
 * parameters, it checks AUTN and prints, as key=value lines:
 *
 *   sqn, sqn_hex, amf    the SQN recovered from AUTN (SQN xor AK, AK = f5)
 *   ck, ik, res          the USIM's outputs (hex)
 *   response             the RFC 2617 request-digest, password = RES bytes
 *                        (RFC 3310 §3.4)
 *
 * or, for a resynchronisation (--resync SQN_MS, or --sqn-ms SQN_MS when the
 * SQN in AUTN is not above it: TS 33.102 §6.3.3 SQN freshness):
 *
 *   resync=1, sqn_ms     the SQN_MS put into AUTS
 *   auts, auts_hex       AUTS = SQN_MS xor AK* || MAC-S; auts is the base64
 *                        of the 14 bytes as the auts parameter carries it
 *                        (RFC 3310 §3.4)
 *   response             the request-digest computed with an empty
 *                        password (RFC 3310 §3.4)
 *
 * --tamper-mac-s flips one bit of MAC-S (negative tests: the HSS must not
 * re-align its SQN). Exit status: 0 done, 3 MAC-A wrong (the network is
 * not authentic, nothing else printed but mac=bad), 1 other error,
 * 2 usage. Tests only; not installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/aka.h"
#include "auth/digest.h"
#include "auth/milenage.h"
#include "base/ims_b64.h"
#include "base/ims_err.h"
#include "base/ims_hex.h"
#include "base/ims_str.h"

static const char *usage_text =
	"usage: aka-ue --k HEX (--op HEX | --opc HEX) --nonce B64 --user IMPI --realm R\n"
	"              --uri URI [--method M] [--nc 8HEX] [--cnonce C] [--qop Q]\n"
	"              [--sqn-ms N | --resync N] [--tamper-mac-s]\n"
	"  --sqn-ms N     the USIM's highest accepted SQN: resynchronise when the\n"
	"                 SQN in AUTN is not above it\n"
	"  --resync N     resynchronise with SQN_MS = N whatever AUTN carries\n"
	"  N is decimal or 0x-prefixed hex (48 bits)\n"
	"exit status: 0 done, 3 MAC-A wrong, 1 error, 2 usage\n";

static struct {
	const char *k, *op, *opc, *nonce, *user, *realm, *uri, *method, *nc, *cnonce, *qop;
	long long sqn_ms, resync; /* -1: not given */
	int tamper;
} opt;

static int hex_arg(const char *name, const char *s, uint8_t *out, size_t n)
{
	if (!s || strlen(s) != 2 * n || ims_hex_decode(s, 2 * n, out, n) != 0) {
		fprintf(stderr, "aka-ue: %s needs %zu hex digits\n", name, 2 * n);
		return IMS_EINVAL;
	}
	return 0;
}

static int sqn_arg(const char *name, const char *s, long long *out)
{
	char *end = NULL;
	unsigned long long v = strtoull(s, &end, 0);
	if (!*s || *end || *s == '-' || v > 0xffffffffffffULL) {
		fprintf(stderr, "aka-ue: %s: bad SQN %s (48 bits)\n", name, s);
		return IMS_EINVAL;
	}
	*out = (long long)v;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	opt.method = "REGISTER";
	opt.nc = "00000001";
	opt.cnonce = "0a4f113b";
	opt.qop = "auth";
	opt.sqn_ms = -1;
	opt.resync = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char **sv = NULL;
		if (!strcmp(a, "--tamper-mac-s")) {
			opt.tamper = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "aka-ue: %s needs a value\n", a);
			return IMS_EINVAL;
		}
		if (!strcmp(a, "--k"))
			sv = &opt.k;
		else if (!strcmp(a, "--op"))
			sv = &opt.op;
		else if (!strcmp(a, "--opc"))
			sv = &opt.opc;
		else if (!strcmp(a, "--nonce"))
			sv = &opt.nonce;
		else if (!strcmp(a, "--user"))
			sv = &opt.user;
		else if (!strcmp(a, "--realm"))
			sv = &opt.realm;
		else if (!strcmp(a, "--uri"))
			sv = &opt.uri;
		else if (!strcmp(a, "--method"))
			sv = &opt.method;
		else if (!strcmp(a, "--nc"))
			sv = &opt.nc;
		else if (!strcmp(a, "--cnonce"))
			sv = &opt.cnonce;
		else if (!strcmp(a, "--qop"))
			sv = &opt.qop;
		else if (!strcmp(a, "--sqn-ms")) {
			if (sqn_arg(a, v, &opt.sqn_ms))
				return IMS_EINVAL;
		} else if (!strcmp(a, "--resync")) {
			if (sqn_arg(a, v, &opt.resync))
				return IMS_EINVAL;
		} else {
			fprintf(stderr, "aka-ue: unknown option %s\n", a);
			return IMS_EINVAL;
		}
		if (sv)
			*sv = v;
		i++;
	}
	if (!opt.k || !(opt.op || opt.opc) || (opt.op && opt.opc) || !opt.nonce || !opt.user ||
	    !opt.realm || !opt.uri) {
		fprintf(stderr, "aka-ue: --k, --op or --opc, --nonce, --user, --realm and --uri "
				"are required\n");
		return IMS_EINVAL;
	}
	return 0;
}

/* RFC 2617 §3.2.2 request-digest with the given password bytes */
static void response(const uint8_t *pw, size_t pwlen, char out[33])
{
	char ha1[33];
	digest_ha1(ims_str_cstr(opt.user), ims_str_cstr(opt.realm), pw, pwlen, ha1);
	digest_response(ha1, ims_str_cstr(opt.method), ims_str_cstr(opt.uri),
			ims_str_cstr(opt.nonce), ims_str_cstr(opt.nc), ims_str_cstr(opt.cnonce),
			ims_str_cstr(opt.qop), NULL, out);
}

int main(int argc, char **argv)
{
	uint8_t k[16], opc[16], nonce[IMS_B64_DEC_MAX(64)];
	size_t nlen = 0;
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (parse_args(argc, argv) != 0) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (hex_arg("--k", opt.k, k, 16))
		return 2;
	if (opt.opc) {
		if (hex_arg("--opc", opt.opc, opc, 16))
			return 2;
	} else {
		uint8_t op[16];
		if (hex_arg("--op", opt.op, op, 16))
			return 2;
		/* TS 35.206 §4.1: OPc = OP xor E[OP]K */
		if (milenage_opc(k, op, opc) != 0) {
			fprintf(stderr, "aka-ue: milenage_opc failed\n");
			return 1;
		}
	}
	/* RFC 3310 §3.2: nonce = base64(RAND || AUTN [|| server data]) */
	size_t b64len = strlen(opt.nonce);
	if (b64len > 64 || ims_b64_decode(opt.nonce, b64len, nonce, sizeof(nonce), &nlen) != 0 ||
	    nlen < 32) {
		fprintf(stderr, "aka-ue: the nonce is not base64 of RAND||AUTN\n");
		return 1;
	}
	const uint8_t *rand = nonce, *autn = nonce + 16;

	uint8_t res[8], ck[16], ik[16], sqn[6];
	int rc = aka_ue_answer(k, opc, rand, autn, res, ck, ik, sqn);
	if (rc == IMS_EAUTH) {
		printf("mac=bad\n");
		return 3;
	}
	if (rc != 0) {
		fprintf(stderr, "aka-ue: aka_ue_answer: %s\n", ims_strerror(rc));
		return 1;
	}
	char hex[33];
	uint64_t sqn_v = aka_sqn_get(sqn);
	printf("mac=ok\nsqn=%llu\nsqn_hex=%s\n", (unsigned long long)sqn_v,
	       ims_hex_encode(sqn, 6, hex));
	printf("amf=%s\n", ims_hex_encode(autn + 6, 2, hex));

	/* TS 33.102 §6.3.3: the USIM accepts SQN only above SQN_MS; otherwise
	 * it answers with AUTS carrying its own SQN_MS (§6.3.5) */
	long long sqn_ms = opt.resync;
	if (sqn_ms < 0 && opt.sqn_ms >= 0 && sqn_v <= (uint64_t)opt.sqn_ms)
		sqn_ms = opt.sqn_ms;
	if (sqn_ms >= 0) {
		uint8_t ms[6], auts[AKA_AUTS_LEN];
		char b64[IMS_B64_ENC_LEN(AKA_AUTS_LEN) + 1], ahex[2 * AKA_AUTS_LEN + 1];
		aka_sqn_put((uint64_t)sqn_ms, ms);
		if ((rc = aka_auts_make(k, opc, rand, ms, auts)) != 0) {
			fprintf(stderr, "aka-ue: aka_auts_make: %s\n", ims_strerror(rc));
			return 1;
		}
		if (opt.tamper)
			auts[AKA_AUTS_LEN - 1] ^= 0x01; /* last byte of MAC-S */
		if (ims_b64_encode(auts, sizeof(auts), b64, sizeof(b64), NULL) != 0)
			return 1;
		char out[33];
		response((const uint8_t *)"", 0, out); /* RFC 3310 §3.4: empty password */
		printf("resync=1\nsqn_ms=%llu\nauts=%s\nauts_hex=%s\nresponse=%s\n",
		       (unsigned long long)sqn_ms, b64, ims_hex_encode(auts, sizeof(auts), ahex),
		       out);
		return 0;
	}
	char out[33], rhex[17];
	response(res, sizeof(res), out); /* RFC 3310 §3.4: password = RES */
	printf("resync=0\nck=%s\n", ims_hex_encode(ck, 16, hex));
	printf("ik=%s\n", ims_hex_encode(ik, 16, hex));
	printf("res=%s\nresponse=%s\n", ims_hex_encode(res, 8, rhex), out);
	return 0;
}
