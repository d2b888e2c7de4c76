/* The SIP message model (RFC 3261 §7, §20, §25).
 *
 * A parsed message holds views (ims_str_t) into the buffer it was parsed
 * from; the buffer stays exactly as it arrived and must outlive the message.
 * Everything the parser or an editor allocates lives in the message's arena.
 * Headers are kept in wire order (`hdrs` list) and, for the headers an IMS
 * core uses, indexed by id (`h[id]`, then `next_same`) for O(1) access.
 *
 * Parsing is split in two: sip_msg_parse() does what framing and
 * transactions need at once (start line, header names and boundaries, the
 * top Via, Call-ID, CSeq, From/To tags, Max-Forwards, Content-Length,
 * Expires), and typed values (URIs, name-addrs, Via lists, digest
 * parameters) are parsed on demand with the sip_*_parse() functions below.
 *
 * Edits (add/remove/replace headers, new request URI or body) never touch
 * the receive buffer: they mark headers deleted or link new ones, and
 * sip_msg_print() renders the result. A message nobody edited prints back
 * byte for byte.
 */
#ifndef SIP_MSG_H
#define SIP_MSG_H

#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>

#include "base/ims_arena.h"
#include "base/ims_str.h"

/* X(ID, full name, compact form or 0). One row per indexed header. */
#define SIP_HDR_MAP(X)                                                  \
	X(VIA, "Via", 'v')                                              \
	X(FROM, "From", 'f')                                            \
	X(TO, "To", 't')                                                \
	X(CALL_ID, "Call-ID", 'i')                                      \
	X(CSEQ, "CSeq", 0)                                              \
	X(CONTACT, "Contact", 'm')                                      \
	X(ROUTE, "Route", 0)                                            \
	X(RECORD_ROUTE, "Record-Route", 0)                              \
	X(MAX_FORWARDS, "Max-Forwards", 0)                              \
	X(CONTENT_LENGTH, "Content-Length", 'l')                        \
	X(CONTENT_TYPE, "Content-Type", 'c')                            \
	X(EXPIRES, "Expires", 0)                                        \
	X(MIN_EXPIRES, "Min-Expires", 0)                                \
	X(AUTHORIZATION, "Authorization", 0)                            \
	X(WWW_AUTHENTICATE, "WWW-Authenticate", 0)                      \
	X(PROXY_AUTHORIZATION, "Proxy-Authorization", 0)                \
	X(PROXY_AUTHENTICATE, "Proxy-Authenticate", 0)                  \
	X(PATH, "Path", 0)                                              \
	X(SERVICE_ROUTE, "Service-Route", 0)                            \
	X(P_ASSERTED_IDENTITY, "P-Asserted-Identity", 0)                \
	X(P_PREFERRED_IDENTITY, "P-Preferred-Identity", 0)              \
	X(P_ASSOCIATED_URI, "P-Associated-URI", 0)                      \
	X(P_VISITED_NETWORK_ID, "P-Visited-Network-ID", 0)              \
	X(P_CHARGING_VECTOR, "P-Charging-Vector", 0)                    \
	X(P_CHARGING_FUNCTION_ADDRESSES, "P-Charging-Function-Addresses", 0) \
	X(P_ACCESS_NETWORK_INFO, "P-Access-Network-Info", 0)            \
	X(P_CALLED_PARTY_ID, "P-Called-Party-ID", 0)                    \
	X(SUPPORTED, "Supported", 'k')                                  \
	X(REQUIRE, "Require", 0)                                        \
	X(PROXY_REQUIRE, "Proxy-Require", 0)                            \
	X(UNSUPPORTED, "Unsupported", 0)                                \
	X(EVENT, "Event", 'o')                                          \
	X(ALLOW_EVENTS, "Allow-Events", 'u')                            \
	X(SUBSCRIPTION_STATE, "Subscription-State", 0)                  \
	X(SECURITY_CLIENT, "Security-Client", 0)                        \
	X(SECURITY_SERVER, "Security-Server", 0)                        \
	X(SECURITY_VERIFY, "Security-Verify", 0)                        \
	X(ALLOW, "Allow", 0)                                            \
	X(USER_AGENT, "User-Agent", 0)                                  \
	X(SERVER, "Server", 0)                                          \
	X(SUBJECT, "Subject", 's')                                      \
	X(ACCEPT, "Accept", 0)                                          \
	X(CONTENT_ENCODING, "Content-Encoding", 'e')                    \
	X(CONTENT_DISPOSITION, "Content-Disposition", 0)                \
	X(REFER_TO, "Refer-To", 'r')                                    \
	X(REASON, "Reason", 0)                                          \
	X(WARNING, "Warning", 0)                                        \
	X(RETRY_AFTER, "Retry-After", 0)

typedef enum sip_hdr_id {
	SIP_HDR_OTHER = 0, /* any header not in the table: look it up by name */
#define X(id, name, compact) SIP_HDR_##id,
	SIP_HDR_MAP(X)
#undef X
	SIP_HDR__COUNT
} sip_hdr_id_t;

typedef enum sip_method {
	SIP_METHOD_OTHER = 0,
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_REGISTER,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_PUBLISH,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_INFO,
	SIP_METHOD_PRACK,
	SIP_METHOD_UPDATE,
	SIP_METHOD_REFER,
	SIP_METHOD__COUNT
} sip_method_t;

/* A generic ;name=value parameter. value.s == NULL when there was no '='. */
typedef struct sip_param {
	struct sip_param *next;
	ims_str_t name;
	ims_str_t value;
} sip_param_t;

typedef enum sip_uri_scheme {
	SIP_URI_SIP = 1,
	SIP_URI_SIPS,
	SIP_URI_TEL,
	SIP_URI_OTHER, /* absoluteURI we carry but do not interpret */
} sip_uri_scheme_t;

/* sip:, sips: (RFC 3261 §19.1) and tel: (RFC 3966) URIs. For tel:, `user`
 * is the telephone-subscriber (number) and host is empty. */
typedef struct sip_uri {
	ims_str_t raw;        /* the whole URI as written */
	sip_uri_scheme_t scheme;
	ims_str_t user;       /* unescaped form is not produced; compare with sip_uri_cmp */
	ims_str_t password;
	ims_str_t host;       /* as written; IPv6 references keep their brackets */
	uint16_t port;        /* 0 when absent */
	uint8_t host_is_ipv6; /* host is "[...]" */
	uint8_t lr;           /* ;lr present */
	ims_str_t params;     /* everything from the first ';' up to '?' (without either) */
	sip_param_t *param_list; /* split params (only when parsed with an arena) */
	ims_str_t transport, user_param, maddr, ttl, method; /* well-known params */
	ims_str_t headers;    /* after '?', raw */
} sip_uri_t;

/* name-addr / addr-spec with header parameters (From, To, Contact, Route,
 * Record-Route, Path, Service-Route, P-Asserted-Identity, ...). */
typedef struct sip_nameaddr {
	ims_str_t raw;        /* this value, trimmed */
	ims_str_t display;    /* display-name, quotes kept; empty when absent */
	sip_uri_t uri;
	uint8_t star;         /* Contact: * */
	ims_str_t params;     /* header params after the URI (raw, without leading ';') */
	sip_param_t *param_list;
	ims_str_t tag, expires, q; /* well-known params */
} sip_nameaddr_t;

/* One via-parm (RFC 3261 §20.42, RFC 3581). */
typedef struct sip_via {
	ims_str_t raw;        /* this value, trimmed */
	ims_str_t protocol;   /* "SIP/2.0" */
	ims_str_t transport;  /* "UDP", "TCP", "TLS", "SCTP", ... */
	ims_str_t host;       /* IPv6 keeps brackets */
	uint16_t port;        /* 0 when absent */
	ims_str_t branch;
	ims_str_t received;
	ims_str_t maddr;
	ims_str_t ttl;
	uint8_t has_rport;    /* ;rport present */
	ims_str_t rport;      /* its value, empty when none given */
	sip_param_t *param_list;
} sip_via_t;

/* Digest credentials (Authorization, Proxy-Authorization) and challenges
 * (WWW-Authenticate, Proxy-Authenticate): RFC 2617 §3.2, RFC 3310 §3.
 * Quoted values are given without their quotes (escapes left as written). */
typedef struct sip_auth {
	ims_str_t scheme;     /* "Digest" */
	ims_str_t username, realm, nonce, uri, response, algorithm, cnonce,
		opaque, qop, nc, auts, stale, domain, ck, ik, integrity_protected;
	sip_param_t *param_list; /* every auth-param, in order */
} sip_auth_t;

enum {
	SIP_HDRF_DELETED = 1, /* removed by an edit; skipped by print and accessors */
	SIP_HDRF_NEW = 2,     /* added by an edit (not from the receive buffer) */
	SIP_HDRF_CHANGED = 4, /* value replaced by an edit */
};

typedef struct sip_hdr {
	struct sip_hdr *next;      /* wire order */
	struct sip_hdr *next_same; /* next header with the same id (not for SIP_HDR_OTHER) */
	sip_hdr_id_t id;
	uint8_t flags;
	ims_str_t name;  /* as written (compact or full) */
	ims_str_t value; /* trimmed; may contain folded line breaks from the wire */
	ims_str_t raw;   /* wire headers: the whole field incl. its CRLF */
	void *parsed;    /* cache of a typed parse, owned by the message arena */
} sip_hdr_t;

typedef struct sip_msg {
	ims_arena_t *arena;   /* not owned unless `owns_arena` */
	uint8_t owns_arena;
	const char *buf;      /* the whole message as received (or built) */
	uint32_t len;

	uint8_t is_request;
	/* request line */
	ims_str_t method;
	sip_method_t method_id;
	ims_str_t ruri;
	sip_uri_t *ruri_parsed; /* on demand: sip_msg_ruri() */
	/* status line */
	int status;
	ims_str_t reason;
	ims_str_t version;       /* "SIP/2.0" */

	sip_hdr_t *hdrs, *hdrs_tail;
	sip_hdr_t *h[SIP_HDR__COUNT]; /* first header of each id; SIP_HDR_OTHER unused */
	ims_str_t body;

	/* Parsed at once, for framing and transactions. */
	sip_via_t via1;          /* top-most via-parm */
	ims_str_t call_id;
	uint32_t cseq;
	ims_str_t cseq_method;
	sip_method_t cseq_method_id;
	ims_str_t from_tag, to_tag;
	int max_forwards;        /* -1 when absent */
	int64_t content_length;  /* -1 when absent */
	int64_t expires;         /* Expires header, -1 when absent */

	uint8_t start_edited, body_edited;
} sip_msg_t;

/* Parse error record: enough to answer "400 <reason>". */
typedef struct sip_parse_err {
	int code;              /* IMS_EPARSE, IMS_ETOOBIG, IMS_ENOMEM */
	uint32_t line, col;    /* 1-based position of the fault */
	sip_hdr_id_t hdr;      /* the header at fault, or SIP_HDR_OTHER */
	char reason[96];       /* short text usable as a reason phrase, e.g. "Bad CSeq" */
	uint16_t status;       /* suggested answer: 400, or 505 for another SIP version */
} sip_parse_err_t;

/* ---- parsing ---------------------------------------------------------- */

/* Parses one whole datagram or framed stream message. The buffer must stay
 * valid and unchanged as long as the message is used; it need not be NUL
 * terminated and is never written. The message and everything it needs
 * come from `a` (nothing to free but the arena).
 * Returns 0 and *out, or IMS_EPARSE / IMS_ENOMEM with `err` filled (err may
 * be NULL). A message whose Content-Length exceeds the bytes available is
 * IMS_EPARSE; extra bytes after the body on a datagram are ignored, and
 * without Content-Length the body runs to the end (RFC 3261 §18.3).
 * Checked at once: the start line (one SP between request-line elements,
 * SIP/2.0 only: another version gives err->status 505), the Request-URI,
 * Call-ID, CSeq (< 2^31, method equal to the request's), From, To (present
 * and single, for requests and responses), the top Via, Max-Forwards
 * (0..255), Content-Length and Expires (above 2^32-1 reads as 2^32-1).
 * Limits: 256 header fields, 16 KiB per start line or header field. */
int sip_msg_parse(const char *buf, size_t len, ims_arena_t *a, sip_msg_t **out /* out */,
		  sip_parse_err_t *err /* out, may be NULL */);

/* Stream framing (RFC 3261 §18.3): finds the end of the first message in
 * buf[0..len). Leading CRLFs (keep-alives, RFC 5626 §3.5.1) are counted in
 * *skip. Returns 0 with *msg_len (excluding skip), IMS_EAGAIN when more
 * bytes are needed, IMS_EPARSE when the headers have no valid
 * Content-Length, IMS_ETOOBIG when the message would exceed max. */
int sip_msg_frame(const char *buf, size_t len, size_t max, size_t *skip /* out */,
		  size_t *msg_len /* out */);

/* Name table lookups. */
sip_hdr_id_t sip_hdr_id_from_name(ims_str_t name); /* full or compact, any case */
const char *sip_hdr_name(sip_hdr_id_t id);          /* full name; NULL for OTHER */
sip_method_t sip_method_from_str(ims_str_t m);      /* case-sensitive (RFC 3261 §7.1) */
const char *sip_method_name(sip_method_t m);
const char *sip_reason_phrase(int code);            /* default phrase, "Unknown" */

/* ---- access ----------------------------------------------------------- */

/* First live (not deleted) header with this id, or NULL. */
sip_hdr_t *sip_msg_hdr(const sip_msg_t *m, sip_hdr_id_t id);
/* Next live header with the same id, or NULL. */
sip_hdr_t *sip_hdr_next_same(const sip_hdr_t *h);
/* First live header with this name (case-insensitive, compact forms known). */
sip_hdr_t *sip_msg_hdr_by_name(const sip_msg_t *m, ims_str_t name);

/* Iterates over the comma-separated values of every live header with one
 * id, in wire order (quotes, <...> and escapes respected, empty elements
 * skipped). Single-valued headers (From, To, Call-ID, CSeq, the auth
 * headers, Content-Type, Expires, ...) come whole even when they contain
 * commas. Start with `it = {0}`; returns 1 with *value (a view), 0 at the
 * end, IMS_EPARSE on an unterminated quote or bracket. */
typedef struct sip_val_iter {
	const sip_hdr_t *hdr;
	uint32_t pos;
	uint8_t started;
} sip_val_iter_t;
int sip_msg_next_value(const sip_msg_t *m, sip_hdr_id_t id, sip_val_iter_t *it,
		       ims_str_t *value /* out */);
/* The same within one header only. */
int sip_hdr_next_value(const sip_hdr_t *h, sip_val_iter_t *it, ims_str_t *value /* out */);

/* The request URI, parsed on first use (cached). NULL when it does not parse
 * or for a response. */
const sip_uri_t *sip_msg_ruri(sip_msg_t *m);

/* ---- typed values (on demand) ----------------------------------------- */
/* Each parses one value (not a comma list) into *out. `a` gives memory for
 * the split parameter list; with a == NULL only the well-known fields are
 * filled. Returns 0 or IMS_EPARSE (or IMS_ENOMEM). */
int sip_uri_parse(ims_str_t in, ims_arena_t *a, sip_uri_t *out /* out */);
int sip_nameaddr_parse(ims_str_t in, ims_arena_t *a, sip_nameaddr_t *out /* out */);
int sip_via_parse(ims_str_t in, ims_arena_t *a, sip_via_t *out /* out */);
int sip_auth_parse(ims_str_t in, ims_arena_t *a, sip_auth_t *out /* out */);

/* Looks up a parameter by name (case-insensitive) in a split list, or in a
 * raw ";a=b;c" string. Returns 1 and *value (value.s NULL when valueless),
 * 0 when absent. */
int sip_param_find(const sip_param_t *list, const char *name, ims_str_t *value /* out */);
int sip_params_find(ims_str_t raw, const char *name, ims_str_t *value /* out */);

/* URI equality by RFC 3261 §19.1.4 (scheme, user case-sensitive with escapes
 * decoded, host case-insensitive, port, transport/user/ttl/method/maddr
 * params, headers). tel: compares the number ignoring visual separators. */
int sip_uri_equal(const sip_uri_t *a, const sip_uri_t *b);

/* The address-of-record form "sip:user@host" (or "tel:+num") of a URI, in
 * `a`. Used to key registrations. */
int sip_uri_aor(const sip_uri_t *u, ims_arena_t *a, ims_str_t *out /* out */);

/* ---- editing ---------------------------------------------------------- */

typedef enum sip_hdr_pos {
	SIP_POS_TOP = 0,    /* before the first header with the same id, else first of all */
	SIP_POS_BOTTOM,     /* after the last header with the same id, else before the body */
} sip_hdr_pos_t;

/* Adds a header. For SIP_HDR_OTHER give `name` (a known name is indexed
 * under its id); for indexed ids `name` may be empty (the full name is
 * used). Name and value are copied into the message arena; the eager
 * fields (via1, tags, CSeq, ...) follow. Returns the new header or NULL on
 * out-of-memory, a missing or non-token name, or a value with CR/LF other
 * than folding (no header injection). sip_msg_hdr_addf formats the value and
 * always uses the full name (so not for SIP_HDR_OTHER). */
sip_hdr_t *sip_msg_hdr_add(sip_msg_t *m, sip_hdr_id_t id, ims_str_t name, ims_str_t value,
			   sip_hdr_pos_t pos);
sip_hdr_t *sip_msg_hdr_addf(sip_msg_t *m, sip_hdr_id_t id, sip_hdr_pos_t pos, const char *fmt,
			    ...) __attribute__((format(printf, 4, 5)));
/* Marks a header deleted. */
void sip_msg_hdr_remove(sip_msg_t *m, sip_hdr_t *h);
/* Removes every header with this id; returns how many. */
int sip_msg_hdr_remove_all(sip_msg_t *m, sip_hdr_id_t id);
/* Replaces a header's value (copied). Returns 0, IMS_ENOMEM, or IMS_EINVAL
 * for a value with CR/LF other than folding. */
int sip_msg_hdr_set_value(sip_msg_t *m, sip_hdr_t *h, ims_str_t value);
/* Removes the first value of the first header with this id (the top Via,
 * the top Route): the whole header when it had one value, else the header
 * keeps the remaining values. Returns 0, or IMS_ENOENT when there is none. */
int sip_msg_remove_first_value(sip_msg_t *m, sip_hdr_id_t id);
/* Replaces the request URI (copied). Returns 0, IMS_ENOMEM, or IMS_EINVAL
 * for a response or a URI with SP/CTL bytes. */
int sip_msg_set_ruri(sip_msg_t *m, ims_str_t uri);
/* Replaces the body; an empty content_type removes Content-Type. Content-
 * Length is recomputed on print. */
int sip_msg_set_body(sip_msg_t *m, ims_str_t content_type, ims_str_t body);

/* ---- printing --------------------------------------------------------- */

/* Renders the message: start line, live headers in order (untouched wire
 * headers byte for byte), Content-Length recomputed when the body changed
 * or the header is missing or wrong, blank line, body. A message without
 * edits prints exactly its input. Returns 0 and *len, or IMS_ENOSPC (with
 * *len = the size needed). */
int sip_msg_print(const sip_msg_t *m, char *out, size_t cap, size_t *len /* out */);
/* As above into the arena (NUL-terminated). */
int sip_msg_print_arena(const sip_msg_t *m, ims_arena_t *a, ims_str_t *out /* out */);

/* ---- building --------------------------------------------------------- */

/* Creates an empty request "METHOD ruri SIP/2.0" in arena `a` (headers are
 * added with sip_msg_hdr_add). */
int sip_msg_new_request(ims_arena_t *a, ims_str_t method, ims_str_t ruri, sip_msg_t **out /* out */);

/* Builds a response to `req` in arena `a` as RFC 3261 §8.2.6.2 says: all
 * Via values, From, To (adding `to_tag` when To has no tag and code > 100),
 * Call-ID, CSeq copied; reason NULL/empty gives the default phrase. */
int sip_msg_new_response(ims_arena_t *a, const sip_msg_t *req, int code, ims_str_t reason,
			 ims_str_t to_tag, sip_msg_t **out /* out */);

/* Deep copy into arena `a`: prints `m` once into `a` and re-parses it, so
 * the copy owns its buffer and every view points into it. Returns 0,
 * IMS_ENOMEM, or IMS_EPARSE when the (edited) message is not a valid one
 * (e.g. a built request still missing mandatory headers). */
int sip_msg_clone(const sip_msg_t *m, ims_arena_t *a, sip_msg_t **out /* out */);

#endif
