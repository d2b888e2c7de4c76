/* S-CSCF selection by capabilities: see route-select.h. */
#include "route-select.h"

#include <string.h>

#include "base/ims_err.h"
#include "sip/msg/sip_msg.h"

static int has_cap(const icscf_scscf_t *s, uint32_t c)
{
	for (unsigned i = 0; i < s->n_caps; i++)
		if (s->caps[i] == c)
			return 1;
	return 0;
}

static int uri_eq(ims_str_t a, const char *b)
{
	sip_uri_t ua, ub;
	ims_str_t bs = ims_str_cstr(b);
	if (sip_uri_parse(a, NULL, &ua) != 0 || sip_uri_parse(bs, NULL, &ub) != 0)
		return ims_str_caseeq(a, bs);
	return sip_uri_equal(&ua, &ub);
}

int icscf_pool_find(const icscf_pool_t *pool, ims_str_t server_name)
{
	for (unsigned i = 0; i < pool->n; i++)
		if (uri_eq(server_name, pool->s[i].name) || uri_eq(server_name, pool->s[i].uri))
			return (int)i;
	return IMS_ENOENT;
}

static int qualifies(const icscf_scscf_t *s, const icscf_caps_req_t *req)
{
	for (unsigned i = 0; i < req->n_mandatory; i++)
		if (!has_cap(s, req->mandatory[i]))
			return 0;
	return 1;
}

int icscf_select_scscf(const icscf_pool_t *pool, const icscf_caps_req_t *req, uint32_t tried)
{
	/* Names the HSS lists come first, in its order. */
	for (unsigned k = 0; k < req->n_names; k++) {
		int i = icscf_pool_find(pool, req->names[k]);
		if (i >= 0 && !(tried & (1u << i)) && qualifies(&pool->s[i], req))
			return i;
	}
	int best = IMS_ENOENT, best_score = -1;
	for (unsigned i = 0; i < pool->n && i < 32; i++) {
		if (tried & (1u << i))
			continue;
		if (!qualifies(&pool->s[i], req))
			continue;
		int score = 0;
		for (unsigned j = 0; j < req->n_optional; j++)
			score += has_cap(&pool->s[i], req->optional[j]);
		if (score > best_score) {
			best_score = score;
			best = (int)i;
		}
	}
	return best;
}
