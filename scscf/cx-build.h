/* The S-CSCF's Cx requests (TS 29.228 §6.3 MAR, §6.1.2 SAR) on top of
 * common/dia. The answer is copied out of freeDiameter's callback into a
 * heap result so the registrar can carry it over to its SIP worker. */
#ifndef SCSCF_CX_BUILD_H
#define SCSCF_CX_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "auth-nonce.h"
#include "context.h"
#include "dia/cx-client.h"
#include "dia/cx-dict.h"

/* How requests leave: cx_client_send in the daemon, a fake in tests. */
typedef int (*scscf_cx_send_fn)(const cx_req_t *req, unsigned timeout_ms, cx_answer_cb_t cb,
				void *arg);

struct scscf_cx {
	scscf_cx_send_fn send;
	unsigned timeout_ms;
};

/* What the registrar keeps of an MAA or SAA. */
typedef struct scscf_cx_result {
	cx_ans_status_t status;   /* OK, TIMEOUT, UNREACHABLE, ERROR */
	uint32_t code;            /* Experimental-Result-Code or Result-Code */
	int success;              /* 2xxx */
	int has_vec;              /* MAA: the first usable SIP-Auth-Data-Item */
	scscf_auth_vec_t vec;
	char *user_data;          /* SAA: User-Data (NUL-terminated), NULL when none */
	size_t user_data_len;
} scscf_cx_result_t;

/* Called once per request, on a freeDiameter thread; owns res (free it
 * with scscf_cx_result_free). */
typedef void (*scscf_cx_done_fn)(void *arg, scscf_cx_result_t *res);

void scscf_cx_result_free(scscf_cx_result_t *res);

/* MAR (TS 29.228 §6.3.1): one vector of `scheme` for impi/impu, Server-Name
 * = our URI. rand_auts (30 bytes, RAND || AUTS) asks for a
 * resynchronisation (TS 29.228 §6.3.3 SIP-Authorization). Returns 0 (done
 * will be called), or an error of cx_client_send (done is not called). */
int scscf_cx_send_mar(scscf_ctx_t *ctx, ims_str_t impi, ims_str_t impu,
		      scscf_auth_scheme_t scheme, const uint8_t *rand_auts,
		      scscf_cx_done_fn done, void *arg);

/* SAR (TS 29.228 §6.1.2) of type sat for impi and impu. user_data_available
 * sets User-Data-Already-Available. Same returns. */
int scscf_cx_send_sar(scscf_ctx_t *ctx, ims_str_t impi, ims_str_t impu, cx_sat_t sat,
		      int user_data_available, scscf_cx_done_fn done, void *arg);

/* Fills a vector from one SIP-Auth-Data-Item: AKA when SIP-Authenticate is
 * RAND || AUTN (32 bytes) with XRES, CK and IK; MD5 when
 * SIP-Digest-Authenticate carries a 32-hex-digit HA1. Returns 0 or
 * IMS_EINVAL. */
int scscf_cx_item_to_vec(const cx_auth_item_t *it, scscf_auth_vec_t *vec /* out */);

#endif
