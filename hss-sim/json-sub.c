/* Subscriber JSON <-> hss_sub_t. Validation is strict: unknown fields are
 * rejected and every error names the field path, so a provisioning typo
 * never passes silently (SPEC.md "HSS REST API": 400 naming the field). */
#include "json-sub.h"

#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/milenage.h"
#include "base/ims_err.h"
#include "base/ims_hex.h"

#define MAX_ID_LEN 255
#define MAX_TEXT_LEN 1024
#define MAX_IMPUS 64
#define MAX_IFCS 64
#define MAX_SPTS 64
#define PATH_CAP 160

static const char *const session_case_names[] = {
	"ORIGINATING", "TERMINATING_REGISTERED", "TERMINATING_UNREGISTERED",
	"ORIGINATING_UNREGISTERED", "ORIGINATING_CDIV",
};

const char *hss_session_case_name(int sc)
{
	if (sc < 0 || sc > HSS_SC_ORIGINATING_CDIV)
		return NULL;
	return session_case_names[sc];
}

/* ---- error and path helpers -------------------------------------------- */

static int fail(char *err, size_t cap, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t cap, const char *path, const char *fmt, ...)
{
	if (err != NULL && cap > 0) {
		int n = snprintf(err, cap, "%s: ", path);
		if (n >= 0 && (size_t)n < cap) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(err + n, cap - (size_t)n, fmt, ap);
			va_end(ap);
		}
		/* the text quotes client input (keys, values) and goes to the
		 * log: no control characters may break the one-line format */
		for (char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	return IMS_EINVAL;
}

/* Field paths only name fields in error messages: a path longer than
 * PATH_CAP is cut, on purpose (the return values are read so that gcc's
 * -Wformat-truncation knows it). */
static void join(char *out, const char *path, const char *key)
{
	int n;
	if (path[0] == '\0')
		n = snprintf(out, PATH_CAP, "%s", key);
	else
		n = snprintf(out, PATH_CAP, "%s.%s", path, key);
	if (n >= PATH_CAP)
		out[PATH_CAP - 1] = '\0';
}

static void join_idx(char *out, const char *path, size_t i)
{
	if (snprintf(out, PATH_CAP, "%s[%zu]", path, i) >= PATH_CAP)
		out[PATH_CAP - 1] = '\0';
}

static int need_object(json_t *v, const char *path, char *err, size_t cap)
{
	if (!json_is_object(v))
		return fail(err, cap, path, "must be an object");
	return 0;
}

/* Rejects keys outside `allowed` (NULL-terminated). */
static int check_keys(json_t *obj, const char *path, const char *const *allowed, char *err,
		      size_t cap)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		int ok = 0;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(allowed[i], key) == 0;
		if (!ok) {
			char p[PATH_CAP];
			join(p, path, key);
			return fail(err, cap, p, "unknown field");
		}
	}
	return 0;
}

/* Printable ASCII (or UTF-8 bytes), no control characters. */
static int printable(const char *s, int allow_space)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if (*p == ' ' && !allow_space)
			return 0;
	}
	return 1;
}

/* Checks a JSON string value found at `p`; *out is the jansson-owned text. */
static int str_value(json_t *v, const char *p, size_t maxlen, int allow_empty, int allow_space,
		     const char **out, char *err, size_t cap)
{
	*out = NULL;
	if (!json_is_string(v))
		return fail(err, cap, p, "must be a string");
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (strlen(s) != len)
		return fail(err, cap, p, "must not contain NUL");
	if (len == 0 && !allow_empty)
		return fail(err, cap, p, "must not be empty");
	if (len > maxlen)
		return fail(err, cap, p, "longer than %zu characters", maxlen);
	if (!printable(s, allow_space))
		return fail(err, cap, p, "contains a control character%s", allow_space ? "" : " or a space");
	*out = s;
	return 0;
}

/* Reads an optional (required = 0) or required string field. *out is the
 * jansson-owned text, NULL when absent. */
static int get_str(json_t *obj, const char *key, const char *path, int required, size_t maxlen,
		   int allow_empty, int allow_space, const char **out, char *err, size_t cap)
{
	char p[PATH_CAP];
	json_t *v = json_object_get(obj, key);
	join(p, path, key);
	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return fail(err, cap, p, "required");
		return 0;
	}
	return str_value(v, p, maxlen, allow_empty, allow_space, out, err, cap);
}

static int get_bool(json_t *obj, const char *key, const char *path, int def, int *out, char *err,
		    size_t cap)
{
	char p[PATH_CAP];
	json_t *v = json_object_get(obj, key);
	*out = def;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		join(p, path, key);
		return fail(err, cap, p, "must be true or false");
	}
	*out = json_is_true(v);
	return 0;
}

static int get_int(json_t *obj, const char *key, const char *path, int required, int def,
		   int *out, char *err, size_t cap)
{
	char p[PATH_CAP];
	json_t *v = json_object_get(obj, key);
	join(p, path, key);
	*out = def;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return fail(err, cap, p, "required");
		return 0;
	}
	if (!json_is_integer(v))
		return fail(err, cap, p, "must be an integer");
	json_int_t i = json_integer_value(v);
	if (i < 0 || i > INT_MAX)
		return fail(err, cap, p, "must be in 0..%d", INT_MAX);
	*out = (int)i;
	return 0;
}

static int get_hex(json_t *obj, const char *key, const char *path, int required, uint8_t *out,
		   size_t n, int *present, char *err, size_t cap)
{
	const char *s;
	char p[PATH_CAP];
	int rc = get_str(obj, key, path, required, 2 * n, 0, 0, &s, err, cap);
	if (present)
		*present = s != NULL;
	if (rc != 0 || s == NULL)
		return rc;
	join(p, path, key);
	if (strlen(s) != 2 * n || ims_hex_decode(s, 2 * n, out, n) != 0)
		return fail(err, cap, p, "must be %zu hex digits", 2 * n);
	return 0;
}

/* The size of the tree a POSIX regex compiler builds is roughly the
 * pattern length times the copies bounded repetitions make: glibc expands
 * x+ to xx* and x{n,m} to m copies of x, so "a++++...+" or "(a{99}){99}"
 * grow exponentially and can exhaust memory. Estimate that size and refuse
 * large ones before regcomp sees them. */
#define RE_COST_MAX 4096
#define RE_DEPTH_MAX 16

static long re_cost(const char **pp, int depth, int *bad)
{
	const char *p = *pp;
	long total = 0;
	while (*p != '\0' && !*bad) {
		long item = 1;
		if (*p == ')') {
			if (depth > 0)
				break;
			p++; /* unmatched: a literal to ERE; regcomp judges it */
		} else if (*p == '|') {
			p++;
			continue;
		} else if (*p == '(') {
			if (depth >= RE_DEPTH_MAX) {
				*bad = 1;
				break;
			}
			p++;
			item = re_cost(&p, depth + 1, bad) + 1;
			if (*p == ')')
				p++;
		} else if (*p == '[') { /* bracket expression: one node */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p != '\0' && *p != ']') {
				if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
					char c = p[1];
					p += 2;
					while (*p != '\0' && !(p[0] == c && p[1] == ']'))
						p++;
					if (*p != '\0')
						p += 2;
					continue;
				}
				p++;
			}
			if (*p == ']')
				p++;
		} else if (*p == '\\') {
			p++;
			if (*p >= '1' && *p <= '9') { /* back-references: exponential matching */
				*bad = 1;
				break;
			}
			if (*p != '\0')
				p++;
		} else {
			p++;
		}
		/* duplication operators on the item just read */
		int ops = 0;
		while (!*bad && (*p == '*' || *p == '+' || *p == '?' ||
				 (*p == '{' && p[1] >= '0' && p[1] <= '9'))) {
			if (ops++ > 0) { /* POSIX leaves "a**", "a+{2}" undefined */
				*bad = 1;
				break;
			}
			if (*p == '{') {
				long n = 0, m = -1;
				for (p++; *p >= '0' && *p <= '9' && n <= RE_COST_MAX; p++)
					n = n * 10 + (*p - '0');
				if (*p == ',') {
					m = 0;
					for (p++; *p >= '0' && *p <= '9' && m <= RE_COST_MAX; p++)
						m = m * 10 + (*p - '0');
				}
				if (*p == '}')
					p++;
				item *= (m > n ? m : n) + 1;
			} else {
				item *= *p == '+' ? 2 : 1;
				p++;
			}
			if (item > RE_COST_MAX)
				*bad = 1;
		}
		total += item;
		if (total > RE_COST_MAX)
			*bad = 1;
	}
	*pp = p;
	return total;
}

/* TS 29.228 Annex B: the SPT contents are regular expressions; compile
 * once here so a bad one is refused at provisioning, not at a call. */
static int check_regex(const char *re, const char *path, char *err, size_t cap)
{
	regex_t r;
	const char *p = re;
	int bad = 0;
	(void)re_cost(&p, 0, &bad);
	if (bad)
		return fail(err, cap, path, "regular expression too complex (back-references, "
			    "repeated repetitions, or more than %d nodes once expanded)", RE_COST_MAX);
	int rc = regcomp(&r, re, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char msg[128];
		regerror(rc, &r, msg, sizeof(msg));
		regfree(&r);
		return fail(err, cap, path, "invalid regular expression: %s", msg);
	}
	regfree(&r);
	return 0;
}

/* RFC 3261 §25.1 token (methods, header names). */
static int is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("-.!%*_+`'~", c)))
			return 0;
	}
	return 1;
}

static char *adup(ims_arena_t *a, const char *s)
{
	return s ? ims_arena_memdup(a, s, strlen(s)) : NULL;
}

/* ---- SPT / iFC ---------------------------------------------------------- */

static const char *const spt_keys[] = {
	"group", "negated", "method", "request_uri", "header", "session_case", "sdp_line",
	"registration_type", NULL
};
/* TS 29.228 Annex B tRegistrationType, by value */
static const char *const reg_type_names[] = { "INITIAL_REGISTRATION", "RE-REGISTRATION",
					      "DE-REGISTRATION" };

/* "registration_type": ["INITIAL_REGISTRATION", ...] on a REGISTER method SPT. */
static int parse_reg_types(json_t *v, const char *p, hss_spt_t *spt, char *err, size_t cap)
{
	json_t *r = json_object_get(v, "registration_type");
	char kp[PATH_CAP];
	size_t i;
	json_t *e;
	if (r == NULL)
		return 0;
	join(kp, p, "registration_type");
	if (spt->kind != HSS_SPT_METHOD || strcmp(spt->value, "REGISTER") != 0)
		return fail(err, cap, kp, "only with \"method\": \"REGISTER\"");
	if (!json_is_array(r) || json_array_size(r) == 0 || json_array_size(r) > 3)
		return fail(err, cap, kp, "must be an array of 1 to 3 names");
	json_array_foreach(r, i, e) {
		const char *n = json_string_value(e);
		unsigned k = 0;
		while (k < 3 && (n == NULL || strcmp(n, reg_type_names[k]) != 0))
			k++;
		if (k == 3)
			return fail(err, cap, kp, "unknown value (INITIAL_REGISTRATION, RE-REGISTRATION, "
				    "DE-REGISTRATION)");
		spt->reg_types |= 1u << k;
	}
	return 0;
}
static const char *const pair_keys_header[] = { "name", "content", NULL };
static const char *const pair_keys_sdp[] = { "line", "content", NULL };

static int parse_pair(json_t *v, const char *p, const char *first, const char *const *keys,
		      ims_arena_t *a, hss_spt_t *spt, char *err, size_t cap)
{
	const char *name, *content;
	char cp[PATH_CAP];
	int rc;
	if ((rc = need_object(v, p, err, cap)) != 0 || (rc = check_keys(v, p, keys, err, cap)) != 0)
		return rc;
	if ((rc = get_str(v, first, p, 1, MAX_ID_LEN, 0, 0, &name, err, cap)) != 0)
		return rc;
	join(cp, p, first);
	if (spt->kind == HSS_SPT_HEADER && !is_token(name))
		return fail(err, cap, cp, "must be a header name (RFC 3261 token)");
	/* RFC 4566 §5: an SDP line type is one letter */
	if (spt->kind == HSS_SPT_SDP_LINE && !(strlen(name) == 1 && name[0] >= 'a' && name[0] <= 'z'))
		return fail(err, cap, cp, "must be one SDP line type letter (a-z)");
	if ((rc = get_str(v, "content", p, 0, MAX_TEXT_LEN, 0, 1, &content, err, cap)) != 0)
		return rc;
	if (content != NULL) {
		join(cp, p, "content");
		if ((rc = check_regex(content, cp, err, cap)) != 0)
			return rc;
	}
	spt->value = adup(a, name);
	spt->content = adup(a, content);
	if (spt->value == NULL || (content != NULL && spt->content == NULL))
		return IMS_ENOMEM;
	return 0;
}

static int parse_spt(json_t *v, const char *p, ims_arena_t *a, hss_spt_t *spt, char *err,
		     size_t cap)
{
	static const char *const kinds[] = { "request_uri", "method", "header", "session_case",
					     "sdp_line" };
	char kp[PATH_CAP];
	int rc, found = -1;

	memset(spt, 0, sizeof(*spt));
	if ((rc = need_object(v, p, err, cap)) != 0 || (rc = check_keys(v, p, spt_keys, err, cap)) != 0)
		return rc;
	if ((rc = get_int(v, "group", p, 0, 0, &spt->group, err, cap)) != 0 ||
	    (rc = get_bool(v, "negated", p, 0, &spt->negated, err, cap)) != 0)
		return rc;
	for (int i = 0; i < 5; i++) {
		if (json_object_get(v, kinds[i]) == NULL)
			continue;
		if (found >= 0)
			return fail(err, cap, p, "has both \"%s\" and \"%s\" (one condition per spt)",
				    kinds[found], kinds[i]);
		found = i;
	}
	if (found < 0)
		return fail(err, cap, p, "needs one of method, request_uri, header, session_case, sdp_line");
	spt->kind = (hss_spt_kind_t)found;
	if (found != HSS_SPT_METHOD && json_object_get(v, "registration_type") != NULL)
		return parse_reg_types(v, p, spt, err, cap); /* refused: not a REGISTER method */
	json_t *c = json_object_get(v, kinds[found]);
	join(kp, p, kinds[found]);
	switch (spt->kind) {
	case HSS_SPT_METHOD: {
		const char *m;
		if ((rc = get_str(v, "method", p, 1, 32, 0, 0, &m, err, cap)) != 0)
			return rc;
		if (!is_token(m))
			return fail(err, cap, kp, "must be a SIP method (RFC 3261 token)");
		if ((spt->value = adup(a, m)) == NULL)
			return IMS_ENOMEM;
		return parse_reg_types(v, p, spt, err, cap);
	}
	case HSS_SPT_REQUEST_URI: {
		const char *r;
		if ((rc = get_str(v, "request_uri", p, 1, MAX_TEXT_LEN, 0, 0, &r, err, cap)) != 0)
			return rc;
		if ((rc = check_regex(r, kp, err, cap)) != 0)
			return rc;
		if ((spt->value = adup(a, r)) == NULL)
			return IMS_ENOMEM;
		return 0;
	}
	case HSS_SPT_SESSION_CASE: {
		const char *s;
		if ((rc = get_str(v, "session_case", p, 1, 64, 0, 0, &s, err, cap)) != 0)
			return rc;
		for (int i = 0; i <= HSS_SC_ORIGINATING_CDIV; i++) {
			if (strcmp(s, session_case_names[i]) == 0) {
				spt->session_case = (hss_session_case_t)i;
				return 0;
			}
		}
		return fail(err, cap, kp, "unknown value \"%s\" (ORIGINATING, TERMINATING_REGISTERED, "
			    "TERMINATING_UNREGISTERED, ORIGINATING_UNREGISTERED, ORIGINATING_CDIV)", s);
	}
	case HSS_SPT_HEADER:
		return parse_pair(c, kp, "name", pair_keys_header, a, spt, err, cap);
	case HSS_SPT_SDP_LINE:
		return parse_pair(c, kp, "line", pair_keys_sdp, a, spt, err, cap);
	}
	return fail(err, cap, p, "unknown condition");
}

static const char *const ifc_keys[] = {
	"priority", "trigger", "application_server", "profile_part_indicator", NULL
};
static const char *const trigger_keys[] = { "cnf", "spt", NULL };
static const char *const as_keys[] = {
	"server_name", "default_handling", "service_info", "include_register_request",
	"include_register_response", NULL
};

static int parse_as(json_t *v, const char *p, ims_arena_t *a, hss_ifc_t *ifc, char *err,
		    size_t cap)
{
	const char *sn, *dh, *si;
	char kp[PATH_CAP];
	int rc;
	if ((rc = need_object(v, p, err, cap)) != 0 || (rc = check_keys(v, p, as_keys, err, cap)) != 0)
		return rc;
	if ((rc = get_str(v, "server_name", p, 1, MAX_ID_LEN, 0, 0, &sn, err, cap)) != 0)
		return rc;
	/* TS 29.228 Annex B.2.3: ServerName is a SIP URL */
	if (strncmp(sn, "sip:", 4) != 0 && strncmp(sn, "sips:", 5) != 0) {
		join(kp, p, "server_name");
		return fail(err, cap, kp, "must be a sip: or sips: URI");
	}
	if ((rc = get_str(v, "default_handling", p, 0, 64, 0, 0, &dh, err, cap)) != 0)
		return rc;
	ifc->default_handling = HSS_DH_SESSION_CONTINUED;
	if (dh != NULL) {
		if (strcmp(dh, "SESSION_TERMINATED") == 0)
			ifc->default_handling = HSS_DH_SESSION_TERMINATED;
		else if (strcmp(dh, "SESSION_CONTINUED") != 0) {
			join(kp, p, "default_handling");
			return fail(err, cap, kp, "unknown value \"%s\" (SESSION_CONTINUED, SESSION_TERMINATED)", dh);
		}
	}
	if ((rc = get_str(v, "service_info", p, 0, MAX_TEXT_LEN, 1, 1, &si, err, cap)) != 0 ||
	    (rc = get_bool(v, "include_register_request", p, 0, &ifc->include_register_request, err, cap)) != 0 ||
	    (rc = get_bool(v, "include_register_response", p, 0, &ifc->include_register_response, err, cap)) != 0)
		return rc;
	ifc->server_name = adup(a, sn);
	ifc->service_info = adup(a, si ? si : "");
	if (ifc->server_name == NULL || ifc->service_info == NULL)
		return IMS_ENOMEM;
	return 0;
}

static int parse_ifc(json_t *v, const char *p, ims_arena_t *a, hss_ifc_t *ifc, char *err,
		     size_t cap)
{
	char kp[PATH_CAP];
	int rc;
	memset(ifc, 0, sizeof(*ifc));
	ifc->profile_part_indicator = HSS_PPI_NONE;
	if ((rc = need_object(v, p, err, cap)) != 0 || (rc = check_keys(v, p, ifc_keys, err, cap)) != 0)
		return rc;
	if ((rc = get_int(v, "priority", p, 1, 0, &ifc->priority, err, cap)) != 0)
		return rc;

	json_t *t = json_object_get(v, "trigger");
	if (t != NULL && !json_is_null(t)) {
		join(kp, p, "trigger");
		if ((rc = need_object(t, kp, err, cap)) != 0 ||
		    (rc = check_keys(t, kp, trigger_keys, err, cap)) != 0 ||
		    (rc = get_bool(t, "cnf", kp, 0, &ifc->cnf, err, cap)) != 0)
			return rc;
		json_t *arr = json_object_get(t, "spt");
		char ap[PATH_CAP];
		join(ap, kp, "spt");
		if (arr != NULL && !json_is_null(arr)) {
			if (!json_is_array(arr))
				return fail(err, cap, ap, "must be an array");
			size_t n = json_array_size(arr);
			if (n > MAX_SPTS)
				return fail(err, cap, ap, "more than %d entries", MAX_SPTS);
			if (n > 0) {
				ifc->spt = ims_arena_zalloc(a, n * sizeof(*ifc->spt));
				if (ifc->spt == NULL)
					return IMS_ENOMEM;
			}
			for (size_t i = 0; i < n; i++) {
				char ip[PATH_CAP];
				join_idx(ip, ap, i);
				if ((rc = parse_spt(json_array_get(arr, i), ip, a, &ifc->spt[i], err, cap)) != 0)
					return rc;
			}
			ifc->n_spt = (unsigned)n;
		}
		/* SPEC.md: a trigger with no spt always matches, which TS 29.228
		 * Annex B.2.2 expresses as an iFC without TriggerPoint. */
		ifc->has_trigger = ifc->n_spt > 0;
	}

	json_t *as = json_object_get(v, "application_server");
	join(kp, p, "application_server");
	if (as == NULL || json_is_null(as))
		return fail(err, cap, kp, "required");
	if ((rc = parse_as(as, kp, a, ifc, err, cap)) != 0)
		return rc;

	const char *ppi;
	if ((rc = get_str(v, "profile_part_indicator", p, 0, 32, 0, 0, &ppi, err, cap)) != 0)
		return rc;
	if (ppi != NULL) {
		if (strcmp(ppi, "REGISTERED") == 0)
			ifc->profile_part_indicator = HSS_PPI_REGISTERED;
		else if (strcmp(ppi, "UNREGISTERED") == 0)
			ifc->profile_part_indicator = HSS_PPI_UNREGISTERED;
		else {
			join(kp, p, "profile_part_indicator");
			return fail(err, cap, kp, "unknown value \"%s\" (REGISTERED, UNREGISTERED)", ppi);
		}
	}
	return 0;
}

static int cmp_priority(const void *x, const void *y)
{
	const hss_ifc_t *a = x, *b = y;
	return (a->priority > b->priority) - (a->priority < b->priority);
}

int hss_json_ifcs_parse(json_t *arr, const char *path, ims_arena_t *a, hss_ifc_t **out,
			unsigned *n_out, char *err, size_t errlen)
{
	*out = NULL;
	*n_out = 0;
	if (!json_is_array(arr))
		return fail(err, errlen, path, "must be an array");
	size_t n = json_array_size(arr);
	if (n > MAX_IFCS)
		return fail(err, errlen, path, "more than %d entries", MAX_IFCS);
	if (n == 0)
		return 0;
	hss_ifc_t *ifcs = ims_arena_zalloc(a, n * sizeof(*ifcs));
	if (ifcs == NULL)
		return IMS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char p[PATH_CAP];
		join_idx(p, path, i);
		int rc = parse_ifc(json_array_get(arr, i), p, a, &ifcs[i], err, errlen);
		if (rc != 0)
			return rc;
		/* TS 29.228 Annex B.2.2: Priority orders the iFCs of a profile;
		 * two equal values would make the order undefined. */
		for (size_t j = 0; j < i; j++) {
			if (ifcs[j].priority == ifcs[i].priority) {
				char pp[PATH_CAP];
				join(pp, p, "priority");
				return fail(err, errlen, pp, "duplicate priority %d (also %s[%zu])",
					    ifcs[i].priority, path, j);
			}
		}
	}
	qsort(ifcs, n, sizeof(*ifcs), cmp_priority);
	*out = ifcs;
	*n_out = (unsigned)n;
	return 0;
}

int hss_json_ifcs_load(const char *text, ims_arena_t *a, hss_ifc_t **out, unsigned *n,
		       char *err, size_t errlen)
{
	json_error_t je;
	json_t *arr = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (arr == NULL)
		return fail(err, errlen, "ifcs", "invalid JSON: %s", je.text);
	int rc = hss_json_ifcs_parse(arr, "ifcs", a, out, n, err, errlen);
	json_decref(arr);
	return rc;
}

/* ---- subscriber --------------------------------------------------------- */

static const char *const sub_keys[] = { "impi", "impus", "auth", "ifcs", "hunting", NULL };
static const char *const auth_keys[] = {
	"k", "op", "opc", "amf", "sqn", "password", "has_password", NULL
};
static const char *const impu_keys[] = { "uri", "barred", NULL };

/* TS 23.003 §13.3: the private identity is a NAI, user@realm. It also
 * travels in the URL path, so characters that need escaping there are
 * refused. */
static int check_impi(const char *s, char *err, size_t cap)
{
	const char *at = strchr(s, '@');
	if (at == NULL || at == s || at[1] == '\0')
		return fail(err, cap, "impi", "must be a NAI (user@realm)");
	if (strpbrk(s, "/?#%\\\"<>") != NULL)
		return fail(err, cap, "impi", "must not contain / ? # %% \\ \" < >");
	return 0;
}

/* TS 23.228 §4.3.3.2: a public identity is a SIP URI or a tel URI. */
static int check_impu(const char *s, const char *p, char *err, size_t cap)
{
	if (strncmp(s, "sip:", 4) == 0) {
		if (s[4] == '\0' || s[4] == '@')
			return fail(err, cap, p, "SIP URI without user or host");
		return 0;
	}
	if (strncmp(s, "tel:", 4) == 0) {
		/* RFC 3966: a global number (+digits) or a local one */
		const char *d = s + 4;
		if (*d == '+')
			d++;
		if (!(*d >= '0' && *d <= '9'))
			return fail(err, cap, p, "tel URI must start with + or a digit");
		return 0;
	}
	return fail(err, cap, p, "must be a sip: or tel: URI");
}

static int parse_impus(json_t *arr, hss_sub_t *sub, char *err, size_t cap)
{
	ims_arena_t *a = sub->arena;
	if (arr == NULL || json_is_null(arr))
		return fail(err, cap, "impus", "required");
	if (!json_is_array(arr))
		return fail(err, cap, "impus", "must be an array");
	size_t n = json_array_size(arr);
	if (n == 0)
		return fail(err, cap, "impus", "needs at least one public identity");
	if (n > MAX_IMPUS)
		return fail(err, cap, "impus", "more than %d entries", MAX_IMPUS);
	sub->impus = ims_arena_zalloc(a, n * sizeof(*sub->impus));
	if (sub->impus == NULL)
		return IMS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char p[PATH_CAP], up[PATH_CAP];
		const char *uri;
		int barred = 0, rc;
		json_t *v = json_array_get(arr, i);
		join_idx(p, "impus", i);
		if (json_is_string(v)) {
			if ((rc = str_value(v, p, MAX_ID_LEN, 0, 0, &uri, err, cap)) != 0 ||
			    (rc = check_impu(uri, p, err, cap)) != 0)
				return rc;
			if ((sub->impus[i].uri = adup(a, uri)) == NULL)
				return IMS_ENOMEM;
		} else if (json_is_object(v)) {
			if ((rc = check_keys(v, p, impu_keys, err, cap)) != 0 ||
			    (rc = get_str(v, "uri", p, 1, MAX_ID_LEN, 0, 0, &uri, err, cap)) != 0 ||
			    (rc = get_bool(v, "barred", p, 0, &barred, err, cap)) != 0)
				return rc;
			join(up, p, "uri");
			if ((rc = check_impu(uri, up, err, cap)) != 0)
				return rc;
			if ((sub->impus[i].uri = adup(a, uri)) == NULL)
				return IMS_ENOMEM;
			sub->impus[i].barred = barred;
		} else {
			return fail(err, cap, p, "must be a URI string or {\"uri\", \"barred\"}");
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(sub->impus[j].uri, sub->impus[i].uri) == 0)
				return fail(err, cap, p, "duplicate of impus[%zu]", j);
	}
	sub->n_impus = (unsigned)n;
	return 0;
}

static int parse_auth(json_t *auth, hss_sub_t *sub, char *err, size_t cap)
{
	int rc, has_opc = 0, has_amf = 0;
	const char *pw;
	if (auth == NULL || json_is_null(auth))
		return fail(err, cap, "auth", "required");
	if ((rc = need_object(auth, "auth", err, cap)) != 0 ||
	    (rc = check_keys(auth, "auth", auth_keys, err, cap)) != 0)
		return rc;
	if ((rc = get_hex(auth, "k", "auth", 1, sub->k, 16, NULL, err, cap)) != 0 ||
	    (rc = get_hex(auth, "op", "auth", 0, sub->op, 16, &sub->has_op, err, cap)) != 0 ||
	    (rc = get_hex(auth, "opc", "auth", 0, sub->opc, 16, &has_opc, err, cap)) != 0 ||
	    (rc = get_hex(auth, "amf", "auth", 0, sub->amf, 2, &has_amf, err, cap)) != 0)
		return rc;
	if (sub->has_op && has_opc)
		return fail(err, cap, "auth.opc", "give either op or opc, not both");
	if (!sub->has_op && !has_opc)
		return fail(err, cap, "auth.op", "required (or auth.opc)");
	/* TS 35.206 §4.1: OPc = OP xor E_K(OP), computed once at provisioning */
	if (sub->has_op && milenage_opc(sub->k, sub->op, sub->opc) != 0)
		return IMS_EIO;
	if (!has_amf) {
		sub->amf[0] = 0x80; /* TS 33.102 Annex H: separation bit set */
		sub->amf[1] = 0x00;
	}

	json_t *sqn = json_object_get(auth, "sqn");
	if (sqn != NULL && !json_is_null(sqn)) {
		uint8_t b[6];
		if ((rc = get_hex(auth, "sqn", "auth", 0, b, 6, NULL, err, cap)) != 0)
			return rc;
		sub->sqn = 0;
		for (int i = 0; i < 6; i++)
			sub->sqn = (sub->sqn << 8) | b[i];
		sub->has_sqn = 1;
	}
	if ((rc = get_str(auth, "password", "auth", 0, 128, 0, 1, &pw, err, cap)) != 0)
		return rc;
	if (pw != NULL && (sub->password = adup(sub->arena, pw)) == NULL)
		return IMS_ENOMEM;
	/* has_password is the read-only marker of a GET without secrets;
	 * accepted so a GET body can be sent back, and ignored. */
	json_t *hp = json_object_get(auth, "has_password");
	if (hp != NULL && !json_is_boolean(hp))
		return fail(err, cap, "auth.has_password", "must be true or false");
	return 0;
}

/* Validates one subscriber object (root is borrowed); `where` names it in
 * the "must be an object" error. On success the caller owns *out. */
static int parse_root(json_t *root, const char *where, hss_sub_t **out, char *err, size_t errlen)
{
	const char *impi, *hunting;
	int rc;
	hss_sub_t *sub = NULL;

	*out = NULL;
	if ((rc = need_object(root, where, err, errlen)) != 0 ||
	    (rc = check_keys(root, "", sub_keys, err, errlen)) != 0)
		goto out;
	if ((sub = hss_sub_new()) == NULL) {
		rc = IMS_ENOMEM;
		goto out;
	}
	if ((rc = get_str(root, "impi", "", 1, MAX_ID_LEN, 0, 0, &impi, err, errlen)) != 0 ||
	    (rc = check_impi(impi, err, errlen)) != 0)
		goto out;
	if ((sub->impi = adup(sub->arena, impi)) == NULL) {
		rc = IMS_ENOMEM;
		goto out;
	}
	if ((rc = parse_impus(json_object_get(root, "impus"), sub, err, errlen)) != 0 ||
	    (rc = parse_auth(json_object_get(root, "auth"), sub, err, errlen)) != 0)
		goto out;
	json_t *ifcs = json_object_get(root, "ifcs");
	if (ifcs != NULL && !json_is_null(ifcs) &&
	    (rc = hss_json_ifcs_parse(ifcs, "ifcs", sub->arena, &sub->ifcs, &sub->n_ifcs, err, errlen)) != 0)
		goto out;
	if ((rc = get_str(root, "hunting", "", 0, 32, 0, 0, &hunting, err, errlen)) != 0)
		goto out;
	sub->hunting = HSS_HUNT_PARALLEL;
	if (hunting != NULL) {
		if (strcmp(hunting, "sequential") == 0)
			sub->hunting = HSS_HUNT_SEQUENTIAL;
		else if (strcmp(hunting, "parallel") != 0) {
			rc = fail(err, errlen, "hunting", "unknown value \"%s\" (parallel, sequential)", hunting);
			goto out;
		}
	}
	rc = 0;
out:
	if (rc != 0) {
		hss_sub_free(sub);
		return rc;
	}
	*out = sub;
	return 0;
}

int hss_json_sub_parse(const char *body, size_t len, hss_sub_t **out, char *err, size_t errlen)
{
	json_error_t je;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return fail(err, errlen, "body", "invalid JSON (line %d column %d): %s", je.line,
			    je.column, je.text);
	int rc = parse_root(root, "body", out, err, errlen);
	json_decref(root);
	return rc;
}

int hss_json_sub_parse_bulk(const char *body, size_t len, size_t max_items,
			    hss_sub_t ***out, unsigned *n, char *err, size_t errlen)
{
	json_error_t je;
	char where[32], one[300];
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (err && errlen)
		err[0] = '\0';
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return fail(err, errlen, "body", "invalid JSON (line %d column %d): %s", je.line,
			    je.column, je.text);
	size_t cnt = json_array_size(root);
	if (!json_is_array(root))
		rc = fail(err, errlen, "body", "must be an array of subscribers");
	else if (cnt == 0)
		rc = fail(err, errlen, "body", "must hold at least one subscriber");
	else if (cnt > max_items)
		rc = fail(err, errlen, "body", "holds %zu subscribers, at most %zu per request", cnt,
			  max_items);
	if (rc != 0)
		goto done;
	hss_sub_t **subs = calloc(cnt, sizeof(*subs));
	if (subs == NULL) {
		rc = IMS_ENOMEM;
		goto done;
	}
	size_t i;
	for (i = 0; i < cnt; i++) {
		snprintf(where, sizeof(where), "[%zu]", i);
		one[0] = '\0';
		rc = parse_root(json_array_get(root, i), where, &subs[i], one, sizeof(one));
		if (rc != 0)
			break;
	}
	if (rc == IMS_EINVAL && err && errlen) {
		/* field errors come as "auth.k: ..." and become "[i].auth.k: ..." */
		if (strncmp(one, where, strlen(where)) == 0)
			snprintf(err, errlen, "%s", one);
		else
			snprintf(err, errlen, "%s.%s", where, one);
	}
	if (rc != 0) {
		hss_sub_list_free(subs, (unsigned)i);
		goto done;
	}
	*out = subs;
	*n = (unsigned)cnt;
done:
	json_decref(root);
	return rc;
}

/* ---- dump --------------------------------------------------------------- */

/* json_object_set_new that remembers a failure instead of leaking. */
static void put(json_t *obj, const char *key, json_t *v, int *bad)
{
	if (v == NULL || json_object_set_new(obj, key, v) != 0)
		*bad = 1;
}

static json_t *spt_dump(const hss_spt_t *s)
{
	int bad = 0;
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	put(o, "group", json_integer(s->group), &bad);
	put(o, "negated", json_boolean(s->negated), &bad);
	switch (s->kind) {
	case HSS_SPT_METHOD:
		put(o, "method", json_string(s->value), &bad);
		if (s->reg_types) {
			json_t *r = json_array();
			for (unsigned k = 0; r && k < 3; k++)
				if ((s->reg_types & (1u << k)) &&
				    json_array_append_new(r, json_string(reg_type_names[k])) != 0)
					bad = 1;
			put(o, "registration_type", r, &bad);
		}
		break;
	case HSS_SPT_REQUEST_URI:
		put(o, "request_uri", json_string(s->value), &bad);
		break;
	case HSS_SPT_SESSION_CASE:
		put(o, "session_case", json_string(hss_session_case_name(s->session_case)), &bad);
		break;
	case HSS_SPT_HEADER:
	case HSS_SPT_SDP_LINE: {
		json_t *pair = json_object();
		put(pair ? pair : o, s->kind == HSS_SPT_HEADER ? "name" : "line", json_string(s->value), &bad);
		if (pair && s->content)
			put(pair, "content", json_string(s->content), &bad);
		put(o, s->kind == HSS_SPT_HEADER ? "header" : "sdp_line", pair, &bad);
		break;
	}
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *hss_json_ifcs_dump(const hss_ifc_t *ifcs, unsigned n)
{
	int bad = 0;
	json_t *arr = json_array();
	if (arr == NULL)
		return NULL;
	for (unsigned i = 0; i < n && !bad; i++) {
		const hss_ifc_t *f = &ifcs[i];
		json_t *o = json_object();
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			bad = 1;
			break;
		}
		put(o, "priority", json_integer(f->priority), &bad);
		if (f->has_trigger) {
			json_t *t = json_object(), *spts = json_array();
			if (t && spts) {
				for (unsigned j = 0; j < f->n_spt; j++) {
					json_t *s = spt_dump(&f->spt[j]);
					if (s == NULL || json_array_append_new(spts, s) != 0)
						bad = 1;
				}
			}
			if (t)
				put(t, "cnf", json_boolean(f->cnf), &bad);
			if (t)
				put(t, "spt", spts, &bad);
			else
				json_decref(spts);
			put(o, "trigger", t, &bad);
		}
		json_t *as = json_object();
		if (as) {
			put(as, "server_name", json_string(f->server_name ? f->server_name : ""), &bad);
			put(as, "default_handling",
			    json_string(f->default_handling == HSS_DH_SESSION_TERMINATED ? "SESSION_TERMINATED"
											 : "SESSION_CONTINUED"),
			    &bad);
			put(as, "service_info", json_string(f->service_info ? f->service_info : ""), &bad);
			put(as, "include_register_request", json_boolean(f->include_register_request), &bad);
			put(as, "include_register_response", json_boolean(f->include_register_response), &bad);
		}
		put(o, "application_server", as, &bad);
		if (f->profile_part_indicator != HSS_PPI_NONE)
			put(o, "profile_part_indicator",
			    json_string(f->profile_part_indicator == HSS_PPI_REGISTERED ? "REGISTERED"
											: "UNREGISTERED"),
			    &bad);
	}
	if (bad) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static json_t *hex_str(const uint8_t *b, size_t n)
{
	char buf[40];
	ims_hex_encode(b, n, buf);
	return json_string(buf);
}

json_t *hss_json_sub_dump(const hss_sub_t *sub, int secrets)
{
	int bad = 0;
	json_t *o = json_object(), *impus = json_array(), *auth = json_object();
	if (o == NULL || impus == NULL || auth == NULL) {
		json_decref(o);
		json_decref(impus);
		json_decref(auth);
		return NULL;
	}
	put(o, "impi", json_string(sub->impi), &bad);
	for (unsigned i = 0; i < sub->n_impus; i++) {
		const hss_impu_t *u = &sub->impus[i];
		json_t *v = u->barred ? json_pack("{sssb}", "uri", u->uri, "barred", 1) : json_string(u->uri);
		if (v == NULL || json_array_append_new(impus, v) != 0)
			bad = 1;
	}
	put(o, "impus", impus, &bad);
	uint8_t sqn[6];
	for (int i = 0; i < 6; i++)
		sqn[i] = (uint8_t)(sub->sqn >> (8 * (5 - i)));
	if (secrets) {
		put(auth, "k", hex_str(sub->k, 16), &bad);
		if (sub->has_op)
			put(auth, "op", hex_str(sub->op, 16), &bad);
		else
			put(auth, "opc", hex_str(sub->opc, 16), &bad);
	}
	put(auth, "amf", hex_str(sub->amf, 2), &bad);
	put(auth, "sqn", hex_str(sqn, 6), &bad);
	if (secrets && sub->password)
		put(auth, "password", json_string(sub->password), &bad);
	if (!secrets)
		put(auth, "has_password", json_boolean(sub->password != NULL), &bad);
	put(o, "auth", auth, &bad);
	put(o, "ifcs", hss_json_ifcs_dump(sub->ifcs, sub->n_ifcs), &bad);
	put(o, "hunting", json_string(sub->hunting == HSS_HUNT_SEQUENTIAL ? "sequential" : "parallel"), &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
