/* UMTS AKA (TS 33.102 §6.3) on top of Milenage: authentication vectors
 * for the HSS, SQN resynchronisation (AUTS), and the UE side so tests can
 * play a USIM. Every buffer is caller-owned binary data; thread-safe. */
#ifndef IMS_AKA_H
#define IMS_AKA_H

#include <stddef.h>
#include <stdint.h>

/* One authentication vector (TS 33.102 §6.3.2): RAND, AUTN, XRES, CK, IK
 * and the SQN it was built with. XRES is 8 bytes (Milenage f2). */
typedef struct aka_vector {
	uint8_t rand[16];
	uint8_t autn[16];
	uint8_t xres[8];
	uint8_t ck[16];
	uint8_t ik[16];
	uint8_t sqn[6];
} aka_vector_t;

#define AKA_AUTS_LEN 14

/* Builds a vector from K, OPc, AMF, SQN and RAND (draw RAND with
 * aka_random()). TS 33.102 §6.3.2: AUTN = SQN xor AK || AMF || MAC-A.
 * Returns 0, or IMS_EIO when libcrypto fails. */
int aka_vector_make(const uint8_t k[16], const uint8_t opc[16], const uint8_t amf[2],
		    const uint8_t sqn[6], const uint8_t rand[16], aka_vector_t *out /* out */);

/* HSS side of a resynchronisation (TS 33.102 §6.3.5): AUTS = SQN_MS xor
 * AK* || MAC-S, where MAC-S = f1*(SQN_MS || RAND || AMF*) with AMF* = 0000
 * (TS 33.102 §6.3.3). Returns 0 and SQN_MS when MAC-S verifies,
 * IMS_EAUTH when it does not, IMS_EIO when libcrypto fails. */
int aka_auts_check(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
		   const uint8_t auts[14], uint8_t sqn_ms[6] /* out */);

/* Fills buf with n cryptographically random bytes (RAND_bytes).
 * Returns 0 or IMS_EIO. */
int aka_random(uint8_t *buf /* out */, size_t n);

/* SQN as a 48-bit big-endian number and back (bits above 48 dropped). */
uint64_t aka_sqn_get(const uint8_t sqn[6]);
void aka_sqn_put(uint64_t v, uint8_t sqn[6] /* out */);

/* UE (USIM) side, for tests and tools: recovers SQN from AUTN with AK,
 * checks MAC-A (TS 33.102 §6.3.3) and computes RES, CK, IK. sqn_out
 * (6 bytes) may be NULL. Does not judge SQN freshness: the caller
 * compares SQN with its own and decides on a resync (aka_auts_make).
 * Returns 0, IMS_EAUTH when MAC-A is wrong, IMS_EIO on libcrypto failure. */
int aka_ue_answer(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
		  const uint8_t autn[16], uint8_t res[8] /* out */, uint8_t ck[16] /* out */,
		  uint8_t ik[16] /* out */, uint8_t *sqn_out /* out, 6 bytes */);

/* UE side of a resynchronisation: AUTS = SQN_MS xor AK* || MAC-S with
 * AMF* = 0000 (TS 33.102 §6.3.3). Returns 0 or IMS_EIO. */
int aka_auts_make(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
		  const uint8_t sqn_ms[6], uint8_t auts[14] /* out */);

#endif
