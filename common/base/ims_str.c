#include "base/ims_str.h"
#include "base/ims_err.h"

char *ims_str_to_c(ims_str_t v, char *out, size_t cap)
{
	if (cap == 0)
		return out;
	size_t n = v.len < cap - 1 ? v.len : cap - 1;
	if (n)
		memcpy(out, v.s, n);
	out[n] = '\0';
	return out;
}

int ims_str_to_u64(ims_str_t v, uint64_t max, uint64_t *out)
{
	uint64_t r = 0;
	if (v.len == 0 || v.len > 20)
		return IMS_EINVAL;
	for (uint32_t i = 0; i < v.len; i++) {
		unsigned d = (unsigned char)v.s[i] - '0';
		if (d > 9)
			return IMS_EINVAL;
		if (r > (UINT64_MAX - d) / 10)
			return IMS_EINVAL;
		r = r * 10 + d;
	}
	if (r > max)
		return IMS_EINVAL;
	*out = r;
	return 0;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

ims_str_t ims_str_trim(ims_str_t v)
{
	while (v.len && is_ws(v.s[0])) {
		v.s++;
		v.len--;
	}
	while (v.len && is_ws(v.s[v.len - 1]))
		v.len--;
	return v;
}

uint32_t ims_str_hash(ims_str_t v)
{
	uint32_t h = 2166136261u;
	for (uint32_t i = 0; i < v.len; i++) {
		h ^= (unsigned char)v.s[i];
		h *= 16777619u;
	}
	return h;
}

uint32_t ims_str_casehash(ims_str_t v)
{
	uint32_t h = 2166136261u;
	for (uint32_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.s[i];
		if (c >= 'A' && c <= 'Z')
			c |= 0x20;
		h ^= c;
		h *= 16777619u;
	}
	return h;
}
