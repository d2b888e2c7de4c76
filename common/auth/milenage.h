/* Milenage: the 3GPP example algorithm set f1, f1*, f2, f3, f4, f5, f5*
 * (TS 35.206 §4), computed from the subscriber key K and the operator
 * variant OPc. AES-128 comes from OpenSSL libcrypto; each call builds
 * the key schedule once and reuses it for every block.
 * All buffers are caller-owned; nothing allocates on the heap except
 * the short-lived OpenSSL cipher context. Thread-safe. */
#ifndef IMS_MILENAGE_H
#define IMS_MILENAGE_H

#include <stdint.h>

/* TS 35.206 §4.1: OPc = OP xor E[OP]K.
 * Returns 0, or IMS_EIO when libcrypto fails. */
int milenage_opc(const uint8_t k[16], const uint8_t op[16], uint8_t opc[16] /* out */);

/* TS 35.206 §4.1: f1 (network authentication code MAC-A) and f1*
 * (resynchronisation code MAC-S) over SQN || AMF. Either output may be
 * NULL when not wanted. Returns 0, or IMS_EIO when libcrypto fails. */
int milenage_f1(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
		const uint8_t sqn[6], const uint8_t amf[2],
		uint8_t mac_a[8] /* out */, uint8_t mac_s[8] /* out */);

/* TS 35.206 §4.1: f2 (RES), f3 (CK), f4 (IK), f5 (AK) and f5*
 * (resynchronisation AK). Any output may be NULL when not wanted.
 * Returns 0, or IMS_EIO when libcrypto fails. */
int milenage_f2345(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
		   uint8_t res[8] /* out */, uint8_t ck[16] /* out */, uint8_t ik[16] /* out */,
		   uint8_t ak[6] /* out */, uint8_t ak_star[6] /* out */);

#endif
