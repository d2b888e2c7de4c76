/* UMTS AKA vectors and resynchronisation, TS 33.102 §6.3. */
#include "auth/aka.h"
#include "auth/milenage-int.h"
#include "base/ims_err.h"

#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

int aka_vector_make(const uint8_t k[16], const uint8_t opc[16], const uint8_t amf[2],
		    const uint8_t sqn[6], const uint8_t rand[16], aka_vector_t *out)
{
	uint8_t mac_a[8], ak[6];
	milenage__kernel_t kr;
	int rc = milenage__kernel_init(&kr, k);
	if (rc)
		return rc;
	rc = milenage__f1(&kr, opc, rand, sqn, amf, mac_a, NULL);
	if (!rc)
		rc = milenage__f2345(&kr, opc, rand, out->xres, out->ck, out->ik, ak, NULL);
	milenage__kernel_done(&kr);
	if (rc)
		return rc;
	memcpy(out->rand, rand, 16);
	memcpy(out->sqn, sqn, 6);
	/* TS 33.102 §6.3.2: AUTN = SQN xor AK || AMF || MAC */
	for (int i = 0; i < 6; i++)
		out->autn[i] = sqn[i] ^ ak[i];
	memcpy(out->autn + 6, amf, 2);
	memcpy(out->autn + 8, mac_a, 8);
	return 0;
}

int aka_auts_check(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
		   const uint8_t auts[14], uint8_t sqn_ms[6])
{
	/* TS 33.102 §6.3.3: the dummy AMF* in the resync MAC is all zero */
	static const uint8_t amf_star[2] = { 0, 0 };
	uint8_t ak_star[6], sqn[6], mac_s[8];
	milenage__kernel_t kr;
	int rc = milenage__kernel_init(&kr, k);
	if (rc)
		return rc;
	rc = milenage__f2345(&kr, opc, rand, NULL, NULL, NULL, NULL, ak_star);
	if (!rc) {
		for (int i = 0; i < 6; i++)
			sqn[i] = auts[i] ^ ak_star[i];
		rc = milenage__f1(&kr, opc, rand, sqn, amf_star, NULL, mac_s);
	}
	milenage__kernel_done(&kr);
	if (rc)
		return rc;
	if (CRYPTO_memcmp(mac_s, auts + 6, 8) != 0)
		return IMS_EAUTH;
	memcpy(sqn_ms, sqn, 6);
	return 0;
}

int aka_random(uint8_t *buf, size_t n)
{
	if (n > (size_t)0x7fffffff)
		return IMS_EINVAL;
	return RAND_bytes(buf, (int)n) == 1 ? 0 : IMS_EIO;
}

uint64_t aka_sqn_get(const uint8_t sqn[6])
{
	uint64_t v = 0;
	for (int i = 0; i < 6; i++)
		v = (v << 8) | sqn[i];
	return v;
}

void aka_sqn_put(uint64_t v, uint8_t sqn[6])
{
	for (int i = 5; i >= 0; i--) {
		sqn[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

int aka_ue_answer(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
		  const uint8_t autn[16], uint8_t res[8], uint8_t ck[16], uint8_t ik[16],
		  uint8_t *sqn_out)
{
	uint8_t ak[6], sqn[6], xmac[8];
	milenage__kernel_t kr;
	int rc = milenage__kernel_init(&kr, k);
	if (rc)
		return rc;
	rc = milenage__f2345(&kr, opc, rand, res, ck, ik, ak, NULL);
	if (!rc) {
		/* TS 33.102 §6.3.3: the USIM recovers SQN = (SQN xor AK) xor AK
		 * and checks XMAC = f1(SQN || RAND || AMF) against AUTN's MAC */
		for (int i = 0; i < 6; i++)
			sqn[i] = autn[i] ^ ak[i];
		rc = milenage__f1(&kr, opc, rand, sqn, autn + 6, xmac, NULL);
	}
	milenage__kernel_done(&kr);
	if (rc)
		return rc;
	if (CRYPTO_memcmp(xmac, autn + 8, 8) != 0)
		return IMS_EAUTH;
	if (sqn_out)
		memcpy(sqn_out, sqn, 6);
	return 0;
}

int aka_auts_make(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
		  const uint8_t sqn_ms[6], uint8_t auts[14])
{
	static const uint8_t amf_star[2] = { 0, 0 };
	uint8_t ak_star[6];
	milenage__kernel_t kr;
	int rc = milenage__kernel_init(&kr, k);
	if (rc)
		return rc;
	rc = milenage__f2345(&kr, opc, rand, NULL, NULL, NULL, NULL, ak_star);
	if (!rc)
		rc = milenage__f1(&kr, opc, rand, sqn_ms, amf_star, NULL, auts + 6);
	milenage__kernel_done(&kr);
	if (rc)
		return rc;
	for (int i = 0; i < 6; i++)
		auts[i] = sqn_ms[i] ^ ak_star[i];
	return 0;
}
