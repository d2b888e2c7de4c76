/* AVP helpers on freeDiameter messages: add typed values, build grouped
 * AVPs, recognise an AVP against a dictionary handle (dia/cx-dict.h).
 * `parent` is a struct msg * or a grouped struct avp *. The values are
 * copied into the AVP (freeDiameter owns the copy). */
#ifndef CX_AVP_H
#define CX_AVP_H

#include <stdint.h>

#include "base/ims_str.h"

struct avp;
struct avp_hdr;
struct dict_object;

/* Adds an OctetString/UTF8String/DiameterIdentity AVP with v's bytes.
 * Returns 0 or IMS_EDIAMETER. */
int cx_avp_add_str(void *parent, struct dict_object *model, ims_str_t v);

/* Adds an Unsigned32 / Integer32 (Enumerated) AVP. 0 or IMS_EDIAMETER. */
int cx_avp_add_u32(void *parent, struct dict_object *model, uint32_t v);
int cx_avp_add_i32(void *parent, struct dict_object *model, int32_t v);

/* Creates an empty grouped AVP; fill it with cx_avp_add_* and then attach
 * it with cx_avp_group_add (or drop it with cx_avp_group_abort).
 * Returns 0 or IMS_EDIAMETER. */
int cx_avp_group_new(struct dict_object *model, struct avp **out /* out */);

/* Attaches g as the last child of parent; on failure g is freed.
 * Returns 0 or IMS_EDIAMETER. */
int cx_avp_group_add(void *parent, struct avp *g);

/* Frees an unattached grouped AVP; returns IMS_EDIAMETER so that error
 * paths can `return cx_avp_group_abort(g);`. */
int cx_avp_group_abort(struct avp *g);

/* 1 when the AVP header h has the code and vendor of the dictionary AVP
 * model, else 0. */
int cx_avp_is(const struct avp_hdr *h, struct dict_object *model);

/* Finds the first top-level AVP of this kind in a message or group and
 * copies its value out. Return 0, IMS_ENOENT (absent or no value). The
 * string view points into the message (valid while it lives). */
int cx_avp_get_str(void *parent, struct dict_object *model, ims_str_t *out /* out */);
int cx_avp_get_u32(void *parent, struct dict_object *model, uint32_t *out /* out */);

#endif
