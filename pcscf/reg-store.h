/* The P-CSCF registration cache (TS 24.229 §5.2.2.1, §5.2.2.4).
 *
 * After a 200 (OK) to a REGISTER the P-CSCF keeps, per UE flow, what it
 * needs to police and route that UE's traffic: the address and transport
 * the REGISTER came from (and its TCP connection), the registered
 * contacts, the Service-Route and the P-Associated-URI set, and the expiry.
 *
 * An entry is keyed by the UE's flow (transport + source IP + port): a
 * request is accepted from a UE only when it arrives on a registered flow
 * (§5.2.6.3.1). Entries can also be found by one of their contacts (a
 * request to the UE arrives with the contact as request URI) and by one of
 * their public identities (a reg-event NOTIFY names the public identity).
 *
 * Thread-safety: every call takes the store's mutex. Lookups hand back a
 * deep copy in the caller's arena, so the caller never holds a pointer an
 * other thread may free. Time is passed in (seconds on a monotonic clock)
 * so tests drive expiry without waiting.
 */
#ifndef PCSCF_REG_STORE_H
#define PCSCF_REG_STORE_H

#include <stdint.h>
#include <stddef.h>

#include "base/ims_arena.h"
#include "base/ims_str.h"

typedef enum pcscf_transport {
	PCSCF_TP_UDP = 0,
	PCSCF_TP_TCP = 1,
} pcscf_transport_t;

/* The UE's flow: where its REGISTER came from. */
typedef struct pcscf_flow {
	pcscf_transport_t transport;
	char ip[64];      /* numeric, IPv6 without brackets */
	uint16_t port;
	uint64_t conn_id; /* transport connection (TCP), 0 when none */
} pcscf_flow_t;

#define PCSCF_REG_MAX_LIST 16

/* One registration. Every string is NUL-terminated. Inside the store an
 * entry owns an arena holding all of its strings; copies handed out by
 * lookups live in the caller's arena. */
typedef struct pcscf_reg {
	pcscf_flow_t flow;
	ims_str_t impi;                                 /* may be empty */
	ims_str_t impu;                                 /* the To of the REGISTER */
	ims_str_t assoc[PCSCF_REG_MAX_LIST];            /* P-Associated-URI (URIs, no <>) */
	unsigned n_assoc;
	ims_str_t service_route[PCSCF_REG_MAX_LIST];    /* values as received, e.g. "<sip:orig@s;lr>" */
	unsigned n_service_route;
	ims_str_t contacts[PCSCF_REG_MAX_LIST];         /* contact URIs (no <>) */
	unsigned n_contacts;
	int64_t expires_at;                             /* monotonic seconds */
	ims_str_t ck, ik;                               /* hex, kept from the 401 (TS 33.203); may be empty */
} pcscf_reg_t;

typedef struct pcscf_reg_store pcscf_reg_store_t;

/* Creates an empty store. Returns NULL on out-of-memory. */
pcscf_reg_store_t *pcscf_reg_store_create(void);

/* Frees the store and every entry. NULL is fine. */
void pcscf_reg_store_destroy(pcscf_reg_store_t *st);

/* Stores `reg` (deep-copied; the caller keeps its own). An entry for the
 * same flow is replaced (re-registration). Returns 0, IMS_EINVAL (no
 * contact or no public identity), IMS_ENOMEM. */
int pcscf_reg_store_put(pcscf_reg_store_t *st, const pcscf_reg_t *reg);

/* Finds the registration of a flow. The port and transport must match; the
 * connection id is not compared (a UE may reconnect). Returns 0 with a copy
 * in arena `a`, IMS_ENOENT (also for an expired entry), IMS_ENOMEM. */
int pcscf_reg_store_find_flow(pcscf_reg_store_t *st, pcscf_transport_t tp, const char *ip,
			      uint16_t port, int64_t now, ims_arena_t *a,
			      pcscf_reg_t **out /* out */);

/* Finds the registration holding a contact equal to `uri` (RFC 3261
 * §19.1.4 comparison), else one whose contact has the same host and port
 * (a dialog's remote target). Returns 0 with a copy in `a`, IMS_ENOENT,
 * IMS_ENOMEM. */
int pcscf_reg_store_find_contact(pcscf_reg_store_t *st, ims_str_t uri, int64_t now,
				 ims_arena_t *a, pcscf_reg_t **out /* out */);

/* Removes the registration of a flow. Returns 0 or IMS_ENOENT. */
int pcscf_reg_store_remove_flow(pcscf_reg_store_t *st, pcscf_transport_t tp, const char *ip,
				uint16_t port);

/* Removes every registration whose public identities (the REGISTER's To or
 * the P-Associated-URI set) contain `impu` (RFC 3261 URI comparison, tel:
 * by number). Returns how many were removed. */
int pcscf_reg_store_remove_impu(pcscf_reg_store_t *st, ims_str_t impu);

/* Removes every entry with expires_at <= now. Returns how many. */
int pcscf_reg_store_expire(pcscf_reg_store_t *st, int64_t now);

/* Number of live entries. */
unsigned pcscf_reg_store_count(pcscf_reg_store_t *st);

/* Deep-copies `in` into arena `a`. Returns 0 or IMS_ENOMEM. */
int pcscf_reg_copy(const pcscf_reg_t *in, ims_arena_t *a, pcscf_reg_t **out /* out */);

/* 1 when `uri` is one of the registration's public identities (the
 * P-Associated-URI set, or the registered impu when the set is empty). */
int pcscf_reg_has_impu(const pcscf_reg_t *reg, ims_str_t uri);

#endif
