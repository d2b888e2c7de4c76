/* Milenage, TS 35.206 §4.1, with AES-128 as the kernel function E. */
#include "auth/milenage.h"
#include "auth/milenage-int.h"
#include "base/ims_err.h"

#include <string.h>
#include <openssl/evp.h>

/* One AES-128-ECB key schedule, built once per public call (or once per
 * AKA vector through milenage-int.h). */
typedef milenage__kernel_t kernel_t;

int milenage__kernel_init(kernel_t *kr, const uint8_t k[16])
{
	kr->ctx = EVP_CIPHER_CTX_new();
	if (!kr->ctx)
		return IMS_EIO;
	if (EVP_EncryptInit_ex(kr->ctx, EVP_aes_128_ecb(), NULL, k, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(kr->ctx, 0) != 1) {
		EVP_CIPHER_CTX_free(kr->ctx);
		kr->ctx = NULL;
		return IMS_EIO;
	}
	return 0;
}

void milenage__kernel_done(kernel_t *kr)
{
	EVP_CIPHER_CTX_free(kr->ctx);
	kr->ctx = NULL;
}

static int kernel_enc(kernel_t *kr, const uint8_t in[16], uint8_t out[16])
{
	int n = 0;
	if (EVP_EncryptUpdate(kr->ctx, out, &n, in, 16) != 1 || n != 16)
		return IMS_EIO;
	return 0;
}

/* TEMP = E[RAND xor OPc]K (TS 35.206 §4.1) */
static int temp_of(kernel_t *kr, const uint8_t opc[16], const uint8_t rand[16], uint8_t temp[16])
{
	uint8_t x[16];
	for (int i = 0; i < 16; i++)
		x[i] = rand[i] ^ opc[i];
	return kernel_enc(kr, x, temp);
}

/* OUTn = E[rot(TEMP xor OPc, r) xor c]K xor OPc for n = 2..5, where every
 * r is a whole number of bytes and c has a single bit set in its last
 * byte (TS 35.206 §4.1: r2=0,r3=32,r4=64,r5=96; c2..c5 = 1,2,4,8). */
static int out_n(kernel_t *kr, const uint8_t opc[16], const uint8_t temp[16], int rbytes,
		 uint8_t cbit, uint8_t out[16])
{
	uint8_t x[16], y[16];
	for (int i = 0; i < 16; i++)
		x[i] = temp[i] ^ opc[i];
	for (int i = 0; i < 16; i++)
		y[i] = x[(i + rbytes) % 16];
	y[15] ^= cbit;
	int rc = kernel_enc(kr, y, out);
	if (rc)
		return rc;
	for (int i = 0; i < 16; i++)
		out[i] ^= opc[i];
	return 0;
}

int milenage_opc(const uint8_t k[16], const uint8_t op[16], uint8_t opc[16])
{
	kernel_t kr;
	int rc = milenage__kernel_init(&kr, k);
	if (rc)
		return rc;
	uint8_t e[16];
	rc = kernel_enc(&kr, op, e);
	milenage__kernel_done(&kr);
	if (rc)
		return rc;
	for (int i = 0; i < 16; i++)
		opc[i] = e[i] ^ op[i];
	return 0;
}

int milenage__f1(kernel_t *kr, const uint8_t opc[16], const uint8_t rand[16],
		 const uint8_t sqn[6], const uint8_t amf[2], uint8_t mac_a[8], uint8_t mac_s[8])
{
	uint8_t temp[16], in1[16], x[16], out1[16];
	int rc = temp_of(kr, opc, rand, temp);
	if (rc)
		return rc;
	/* IN1 = SQN || AMF || SQN || AMF */
	memcpy(in1, sqn, 6);
	memcpy(in1 + 6, amf, 2);
	memcpy(in1 + 8, sqn, 6);
	memcpy(in1 + 14, amf, 2);
	/* OUT1 = E[TEMP xor rot(IN1 xor OPc, r1) xor c1]K xor OPc, r1 = 64, c1 = 0 */
	for (int i = 0; i < 16; i++)
		x[i] = temp[i] ^ in1[(i + 8) % 16] ^ opc[(i + 8) % 16];
	rc = kernel_enc(kr, x, out1);
	if (rc)
		return rc;
	for (int i = 0; i < 16; i++)
		out1[i] ^= opc[i];
	if (mac_a)
		memcpy(mac_a, out1, 8);
	if (mac_s)
		memcpy(mac_s, out1 + 8, 8);
	return 0;
}

int milenage_f1(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
		const uint8_t sqn[6], const uint8_t amf[2], uint8_t mac_a[8], uint8_t mac_s[8])
{
	kernel_t kr;
	int rc = milenage__kernel_init(&kr, k);
	if (rc)
		return rc;
	rc = milenage__f1(&kr, opc, rand, sqn, amf, mac_a, mac_s);
	milenage__kernel_done(&kr);
	return rc;
}

int milenage__f2345(kernel_t *kr, const uint8_t opc[16], const uint8_t rand[16],
		    uint8_t res[8], uint8_t ck[16], uint8_t ik[16], uint8_t ak[6],
		    uint8_t ak_star[6])
{
	uint8_t temp[16], out[16];
	int rc = temp_of(kr, opc, rand, temp);
	if (rc)
		goto out;
	if (res || ak) {
		/* f5 = OUT2[0..47], f2 = OUT2[64..127] */
		rc = out_n(kr, opc, temp, 0, 1, out);
		if (rc)
			goto out;
		if (ak)
			memcpy(ak, out, 6);
		if (res)
			memcpy(res, out + 8, 8);
	}
	if (ck) {
		rc = out_n(kr, opc, temp, 4, 2, ck); /* f3 = OUT3 */
		if (rc)
			goto out;
	}
	if (ik) {
		rc = out_n(kr, opc, temp, 8, 4, ik); /* f4 = OUT4 */
		if (rc)
			goto out;
	}
	if (ak_star) {
		rc = out_n(kr, opc, temp, 12, 8, out); /* f5* = OUT5[0..47] */
		if (rc)
			goto out;
		memcpy(ak_star, out, 6);
	}
out:
	return rc;
}

int milenage_f2345(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
		   uint8_t res[8], uint8_t ck[16], uint8_t ik[16], uint8_t ak[6],
		   uint8_t ak_star[6])
{
	kernel_t kr;
	int rc = milenage__kernel_init(&kr, k);
	if (rc)
		return rc;
	rc = milenage__f2345(&kr, opc, rand, res, ck, ik, ak, ak_star);
	milenage__kernel_done(&kr);
	return rc;
}
