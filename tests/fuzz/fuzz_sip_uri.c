/* libFuzzer target: the URI, name-addr and Via parsers on one value, with
 * comparison and AoR on what parses (a URI always equals itself). */
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
	sip_uri_t u, u2;
	ims_str_t v;
	if (sip_uri_parse(in, a, &u) == 0) {
		if (!sip_uri_equal(&u, &u))
			abort();
		if (sip_uri_parse(in, NULL, &u2) != 0 || !sip_uri_equal(&u, &u2) || u2.lr != u.lr ||
		    u2.port != u.port || !ims_str_eq(u2.host, u.host))
			abort();
		(void)sip_uri_aor(&u, a, &v);
		(void)sip_param_find(u.param_list, "transport", &v);
		(void)sip_params_find(u.params, "lr", &v);
	}
	sip_nameaddr_t na;
	if (sip_nameaddr_parse(in, a, &na) == 0 && !na.star && !sip_uri_equal(&na.uri, &na.uri))
		abort();
	sip_via_t via;
	(void)sip_via_parse(in, a, &via);
	ims_arena_destroy(a);
	free(buf);
	return 0;
}
