/* Inside common/auth only: Milenage with a caller-held AES key schedule,
 * so AKA can run f1 and f2..f5* for one vector on a single schedule. */
#ifndef IMS_MILENAGE_INT_H
#define IMS_MILENAGE_INT_H

#include <stdint.h>
#include <openssl/evp.h>

typedef struct milenage__kernel {
	EVP_CIPHER_CTX *ctx; /* AES-128-ECB keyed with K */
} milenage__kernel_t;

/* Builds the key schedule for K. Returns 0 or IMS_EIO; on success the
 * caller releases it with milenage__kernel_done(). */
int milenage__kernel_init(milenage__kernel_t *kr, const uint8_t k[16]);
void milenage__kernel_done(milenage__kernel_t *kr);

/* As milenage_f1 / milenage_f2345 on an initialised kernel. */
int milenage__f1(milenage__kernel_t *kr, const uint8_t opc[16], const uint8_t rand[16],
		 const uint8_t sqn[6], const uint8_t amf[2], uint8_t mac_a[8], uint8_t mac_s[8]);
int milenage__f2345(milenage__kernel_t *kr, const uint8_t opc[16], const uint8_t rand[16],
		    uint8_t res[8], uint8_t ck[16], uint8_t ik[16], uint8_t ak[6],
		    uint8_t ak_star[6]);

#endif
