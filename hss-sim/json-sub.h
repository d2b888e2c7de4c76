/* The subscriber record in JSON (the REST API of SPEC.md "HSS REST API"):
 * strict validation with an error that names the field path, and the
 * reverse dump. The store also keeps the iFC list in this JSON shape. */
#ifndef HSS_JSON_SUB_H
#define HSS_JSON_SUB_H

#include <stddef.h>

#include <jansson.h>

#include "hss-store.h"

/* Parses and validates a REST subscriber body (bytes, not necessarily
 * NUL-terminated). Every field is checked; OPc is derived from OP (TS
 * 35.206 §4.1) when "op" is given. auth.sqn absent leaves has_sqn = 0
 * (sqn 0). On success the caller owns *out (hss_sub_free).
 * Errors: IMS_EINVAL with "<field path>: <what>" in err (e.g.
 * "ifcs[0].trigger.spt[2].session_case: unknown value \"X\""),
 * IMS_ENOMEM, IMS_EIO (libcrypto). */
int hss_json_sub_parse(const char *body, size_t len, hss_sub_t **out /* out */,
		       char *err, size_t errlen);

/* Parses a bulk provisioning body: a JSON array of 1..max_items subscriber
 * objects, each validated as by hss_json_sub_parse. On success *out is a
 * malloc'ed array of *n records owned by the caller (hss_sub_list_free).
 * Errors: IMS_EINVAL with the element's path in err ("[3].auth.k: ...",
 * "[0]: must be an object", "body: must be an array ..."), IMS_ENOMEM,
 * IMS_EIO. Nothing is returned on error. */
int hss_json_sub_parse_bulk(const char *body, size_t len, size_t max_items,
			    hss_sub_t ***out /* out */, unsigned *n /* out */,
			    char *err, size_t errlen);

/* Builds the REST view of a subscriber. Keys (k, op, opc, amf, sqn,
 * password) appear only when secrets != 0; "has_password" always does.
 * Returns a new reference (json_decref) or NULL on ENOMEM. */
json_t *hss_json_sub_dump(const hss_sub_t *sub, int secrets);

/* Validates a JSON array of iFCs (REST shape) into arena-allocated
 * structures sorted by priority. `path` prefixes field names in err
 * ("ifcs"). Errors: IMS_EINVAL (err names the field), IMS_ENOMEM. */
int hss_json_ifcs_parse(json_t *arr, const char *path, ims_arena_t *a,
			hss_ifc_t **out /* out */, unsigned *n /* out */,
			char *err, size_t errlen);

/* As hss_json_ifcs_parse from JSON text (the store's ifcs column). */
int hss_json_ifcs_load(const char *text, ims_arena_t *a, hss_ifc_t **out /* out */,
		       unsigned *n /* out */, char *err, size_t errlen);

/* The REST JSON array for an iFC list; new reference or NULL on ENOMEM. */
json_t *hss_json_ifcs_dump(const hss_ifc_t *ifcs, unsigned n);

/* Session case names as in SPEC.md ("ORIGINATING", ...); NULL if out of
 * range. */
const char *hss_session_case_name(int sc);

#endif
