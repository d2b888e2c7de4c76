/* AVP helpers on freeDiameter messages. */
#include "dia/cx-avp.h"

#include <string.h>

#include <freeDiameter/freeDiameter-host.h>
#include <freeDiameter/libfdcore.h>

#include "base/ims_err.h"

static int add_value(void *parent, struct dict_object *model, union avp_value *v)
{
	struct avp *a = NULL;
	if (!parent || !model || fd_msg_avp_new(model, 0, &a))
		return IMS_EDIAMETER;
	if (fd_msg_avp_setvalue(a, v) || fd_msg_avp_add(parent, MSG_BRW_LAST_CHILD, a)) {
		fd_msg_free(a);
		return IMS_EDIAMETER;
	}
	return 0;
}

int cx_avp_add_str(void *parent, struct dict_object *model, ims_str_t s)
{
	static uint8_t empty;
	union avp_value v;
	memset(&v, 0, sizeof v);
	/* setvalue copies the bytes; an empty value still needs a pointer */
	v.os.data = s.len ? (uint8_t *)s.s : &empty;
	v.os.len = s.len;
	return add_value(parent, model, &v);
}

int cx_avp_add_u32(void *parent, struct dict_object *model, uint32_t u)
{
	union avp_value v;
	memset(&v, 0, sizeof v);
	v.u32 = u;
	return add_value(parent, model, &v);
}

int cx_avp_add_i32(void *parent, struct dict_object *model, int32_t i)
{
	union avp_value v;
	memset(&v, 0, sizeof v);
	v.i32 = i;
	return add_value(parent, model, &v);
}

int cx_avp_group_new(struct dict_object *model, struct avp **out)
{
	*out = NULL;
	if (!model || fd_msg_avp_new(model, 0, out))
		return IMS_EDIAMETER;
	return 0;
}

int cx_avp_group_add(void *parent, struct avp *g)
{
	if (fd_msg_avp_add(parent, MSG_BRW_LAST_CHILD, g)) {
		fd_msg_free(g);
		return IMS_EDIAMETER;
	}
	return 0;
}

int cx_avp_group_abort(struct avp *g)
{
	if (g)
		fd_msg_free(g);
	return IMS_EDIAMETER;
}

int cx_avp_is(const struct avp_hdr *h, struct dict_object *model)
{
	struct dict_avp_data d;
	if (!h || !model || fd_dict_getval(model, &d))
		return 0;
	uint32_t vendor = (h->avp_flags & AVP_FLAG_VENDOR) ? h->avp_vendor : 0;
	return h->avp_code == d.avp_code && vendor == d.avp_vendor;
}

static int find(void *parent, struct dict_object *model, struct avp_hdr **hout)
{
	struct avp *a = NULL;
	struct avp_hdr *h;
	for (fd_msg_browse(parent, MSG_BRW_FIRST_CHILD, &a, NULL); a;
	     fd_msg_browse(a, MSG_BRW_NEXT, &a, NULL)) {
		if (fd_msg_avp_hdr(a, &h) == 0 && cx_avp_is(h, model) && h->avp_value) {
			*hout = h;
			return 0;
		}
	}
	return IMS_ENOENT;
}

int cx_avp_get_str(void *parent, struct dict_object *model, ims_str_t *out)
{
	struct avp_hdr *h;
	if (find(parent, model, &h))
		return IMS_ENOENT;
	*out = ims_str_from((const char *)h->avp_value->os.data, h->avp_value->os.len);
	return 0;
}

int cx_avp_get_u32(void *parent, struct dict_object *model, uint32_t *out)
{
	struct avp_hdr *h;
	if (find(parent, model, &h))
		return IMS_ENOENT;
	*out = h->avp_value->u32;
	return 0;
}
