/* S-CSCF selection at the I-CSCF (TS 24.229 §5.3.1.2, TS 29.228 §6.7
 * Server-Capabilities): the configured pool and the choice by
 * the mandatory and optional capabilities the HSS returns. */
#ifndef ICSCF_ROUTE_SELECT_H
#define ICSCF_ROUTE_SELECT_H

#include <stdint.h>

#include "base/ims_str.h"

#define ICSCF_MAX_SCSCF 16
#define ICSCF_MAX_CAPS 16

typedef struct icscf_scscf {
	char name[256];   /* Server-Name as the HSS knows it, e.g. sip:scscf.<realm>:6060 */
	char uri[256];    /* where to send (a SIP URI with a reachable host); defaults to name */
	uint32_t caps[ICSCF_MAX_CAPS];
	unsigned n_caps;
} icscf_scscf_t;

typedef struct icscf_pool {
	icscf_scscf_t s[ICSCF_MAX_SCSCF];
	unsigned n;
} icscf_pool_t;

/* The capability requirements of one UAA/LIA (Server-Capabilities). */
typedef struct icscf_caps_req {
	const uint32_t *mandatory;
	unsigned n_mandatory;
	const uint32_t *optional;
	unsigned n_optional;
	const ims_str_t *names;   /* Server-Name values inside Server-Capabilities */
	unsigned n_names;
} icscf_caps_req_t;

/* Chooses an S-CSCF: among the pool entries not marked in `tried` (a bit
 * per pool index) that have every mandatory capability, the one named in
 * req->names first (in the HSS's order), else the one with the most
 * optional capabilities, ties going to pool order (TS 29.228 §6.7: the
 * I-CSCF selects by the capabilities; names listed by the HSS are
 * preferred). Returns the pool index, or IMS_ENOENT when none qualifies. */
int icscf_select_scscf(const icscf_pool_t *pool, const icscf_caps_req_t *req, uint32_t tried);

/* Finds the pool entry whose name (or uri) equals `server_name` (RFC 3261
 * URI comparison). Returns the index or IMS_ENOENT. */
int icscf_pool_find(const icscf_pool_t *pool, ims_str_t server_name);

#endif
