/* libFuzzer target: digest credentials / challenges (RFC 2617, RFC 3310).
 * With and without an arena the well-known fields agree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/ims_arena.h"
#include "sip/msg/sip_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	ims_str_t in = ims_str_from(buf, size);
	ims_arena_t *a = ims_arena_create(1024);
	sip_auth_t x, y;
	int r1 = sip_auth_parse(in, a, &x);
	int r2 = sip_auth_parse(in, NULL, &y);
	if (r1 != r2)
		abort();
	if (r1 == 0) {
		if (!ims_str_eq(x.scheme, y.scheme) || !ims_str_eq(x.nonce, y.nonce) ||
		    !ims_str_eq(x.response, y.response) || !ims_str_eq(x.auts, y.auts))
			abort();
		ims_str_t v;
		for (sip_param_t *p = x.param_list; p; p = p->next)
			if (!p->value.s || p->value.s < buf || p->value.s + p->value.len > buf + size)
				abort();
		(void)sip_param_find(x.param_list, "realm", &v);
	}
	ims_arena_destroy(a);
	free(buf);
	return 0;
}
