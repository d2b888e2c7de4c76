/* The reg event package at the S-CSCF (RFC 3680, TS 24.229 §5.4.2.1):
 * SUBSCRIBE with Event: reg from the UE or its P-CSCF, the dialog it
 * creates, and NOTIFYs with application/reginfo+xml (full state first,
 * version 0, then partial state on every change, version + 1).
 *
 * Subscriptions are kept in memory and, when a database is given, written
 * through to SQLite. Thread-safe: one mutex; NOTIFYs go out on the calling
 * worker (or worker 0 when called from elsewhere). */
#ifndef SCSCF_REGEVENT_H
#define SCSCF_REGEVENT_H

#include <stddef.h>
#include <stdint.h>

#include "context.h"
#include "reg-store.h"
#include "sip/proxy/sip_proxy.h"

typedef struct scscf_regevent scscf_regevent_t;

/* Creates the subscription table. With db_path (the registrar's SQLite
 * file is fine: WAL mode, own connection) every subscription is written
 * through to table `regsub` and the ones stored are loaded again, so a
 * restarted S-CSCF keeps NOTIFYing its subscribers (same dialog, CSeq and
 * version going on). db_path NULL or ":memory:" keeps them in memory only.
 * Returns 0 and *out, IMS_EDB (logged), IMS_ENOMEM. */
int scscf_regevent_create(const char *db_path, scscf_regevent_t **out /* out */);
/* Frees every subscription (no NOTIFY). NULL is fine. */
void scscf_regevent_destroy(scscf_regevent_t *re);

/* 1 when msg is a SUBSCRIBE for the reg package (Event: reg). */
int scscf_regevent_is_reg_subscribe(const sip_msg_t *msg);

/* Handles a SUBSCRIBE for Event: reg (initial, refresh, or Expires: 0):
 * authorises the subscriber (TS 24.229 §5.4.2.1.1: the user itself, by
 * P-Asserted-Identity or else From, or a P-CSCF on its Path), answers
 * 200 with Expires and our Contact (or 403/489/481), and sends the NOTIFY
 * once the 200 is on its way (scscf_regevent_on_final). */
void scscf_regevent_on_subscribe(scscf_ctx_t *ctx, sip_proxy_ctx_t *pctx);

/* The proxy's on_final hook for a SUBSCRIBE answered above: learns the To
 * tag the core put on the 200 and sends the full-state NOTIFY. */
void scscf_regevent_on_final(scscf_ctx_t *ctx, sip_proxy_ctx_t *pctx, sip_msg_t *rsp);

/* A registration changed (REGISTER, expiry, RTR): a partial NOTIFY to
 * every subscriber of it; when the registration ended, the NOTIFY also
 * terminates the subscription (Subscription-State: terminated;
 * reason=deactivated|rejected...). */
void scscf_regevent_notify(scscf_ctx_t *ctx, const scscf_reg_change_t *chg, int64_t now);

/* Ends subscriptions whose expiry passed (terminated NOTIFY,
 * reason=timeout). Returns how many ended. */
int scscf_regevent_expire(scscf_ctx_t *ctx, int64_t now);

/* Number of live subscriptions (metrics, tests). */
size_t scscf_regevent_count(scscf_ctx_t *ctx);

/* Builds a reginfo document (RFC 3680 §5.3): version, "full" or
 * "partial", one <registration> per public identity of the set (aor,
 * id, state active|terminated) each listing the bindings with their
 * contact state, event and remaining expiry. A full document lists live
 * bindings only. *xml is malloc'ed (caller frees), *len without NUL.
 * Returns 0, IMS_ENOMEM. */
int scscf_reginfo_build(uint32_t version, int full, const ims_str_t *impus, size_t n_impus,
			const scscf_binding_t *b, size_t nb, int64_t now, char **xml /* out */,
			size_t *len /* out */);

#endif
