/* Base64, RFC 4648 §4. */
#include "base/ims_b64.h"
#include "base/ims_err.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int ims_b64_encode(const uint8_t *in, size_t n, char *out, size_t cap, size_t *outlen)
{
	size_t need = IMS_B64_ENC_LEN(n);
	if (cap < need + 1)
		return IMS_ENOSPC;
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return 0;
}

static int val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int ims_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	if (n % 4 != 0)
		return IMS_EINVAL;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 4) {
		int last = (i + 4 == n);
		int v[4];
		int pad = 0;
		for (int j = 0; j < 4; j++) {
			unsigned char c = (unsigned char)in[i + j];
			if (c == '=' && last && j >= 2) {
				v[j] = 0;
				pad++;
				continue;
			}
			if (pad) /* data after '=' */
				return IMS_EINVAL;
			v[j] = val(c);
			if (v[j] < 0)
				return IMS_EINVAL;
		}
		/* RFC 4648 §3.5: the bits beyond the data must be zero */
		if (pad == 2 && (v[1] & 15))
			return IMS_EINVAL;
		if (pad == 1 && (v[2] & 3))
			return IMS_EINVAL;
		size_t nb = 3u - (size_t)pad;
		if (o + nb > cap)
			return IMS_ENOSPC;
		uint32_t w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) |
			     ((uint32_t)v[2] << 6) | (uint32_t)v[3];
		out[o++] = (uint8_t)(w >> 16);
		if (nb > 1)
			out[o++] = (uint8_t)(w >> 8);
		if (nb > 2)
			out[o++] = (uint8_t)w;
	}
	if (outlen)
		*outlen = o;
	return 0;
}
