/* Third-party REGISTER to application servers (TS 24.229 §5.4.1.7,
 * TS 23.218 §6.3): after a successful REGISTER the S-CSCF evaluates the
 * served user's iFCs against it and, for every AS whose iFC matches,
 * registers the user there on its own behalf.
 */
#ifndef SCSCF_ISC_REGISTER_H
#define SCSCF_ISC_REGISTER_H

#include <stdint.h>

#include "base/ims_arena.h"
#include "base/ims_str.h"
#include "context.h"
#include "profile.h"
#include "sip/msg/sip_msg.h"

/* Builds one third-party REGISTER in `a` (TS 24.229 §5.4.1.7):
 * Request-URI = the AS ServerName, From = the S-CSCF URI (with `tag`),
 * To = the served public identity, Contact = the S-CSCF URI, Call-ID,
 * CSeq 1, Expires = `expires`, and the body the iFC asks for: the
 * incoming REGISTER (IncludeRegisterRequest) and/or its 200
 * (IncludeRegisterResponse) as message/sip, else the ServiceInfo as
 * application/3gpp-ims+xml; several parts make a multipart/mixed body.
 * `req`/`rsp` may be NULL when not included. Returns 0 and *out (in `a`),
 * IMS_EINVAL (ServerName not a sip/sips URI), IMS_ENOMEM. */
int scscf_isc_build_register(ims_arena_t *a, ims_str_t own_uri, ims_str_t served_impu,
			     const scscf_as_t *as, const sip_msg_t *req, const sip_msg_t *rsp,
			     uint32_t expires, ims_str_t call_id, ims_str_t tag,
			     sip_msg_t **out /* out */);

/* The expiry to announce: 0 for a de-registration, else the largest
 * Contact ;expires of the 200 (or its Expires header), else `def`. */
uint32_t scscf_isc_register_expires(const sip_msg_t *rsp, uint32_t def);

/* Sends the third-party REGISTERs for one REGISTER that the registrar
 * answered with `response` (a 2xx). The served identity is the AOR of the
 * REGISTER's To; the iFCs of its service profile are evaluated with the
 * REGISTER in the ORIGINATING session case (registered part), reg_type
 * one of SCSCF_REGTYPE_* (INITIAL/RE/DE). Must run on SIP worker `worker`
 * (the one handling the REGISTER). Failures are logged; an AS failing with
 * SESSION_TERMINATED default handling is logged at warn level (the
 * network-initiated de-registration it calls for is not done here).
 * Returns how many REGISTERs were sent, or a negative IMS_E*. */
int scscf_isc_third_party_register(scscf_ctx_t *ctx, int worker, const scscf_profile_t *profile,
				   const sip_msg_t *register_req, const sip_msg_t *response,
				   int reg_type);

/* The hook for the final response to a REGISTER (the proxy's on_final):
 * for a 2xx, looks the registration up by the To AOR and, when it has a
 * profile, sends the third-party REGISTERs (above) from the context's
 * worker. A 2xx without live contacts is a de-registration: the store has
 * usually dropped the profile by then, so the User-Data remembered at the
 * last registration (`cache`, may be NULL) is used for the Expires: 0
 * REGISTERs. Anything else: no-op. */
struct sip_proxy_ctx;
typedef struct scscf_isc_cache scscf_isc_cache_t;
void scscf_isc_on_register_final(scscf_ctx_t *ctx, struct sip_proxy_ctx *pctx, sip_msg_t *rsp);

/* The registrar tells the REGISTER hook above what kind of registration
 * the request is (SCSCF_REGTYPE_INITIAL when no binding existed for the
 * IMPU before it, SCSCF_REGTYPE_RE for a refresh or another binding,
 * SCSCF_REGTYPE_DE), for the RegistrationType SPT (TS 29.228 Annex B).
 * It is kept as the context's data (REGISTER contexts have no other).
 * Without it the hook does not apply RegistrationType. */
void scscf_isc_note_reg_type(struct sip_proxy_ctx *pctx, int reg_type);

/* "INITIAL_REGISTRATION", "RE-REGISTRATION", "DE-REGISTRATION" or
 * "unknown" (for logs). */
const char *scscf_isc_reg_type_name(int reg_type);

/* A network-initiated de-registration of impu (binding expiry, RTR,
 * administrative; TS 24.229 §5.4.1.7 and §5.4.1.5): sends the third-party
 * REGISTER with Expires: 0 to every AS whose iFC matches a de-registering
 * REGISTER (RegistrationType DE-REGISTRATION, To/From = impu), from the
 * User-Data remembered at its last registration, which is then forgotten.
 * Must run on SIP worker `worker`. Returns how many were sent (0 when
 * nothing was remembered for impu), or a negative IMS_E*. */
int scscf_isc_network_dereg(scscf_ctx_t *ctx, int worker, ims_str_t impu);

/* Remembers the User-Data of a registered impu for its de-registration
 * (the REGISTER hook calls it after each registration; no-op without
 * the session side). */
void scscf_isc_remember(scscf_ctx_t *ctx, ims_str_t impu, ims_str_t user_data);

/* The User-Data remembered per registered public identity (for the
 * third-party de-registration). Thread-safe. create returns NULL on
 * out-of-memory; destroy takes NULL. */
scscf_isc_cache_t *scscf_isc_cache_create(void);
void scscf_isc_cache_destroy(scscf_isc_cache_t *c);

#endif
