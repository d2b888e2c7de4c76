/* Cx messages as plain structs, and their encoding to / decoding from
 * freeDiameter messages (TS 29.229 §6.1). One request struct serves every
 * command (a field unused by a command is left empty) and one answer
 * struct every answer, so the client, the server and the tests share one
 * codec.
 *
 * Ownership: decoded views (ims_str_t) point into the arena passed to the
 * decoder (strings are copied there, NUL-terminated); they live as long as
 * that arena. Octet strings (SIP-Authenticate, keys...) are views too:
 * .s points at raw bytes, .len is their length. */
#ifndef CX_MSG_H
#define CX_MSG_H

#include <stdint.h>

#include "base/ims_arena.h"
#include "base/ims_str.h"

struct msg;
struct avp;

#define CX_MAX_IMPU 16
#define CX_MAX_AUTH_ITEMS 8
#define CX_MAX_CAPS 16

typedef struct cx_req {
	uint32_t cmd;                /* CX_CMD_UAR ... (decode: from the header) */
	ims_str_t session_id;        /* encode: empty = a new one */
	ims_str_t origin_host, origin_realm; /* decode only */
	ims_str_t dest_host;         /* empty = route by realm */
	ims_str_t dest_realm;        /* encode: empty = cx_core_dest_realm() */
	ims_str_t user_name;         /* the private identity (IMPI) */
	ims_str_t impu[CX_MAX_IMPU]; /* Public-Identity (SAR/RTR: several) */
	unsigned n_impu;
	ims_str_t visited_network;   /* UAR */
	int has_auth_type;
	uint32_t auth_type;          /* User-Authorization-Type (cx_uat_t) */
	int has_uar_flags;
	uint32_t uar_flags;
	ims_str_t server_name;       /* MAR, SAR */
	uint32_t n_auth_items;       /* MAR SIP-Number-Auth-Items */
	ims_str_t auth_scheme;       /* MAR SIP-Auth-Data-Item/Scheme */
	ims_str_t auth_authorization;/* MAR resync: RAND || AUTS (30 bytes) */
	int has_sat;
	uint32_t sat;                /* SAR Server-Assignment-Type (cx_sat_t) */
	uint32_t user_data_available;/* SAR User-Data-Already-Available */
	int has_originating;         /* LIR Originating-Request present */
	int has_dereg;               /* RTR Deregistration-Reason */
	uint32_t dereg_code;         /* cx_reason_code_t */
	ims_str_t dereg_info;
	ims_str_t user_data;         /* PPR User-Data (XML) */
} cx_req_t;

typedef struct cx_auth_item {
	uint32_t item_number;
	ims_str_t scheme;            /* "Digest-AKAv1-MD5", "SIP Digest" ... */
	ims_str_t authenticate;      /* AKA: RAND || AUTN (32 bytes) */
	ims_str_t authorization;     /* AKA: XRES */
	ims_str_t ck, ik;            /* 16 bytes each */
	int has_digest;              /* SIP-Digest-Authenticate present */
	ims_str_t digest_realm, digest_qop, digest_algorithm, digest_ha1;
} cx_auth_item_t;

/* How the exchange ended (only CX_ANS_OK carries a peer's answer). */
typedef enum cx_ans_status {
	CX_ANS_OK = 0,        /* an answer arrived (look at the codes) */
	CX_ANS_TIMEOUT,       /* no answer in time: a CSCF answers 504 */
	CX_ANS_UNREACHABLE,   /* no route/peer (DIAMETER_UNABLE_TO_DELIVER or
			       * a local send failure): a CSCF answers 500/503 */
	CX_ANS_ERROR,         /* unparsable answer or local failure */
} cx_ans_status_t;

typedef struct cx_answer {
	cx_ans_status_t status;
	uint32_t cmd;
	ims_str_t session_id, origin_host, origin_realm;
	uint32_t result_code;        /* Result-Code, 0 when absent */
	uint32_t exp_result_code;    /* Experimental-Result-Code, 0 when absent */
	uint32_t exp_vendor_id;
	ims_str_t error_message;
	uint32_t failed_avp_code;    /* the AVP inside Failed-AVP, 0 if none */
	uint32_t failed_avp_vendor;
	ims_str_t failed_avp_data;   /* its value (server: empty for a missing
				      * AVP, which is then sent zero-filled) */
	ims_str_t user_name;
	ims_str_t impu;              /* MAA Public-Identity */
	ims_str_t server_name;       /* UAA, LIA */
	int has_caps;                /* Server-Capabilities present */
	uint32_t cap_mandatory[CX_MAX_CAPS];
	unsigned n_cap_mandatory;
	uint32_t cap_optional[CX_MAX_CAPS];
	unsigned n_cap_optional;
	ims_str_t cap_server_name[CX_MAX_CAPS];
	unsigned n_cap_server_name;
	uint32_t n_auth_items;       /* MAA SIP-Number-Auth-Items */
	cx_auth_item_t items[CX_MAX_AUTH_ITEMS];
	unsigned n_items;
	ims_str_t user_data;         /* SAA User-Data (XML) */
	ims_str_t assoc_impi[CX_MAX_IMPU]; /* Associated-Identities/User-Name */
	unsigned n_assoc_impi;
} cx_answer_t;

/* The code that decides the outcome: Experimental-Result-Code when present,
 * else Result-Code. */
static inline uint32_t cx_answer_code(const cx_answer_t *a)
{
	return a->exp_result_code ? a->exp_result_code : a->result_code;
}

/* 1 for 2xxx codes (DIAMETER_SUCCESS, FIRST/SUBSEQUENT_REGISTRATION...). */
static inline int cx_answer_success(const cx_answer_t *a)
{
	uint32_t c = cx_answer_code(a);
	return a->status == CX_ANS_OK && c >= 2000 && c < 3000;
}

/* Name of a command ("UAR", "MAA"...) and of a code (for logs). */
const char *cx_cmd_name(uint32_t cmd, int request);
const char *cx_code_name(uint32_t code, int experimental);

/* Builds a new request for req->cmd with Session-Id, Auth-Session-State
 * NO_STATE_MAINTAINED, Vendor-Specific-Application-Id, Origin-*,
 * Destination-* and the command's AVPs (TS 29.229 §6.1.x ABNF). On success
 * *out is the caller's (fd_msg_free, or pass it to fd_msg_send).
 * Errors: IMS_EINVAL (unknown command, or a required field empty: UAR/MAR
 * user_name + impu, MAR/SAR server_name, SAR user_name or impu, LIR impu,
 * RTR/PPR user_name + dest_host), IMS_EDIAMETER. */
int cx_req_encode(const cx_req_t *req, struct msg **out /* out */);

/* Reads a received request into *req (zeroed first); strings are copied
 * into `arena`. Checks what the handlers rely on: a required AVP that is
 * missing fills ans->result_code = DIAMETER_MISSING_AVP and
 * ans->failed_avp_code/vendor, a bad value DIAMETER_INVALID_AVP_VALUE with
 * the offending value in ans->failed_avp_data. Returns 0, IMS_EPARSE (ans says why),
 * IMS_ENOMEM. */
int cx_req_decode(struct msg *m, ims_arena_t *arena, cx_req_t *req /* out */,
		  cx_answer_t *ans /* out */);

/* Adds the answer AVPs of `ans` (Result-Code or Experimental-Result,
 * Auth-Session-State, Vendor-Specific-Application-Id, the command's AVPs,
 * Failed-AVP) to `answer`, created by fd_msg_new_answer_from_req (which
 * already put Session-Id, Origin-*). Returns 0 or IMS_EDIAMETER. */
int cx_ans_encode(struct msg *answer, const cx_answer_t *ans);

/* Reads a received answer into *ans (zeroed first, status CX_ANS_OK);
 * strings are copied into `arena`. Returns 0, IMS_EPARSE, IMS_ENOMEM. */
int cx_ans_decode(struct msg *m, ims_arena_t *arena, cx_answer_t *ans /* out */);

#endif
