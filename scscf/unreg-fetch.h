/* Terminating requests for a user this S-CSCF does not hold (issue 9:
 * a MESSAGE to an unregistered user reaching a store-and-forward AS).
 *
 * TS 24.229 §5.4.3.3: the S-CSCF serves a terminating request for an
 * unregistered user who has services for that state; the I-CSCF sends it
 * here after an LIA with DIAMETER_UNREGISTERED_SERVICE (TS 29.228
 * §6.1.4.1). TS 29.228 §6.1.2: the S-CSCF then asks the HSS for the
 * profile with SAR Server-Assignment-Type UNREGISTERED_USER (User-Name
 * absent, the public identity only) and keeps it; the registration store
 * holds it in state UNREGISTERED (scscf_reg_store_set_unregistered), so
 * the request runs the TERMINATING_UNREGISTERED iFCs.
 */
#ifndef SCSCF_UNREG_FETCH_H
#define SCSCF_UNREG_FETCH_H

#include "base/ims_str.h"
#include "context.h"
#include "sip/proxy/sip_proxy.h"

/* Called on the request's worker once the fetch is over: rc 0 (the store
 * now holds the user, UNREGISTERED), IMS_ENOENT (the HSS knows no such
 * user, or gave no User-Data), IMS_EDIAMETER (no answer, or an error
 * answer), IMS_EPARSE (User-Data that does not parse), IMS_ENOMEM. The
 * callback must end the request (reply, forward...), as in a hook. */
typedef void (*scscf_unreg_done_fn)(sip_proxy_ctx_t *pctx, void *arg, int rc);

/* Suspends pctx and sends the SAR for impu (copied). Returns 0 (done
 * will be called exactly once, on the worker), IMS_EUNREACH (no Cx client
 * in this context, e.g. a unit test: nothing suspended, done not called),
 * IMS_ENOMEM (idem). */
int scscf_unreg_fetch(scscf_ctx_t *ctx, sip_proxy_ctx_t *pctx, ims_str_t impu,
		      scscf_unreg_done_fn done, void *arg);

#endif
