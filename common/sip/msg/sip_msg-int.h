/* Helpers shared by the files of the SIP message layer only. */
#ifndef SIP_MSG_INT_H
#define SIP_MSG_INT_H

#include "sip/msg/sip_msg.h"
#include "sip/msg/sip_ctype.h"

/* Limits enforced by sip_msg_parse (a peer can not make us index more). */
#define SIP_MAX_HEADERS 256
#define SIP_MAX_LINE 16384

static inline int sip__is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline char sip__lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
}

/* Skips SP/HTAB/CR/LF (LWS, including folded line breaks) from p. */
static inline const char *sip__skip_lws(const char *p, const char *end)
{
	while (p < end && sip__is_ws(*p))
		p++;
	return p;
}

/* p at an opening quote: returns the closing quote or NULL when the
 * quoted-string does not end (RFC 3261 §25.1 quoted-pair respected). */
static inline const char *sip__scan_quoted(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\') {
			if (++p >= end)
				return NULL;
		} else if (*p == '"') {
			return p;
		}
	}
	return NULL;
}

/* Next comma-separated element of a header value from *pos (quotes and
 * <...> respected, empty elements skipped). Returns 1 with *out, 0 at the
 * end, IMS_EPARSE on an unterminated quote or bracket. */
int sip__split_next(ims_str_t v, uint32_t *pos, ims_str_t *out);

/* Is this header id a comma-separated list (RFC 3261 §7.3.1)? Headers
 * whose grammar allows a comma inside one value (auth, Date-like, single
 * valued fields) are returned whole by the value iterators. */
int sip__hdr_is_list(sip_hdr_id_t id);

/* Parses ";name[=value]" generic parameters from [p, end) (p at the first
 * ';', or at LWS before it when SIP__P_LWS). Names must be in class `ncls`,
 * unquoted values in `vcls`; SIP__P_QUOTED also takes quoted-string values
 * (kept with their quotes). Stops at the first byte that cannot continue
 * the list and stores it in *stop. Each parameter is reported to `cb` (when
 * given) and appended to *list (when list and a are given). An empty
 * parameter (";;") or an empty value after '=' is IMS_EPARSE. */
enum { SIP__P_LWS = 1, SIP__P_QUOTED = 2 };
typedef void (*sip__param_cb)(void *ctx, ims_str_t name, ims_str_t value);
int sip__params(const char *p, const char *end, ims_arena_t *a, sip_param_t **list,
		sip__param_cb cb, void *ctx, unsigned flags, uint16_t ncls, uint16_t vcls,
		const char **stop);

/* Re-derives the eagerly parsed fields (via1, tags, Call-ID, CSeq,
 * Max-Forwards, Expires) after an edit touched header `id`. */
void sip__refresh(sip_msg_t *m, sip_hdr_id_t id);

/* Eager parse helpers shared by sip_msg_parse and the editors. */
int sip__parse_cseq(ims_str_t v, uint32_t *num, ims_str_t *method);
int sip__parse_uint(ims_str_t v, uint64_t max, uint64_t *out);

#endif
