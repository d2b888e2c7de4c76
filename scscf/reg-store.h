/* The S-CSCF registrar store: registrations (one per implicit registration
 * set, TS 23.228 §4.3.3.4) with their contact bindings, kept in memory
 * behind one mutex and written through to SQLite so a restarted S-CSCF
 * keeps every registration (scscf_reg_store_open reloads them).
 *
 * Time is passed in by the caller (`now`, seconds since the epoch) so
 * expiry runs on a virtual clock in tests; binding expiry times are
 * absolute and therefore survive a restart.
 *
 * Readers (the session code) take a snapshot with scscf_reg_store_lookup():
 * every string is copied into the caller's arena, and the parsed profile
 * comes with a reference that scscf_reg_view_release() drops. Everything
 * here is thread-safe. */
#ifndef SCSCF_REG_STORE_H
#define SCSCF_REG_STORE_H

#include <stdint.h>
#include <stddef.h>

#include "base/ims_arena.h"
#include "base/ims_str.h"

struct scscf_profile; /* scscf/profile.h (session side) */

typedef struct scscf_reg_store scscf_reg_store_t;

/* TS 29.228 §6.1.2 registration states of a public identity. */
typedef enum scscf_reg_state {
	SCSCF_REG_NOT_REGISTERED = 0,
	SCSCF_REG_REGISTERED,
	SCSCF_REG_UNREGISTERED, /* profile downloaded for unregistered services */
} scscf_reg_state_t;

/* RFC 3680 §5.1 / TS 24.229 §5.4.2.1.2 contact events. */
typedef enum scscf_contact_event {
	SCSCF_CEV_NONE = 0,
	SCSCF_CEV_REGISTERED,
	SCSCF_CEV_CREATED,
	SCSCF_CEV_REFRESHED,
	SCSCF_CEV_SHORTENED,
	SCSCF_CEV_EXPIRED,
	SCSCF_CEV_DEACTIVATED,
	SCSCF_CEV_PROBATION,
	SCSCF_CEV_UNREGISTERED,
	SCSCF_CEV_REJECTED,
} scscf_contact_event_t;

/* One contact binding (RFC 3261 §10.3, RFC 3327 Path, RFC 5626). */
typedef struct scscf_binding {
	uint64_t id;          /* stable id (reginfo contact id) */
	ims_str_t uri;        /* Contact URI (addr-spec) */
	ims_str_t params;     /* Contact header params to echo (raw, no leading ';', no expires/q) */
	ims_str_t path;       /* Path values, comma separated, in the order received; empty: none */
	ims_str_t received;   /* where the REGISTER came from ("sip:ip:port;transport=x"); empty: none */
	ims_str_t instance;   /* +sip.instance value (RFC 5626 §4.1); empty: none */
	uint32_t reg_id;      /* reg-id, 0 = none */
	int q;                /* q-value x1000 (0..1000), -1 = not given */
	int64_t expires;      /* absolute expiry time (seconds) */
	ims_str_t call_id;    /* of the REGISTER that last refreshed it */
	uint32_t cseq;
	ims_str_t user_agent;
	scscf_contact_event_t event; /* in change lists: what happened to it */
} scscf_binding_t;

/* A snapshot of one registration. Strings live in the arena given to the
 * lookup; the profile reference is dropped by scscf_reg_view_release(). */
typedef struct scscf_reg_view {
	scscf_reg_state_t state;
	ims_str_t impi;
	ims_str_t impu;            /* the public identity the registration is keyed by */
	ims_str_t *impus;          /* the implicit registration set, as in the SAA User-Data */
	size_t n_impus;
	scscf_binding_t *bindings; /* live bindings only (expires > now), highest q first */
	size_t n_bindings;
	ims_str_t user_data;       /* raw SAA User-Data XML (TS 29.228 Annex E) */
	struct scscf_profile *profile; /* parsed profile, NULL until parsed */
	void *priv;                /* reference holder: do not touch */
} scscf_reg_view_t;

typedef void (*scscf_profile_free_fn)(struct scscf_profile *p);

/* Opens (creates) the SQLite file at db_path (":memory:" for none) and
 * loads every stored registration. Bindings already expired at `now` are
 * kept until the first scscf_reg_store_expire() so their owner still gets
 * a SAR TIMEOUT_DEREGISTRATION. profile_free (may be NULL) frees profiles
 * handed to the store. Returns 0 and *out, or IMS_EDB (the SQLite error is
 * logged), IMS_ENOMEM. */
int scscf_reg_store_open(const char *db_path, scscf_profile_free_fn profile_free,
			 scscf_reg_store_t **out /* out */);

/* Closes the database and frees every registration. NULL is fine. */
void scscf_reg_store_close(scscf_reg_store_t *st);

/* Snapshot of the registration that holds public identity `impu` (compared
 * as written, which for what the S-CSCF stores is the AOR form of the URI:
 * sip_uri_aor()). Only bindings with expires > now are returned. Returns 0,
 * IMS_ENOENT when no registration holds impu (out->state is then
 * NOT_REGISTERED), IMS_ENOMEM. Call scscf_reg_view_release() after a 0. */
int scscf_reg_store_lookup(scscf_reg_store_t *st, ims_str_t impu, int64_t now, ims_arena_t *a,
			   scscf_reg_view_t *out /* out */);

/* Drops the profile reference of a view (the strings stay in the arena). */
void scscf_reg_view_release(scscf_reg_view_t *v);

/* Registration state of impu at `now`: REGISTERED when it has a live
 * binding, UNREGISTERED when a profile is kept for unregistered services,
 * else NOT_REGISTERED. */
scscf_reg_state_t scscf_reg_store_state(scscf_reg_store_t *st, ims_str_t impu, int64_t now);

/* Number of registrations / live bindings (metrics). */
size_t scscf_reg_store_count(scscf_reg_store_t *st, size_t *n_bindings /* out, may be NULL */);

/* ---- updates (registrar side) --------------------------------------- */

/* What one REGISTER asks for after authentication (RFC 3261 §10.3 step 6-8). */
typedef struct scscf_reg_update {
	ims_str_t impi;
	ims_str_t impu;            /* AOR of the To header */
	const ims_str_t *impus;    /* implicit set from the SAA (NULL/0: keep the stored one, or {impu}) */
	size_t n_impus;
	ims_str_t user_data;       /* SAA User-Data; empty: keep the stored one */
	struct scscf_profile *profile; /* consumed by a real run (freed on failure); a dry run leaves it */
	int star;                  /* Contact: * with Expires: 0 (remove all) */
	const scscf_binding_t *contacts; /* requested bindings; expires is ABSOLUTE, == now means remove */
	size_t n_contacts;
} scscf_reg_update_t;

/* The outcome of an update, expiry or removal, for the 200 OK and the
 * reg event NOTIFYs. Arrays live in the arena given to the call. */
typedef struct scscf_reg_change {
	ims_str_t impi;
	ims_str_t impu;
	ims_str_t *impus;
	size_t n_impus;
	scscf_reg_state_t old_state, new_state;
	scscf_binding_t *bindings;   /* every binding touched or left, with its event */
	size_t n_bindings;
	size_t n_live;               /* bindings still registered after the change */
} scscf_reg_change_t;

/* Applies an update. dry_run = 1 computes the outcome without changing
 * anything (the registrar uses it to choose the SAR type before the Cx
 * round trip). Returns 0 and *chg, IMS_ESTATE when a contact's Call-ID
 * matches with a CSeq not higher than the stored one (RFC 3261 §10.3 step
 * 7: the caller answers 500), IMS_EDB when the write-through failed
 * (memory is updated anyway), IMS_ENOMEM. */
int scscf_reg_store_apply(scscf_reg_store_t *st, const scscf_reg_update_t *upd, int64_t now,
			  int dry_run, ims_arena_t *a, scscf_reg_change_t *chg /* out */);

/* Removes every binding whose expiry is <= now. For each registration
 * that lost bindings, cb is called once (outside the lock) with the
 * change (new_state NOT_REGISTERED when the last one went: the caller
 * sends SAR TIMEOUT_DEREGISTRATION). Returns how many registrations
 * changed. */
typedef void (*scscf_reg_change_cb)(void *arg, const scscf_reg_change_t *chg);
int scscf_reg_store_expire(scscf_reg_store_t *st, int64_t now, scscf_reg_change_cb cb, void *arg);

/* Removes the whole registration holding impu (network-initiated
 * de-registration: RTR, administrative removal). ev is the contact event
 * to report (DEACTIVATED, REJECTED, UNREGISTERED). Returns 0 and *chg,
 * IMS_ENOENT, IMS_ENOMEM. */
int scscf_reg_store_remove(scscf_reg_store_t *st, ims_str_t impu, scscf_contact_event_t ev,
			   int64_t now, ims_arena_t *a, scscf_reg_change_t *chg /* out */);

/* Replaces the User-Data and the parsed profile of the registration
 * holding impu (PPR, or a profile parsed after the fact). profile is
 * consumed (freed with the store's profile_free when the call fails).
 * Returns 0, IMS_ENOENT. */
int scscf_reg_store_set_profile(scscf_reg_store_t *st, ims_str_t impu, ims_str_t user_data,
				struct scscf_profile *profile);

/* Keeps a profile for unregistered services (SAR UNREGISTERED_USER, TS
 * 29.228 §6.1.2): creates the registration in state UNREGISTERED when
 * none holds impu. Consumes profile as above. Returns 0, IMS_ENOMEM. */
int scscf_reg_store_set_unregistered(scscf_reg_store_t *st, ims_str_t impi, ims_str_t impu,
				     const ims_str_t *impus, size_t n_impus,
				     ims_str_t user_data, struct scscf_profile *profile);

/* The key impus (scscf_reg_view_t.impu) of every registration of private
 * identity impi, copied into a. Returns how many (0 when none), or
 * IMS_ENOMEM. */
int scscf_reg_store_find_impi(scscf_reg_store_t *st, ims_str_t impi, ims_arena_t *a,
			      ims_str_t **impus /* out */);

/* Names for logs and reginfo: "registered", "expired", ... */
const char *scscf_contact_event_name(scscf_contact_event_t ev);
const char *scscf_reg_state_name(scscf_reg_state_t s);

#endif
