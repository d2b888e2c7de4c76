/* Digest arithmetic, RFC 2617 §3.2.2 (and RFC 2069 without qop). */
#include "auth/digest.h"

#include <openssl/evp.h>
#include <string.h>

static void to_hex(const uint8_t d[16], char out[33])
{
	static const char hx[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[32] = '\0';
}

/* MD5 over a list of pieces joined by ':' (the RFC 2617 H(a ":" b ...)).
 * EVP is used rather than the deprecated MD5_* calls. */
static void md5_join(const ims_str_t *parts, int n, char out[33])
{
	uint8_t d[16];
	unsigned dl = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (c && EVP_DigestInit_ex(c, EVP_md5(), NULL) == 1) {
		for (int i = 0; i < n; i++) {
			if (i)
				EVP_DigestUpdate(c, ":", 1);
			if (parts[i].len)
				EVP_DigestUpdate(c, parts[i].s, parts[i].len);
		}
		EVP_DigestFinal_ex(c, d, &dl);
	}
	EVP_MD_CTX_free(c);
	if (dl != 16) {
		/* libcrypto failed (no memory): produce a value no peer can match */
		memset(out, 'x', 32);
		out[32] = '\0';
		return;
	}
	to_hex(d, out);
}

void digest_md5_hex(const void *data, size_t n, char out[33])
{
	ims_str_t p = { (const char *)data, (uint32_t)n };
	md5_join(&p, 1, out);
}

void digest_ha1(ims_str_t user, ims_str_t realm, const uint8_t *pw, size_t pwlen, char out[33])
{
	ims_str_t p[3] = { user, realm, { (const char *)pw, (uint32_t)pwlen } };
	md5_join(p, 3, out);
}

void digest_response(const char ha1[33], ims_str_t method, ims_str_t uri, ims_str_t nonce,
		     ims_str_t nc, ims_str_t cnonce, ims_str_t qop, const char hentity[33],
		     char out[33])
{
	char ha2[33], empty[33];
	int auth_int = ims_str_caseeq_c(qop, "auth-int");
	if (auth_int) {
		/* RFC 2617 §3.2.2.3: A2 = Method ":" digest-uri ":" H(entity-body) */
		if (!hentity) {
			digest_md5_hex("", 0, empty);
			hentity = empty;
		}
		ims_str_t a2[3] = { method, uri, { hentity, 32 } };
		md5_join(a2, 3, ha2);
	} else {
		ims_str_t a2[2] = { method, uri };
		md5_join(a2, 2, ha2);
	}
	ims_str_t h1 = { ha1, 32 }, h2 = { ha2, 32 };
	if (qop.len == 0) {
		/* RFC 2617 §3.2.2.1, no qop: compatible with RFC 2069 */
		ims_str_t p[3] = { h1, nonce, h2 };
		md5_join(p, 3, out);
	} else {
		ims_str_t p[6] = { h1, nonce, nc, cnonce, qop, h2 };
		md5_join(p, 6, out);
	}
}

int digest_eq(const char *a, const char *b, size_t n)
{
	unsigned char diff = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		/* fold ASCII letters without branching on the data */
		x |= (unsigned char)(((unsigned)(x - 'A') < 26u) << 5);
		y |= (unsigned char)(((unsigned)(y - 'A') < 26u) << 5);
		diff |= (unsigned char)(x ^ y);
	}
	return diff == 0;
}
