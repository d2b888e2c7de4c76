/* Header-name, method and reason-phrase tables (RFC 3261 §7.3.3, §20, §21).
 * Names are looked up through a small open-addressing hash built once from
 * the SIP_HDR_MAP X-macro, so adding a header is one row in sip_msg.h. */
#include "sip/msg/sip_msg-int.h"

#include <string.h>
#include <strings.h>

static const char *const hdr_names[SIP_HDR__COUNT] = {
	[SIP_HDR_OTHER] = NULL,
#define X(id, name, compact) [SIP_HDR_##id] = name,
	SIP_HDR_MAP(X)
#undef X
};

static const uint8_t hdr_name_len[SIP_HDR__COUNT] = {
	[SIP_HDR_OTHER] = 0,
#define X(id, name, compact) [SIP_HDR_##id] = (uint8_t)(sizeof(name) - 1),
	SIP_HDR_MAP(X)
#undef X
};

_Static_assert(sizeof("P-Charging-Function-Addresses") <= 32, "header names fit FOLD_MAX");
#define HASH_SIZE 256u /* power of two, > 4 x the rows */

/* Slot -> id + 1 (0 = empty). Compact forms index a 128-entry table. */
static uint8_t hash_slots[HASH_SIZE];
static uint8_t compact_tab[128];
static int tables_ready;

/* Length, first and last two letters (case folded) spread the rows over
 * the table well enough; collisions are resolved by probing. */
static inline uint32_t name_hash(const char *s, uint32_t n)
{
	uint32_t a = (uint8_t)(s[0] | 0x20), b = (uint8_t)(s[n - 1] | 0x20), c = (uint8_t)(s[n - 2] | 0x20);
	return (n * 0x9e3779b1u) ^ (a * 0x85ebca6bu) ^ (b * 0xc2b2ae35u) ^ (c * 0x27d4eb2fu);
}

/* Table names with ASCII letters folded to lower case, for an 8-bytes-at-
 * a-time comparison: a token byte c equals a folded name byte t ignoring
 * case exactly when (c | 0x20) == t, except CR against '-', which the
 * hyphen mask rules out. */
#define FOLD_MAX 32
static char folded[SIP_HDR__COUNT][FOLD_MAX];
static uint32_t hyphens[SIP_HDR__COUNT];

static inline int folded_eq(int id, const char *y, uint32_t n)
{
	const char *x = folded[id];
	uint32_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t a, b;
		memcpy(&a, x + i, 8);
		memcpy(&b, y + i, 8);
		if ((b | 0x2020202020202020ull) != a)
			return 0;
	}
	for (; i < n; i++)
		if ((char)(y[i] | 0x20) != x[i])
			return 0;
	for (uint32_t m = hyphens[id]; m; m &= m - 1)
		if (y[__builtin_ctz(m)] != '-')
			return 0;
	return 1;
}

static void build_tables(void)
{
	if (tables_ready)
		return;
	for (int id = 1; id < SIP_HDR__COUNT; id++) {
		for (uint32_t i = 0; i < hdr_name_len[id] && i < FOLD_MAX; i++) {
			char c = hdr_names[id][i];
			folded[id][i] = (char)(c | 0x20);
			if (c == '-')
				hyphens[id] |= 1u << i;
		}
		uint32_t h = name_hash(hdr_names[id], hdr_name_len[id]) & (HASH_SIZE - 1);
		while (hash_slots[h])
			h = (h + 1) & (HASH_SIZE - 1);
		hash_slots[h] = (uint8_t)id;
	}
#define X(id, name, compact)                                                    \
	if ((compact) != 0) {                                                   \
		compact_tab[(unsigned char)(compact)] = SIP_HDR_##id;           \
		compact_tab[(unsigned char)((compact) & ~0x20)] = SIP_HDR_##id; \
	}
	SIP_HDR_MAP(X)
#undef X
	tables_ready = 1;
}

/* Built before main() so lookups from several threads only read. */
__attribute__((constructor)) static void sip_hdr_tables_init(void)
{
	build_tables();
}

sip_hdr_id_t sip_hdr_id_from_name(ims_str_t name)
{
	if (!tables_ready)
		build_tables();
	if (name.len == 1)
		return (unsigned char)name.s[0] < 128 ? (sip_hdr_id_t)compact_tab[(unsigned char)name.s[0]]
						       : SIP_HDR_OTHER;
	if (name.len == 0 || name.len > 64)
		return SIP_HDR_OTHER;
	uint32_t h = name_hash(name.s, name.len) & (HASH_SIZE - 1);
	while (hash_slots[h]) {
		int id = hash_slots[h];
		if (hdr_name_len[id] == name.len && folded_eq(id, name.s, name.len))
			return (sip_hdr_id_t)id;
		h = (h + 1) & (HASH_SIZE - 1);
	}
	return SIP_HDR_OTHER;
}

const char *sip_hdr_name(sip_hdr_id_t id)
{
	if ((int)id <= 0 || id >= SIP_HDR__COUNT)
		return NULL;
	return hdr_names[id];
}

int sip__hdr_is_list(sip_hdr_id_t id)
{
	switch (id) {
	case SIP_HDR_FROM:
	case SIP_HDR_TO:
	case SIP_HDR_CALL_ID:
	case SIP_HDR_CSEQ:
	case SIP_HDR_MAX_FORWARDS:
	case SIP_HDR_CONTENT_LENGTH:
	case SIP_HDR_CONTENT_TYPE:
	case SIP_HDR_EXPIRES:
	case SIP_HDR_MIN_EXPIRES:
	case SIP_HDR_AUTHORIZATION:
	case SIP_HDR_WWW_AUTHENTICATE:
	case SIP_HDR_PROXY_AUTHORIZATION:
	case SIP_HDR_PROXY_AUTHENTICATE:
	case SIP_HDR_USER_AGENT:
	case SIP_HDR_SERVER:
	case SIP_HDR_SUBJECT:
	case SIP_HDR_RETRY_AFTER:
	case SIP_HDR_SUBSCRIPTION_STATE:
	case SIP_HDR_EVENT:
	case SIP_HDR_REFER_TO:
	case SIP_HDR_CONTENT_DISPOSITION:
	case SIP_HDR_P_CHARGING_VECTOR:
	case SIP_HDR_P_CHARGING_FUNCTION_ADDRESSES:
	case SIP_HDR_P_ACCESS_NETWORK_INFO:
	case SIP_HDR_P_VISITED_NETWORK_ID:
		return 0;
	default:
		return 1;
	}
}

static const char *const method_names[SIP_METHOD__COUNT] = {
	[SIP_METHOD_OTHER] = NULL,        [SIP_METHOD_INVITE] = "INVITE",
	[SIP_METHOD_ACK] = "ACK",         [SIP_METHOD_BYE] = "BYE",
	[SIP_METHOD_CANCEL] = "CANCEL",   [SIP_METHOD_REGISTER] = "REGISTER",
	[SIP_METHOD_OPTIONS] = "OPTIONS", [SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
	[SIP_METHOD_NOTIFY] = "NOTIFY",   [SIP_METHOD_PUBLISH] = "PUBLISH",
	[SIP_METHOD_MESSAGE] = "MESSAGE", [SIP_METHOD_INFO] = "INFO",
	[SIP_METHOD_PRACK] = "PRACK",     [SIP_METHOD_UPDATE] = "UPDATE",
	[SIP_METHOD_REFER] = "REFER",
};

sip_method_t sip_method_from_str(ims_str_t m)
{
	/* RFC 3261 §7.1: the method is case-sensitive. */
#define M(id, lit) (m.len == sizeof(lit) - 1 && memcmp(m.s, lit, sizeof(lit) - 1) == 0) ? SIP_METHOD_##id
	if (m.len < 3 || m.len > 9)
		return SIP_METHOD_OTHER;
	switch (m.s[0]) {
	case 'I':
		return M(INVITE, "INVITE") : M(INFO, "INFO") : SIP_METHOD_OTHER;
	case 'A':
		return M(ACK, "ACK") : SIP_METHOD_OTHER;
	case 'B':
		return M(BYE, "BYE") : SIP_METHOD_OTHER;
	case 'C':
		return M(CANCEL, "CANCEL") : SIP_METHOD_OTHER;
	case 'R':
		return M(REGISTER, "REGISTER") : M(REFER, "REFER") : SIP_METHOD_OTHER;
	case 'O':
		return M(OPTIONS, "OPTIONS") : SIP_METHOD_OTHER;
	case 'S':
		return M(SUBSCRIBE, "SUBSCRIBE") : SIP_METHOD_OTHER;
	case 'N':
		return M(NOTIFY, "NOTIFY") : SIP_METHOD_OTHER;
	case 'P':
		return M(PUBLISH, "PUBLISH") : M(PRACK, "PRACK") : SIP_METHOD_OTHER;
	case 'M':
		return M(MESSAGE, "MESSAGE") : SIP_METHOD_OTHER;
	case 'U':
		return M(UPDATE, "UPDATE") : SIP_METHOD_OTHER;
	default:
		return SIP_METHOD_OTHER;
	}
#undef M
}

const char *sip_method_name(sip_method_t m)
{
	if ((int)m <= 0 || m >= SIP_METHOD__COUNT)
		return NULL;
	return method_names[m];
}

const char *sip_reason_phrase(int code)
{
	/* RFC 3261 §21 plus the extensions an IMS core meets (RFC 3262, 3265,
	 * 3329, 3903, 4028, 5393, 6228). */
	switch (code) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 181: return "Call Is Being Forwarded";
	case 182: return "Queued";
	case 183: return "Session Progress";
	case 199: return "Early Dialog Terminated";
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Notification";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Moved Temporarily";
	case 305: return "Use Proxy";
	case 380: return "Alternative Service";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 412: return "Conditional Request Failed";
	case 413: return "Request Entity Too Large";
	case 414: return "Request-URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Unsupported URI Scheme";
	case 420: return "Bad Extension";
	case 421: return "Extension Required";
	case 422: return "Session Interval Too Small";
	case 423: return "Interval Too Brief";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 484: return "Address Incomplete";
	case 485: return "Ambiguous";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 489: return "Bad Event";
	case 491: return "Request Pending";
	case 493: return "Undecipherable";
	case 494: return "Security Agreement Required";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	case 580: return "Precondition Failure";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	case 604: return "Does Not Exist Anywhere";
	case 606: return "Not Acceptable";
	default: return "Unknown";
	}
}
