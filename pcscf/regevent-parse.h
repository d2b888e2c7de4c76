/* The P-CSCF's reading of reg-event NOTIFY bodies (RFC 3680 §5.3,
 * application/reginfo+xml; TS 24.229 §5.2.3). */
#ifndef PCSCF_REGEVENT_PARSE_H
#define PCSCF_REGEVENT_PARSE_H

#include <stddef.h>

#include "base/ims_str.h"

/* Called for each <registration> element: its aor and state ("active",
 * "terminated", "init"). The views are valid during the call only. */
typedef void (*pcscf_reginfo_fn)(void *ud, ims_str_t aor, ims_str_t state);

/* Parses a reginfo document and calls fn for every registration element.
 * Returns the number of registrations, or IMS_EPARSE (not XML, or the root
 * is not <reginfo> in the urn:ietf:params:xml:ns:reginfo namespace). */
int pcscf_reginfo_parse(const char *xml, size_t len, pcscf_reginfo_fn fn, void *ud);

#endif
