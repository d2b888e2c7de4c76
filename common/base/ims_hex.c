#include "base/ims_hex.h"
#include "base/ims_err.h"

char *ims_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}

static int nib(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ims_hex_decode(const char *s, size_t slen, uint8_t *out, size_t n)
{
	if (!s || slen != 2 * n)
		return IMS_EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = nib(s[2 * i]), lo = nib(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return IMS_EINVAL;
		out[i] = (uint8_t)((hi << 4) | lo);
	}
	return 0;
}
