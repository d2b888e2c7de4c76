/* Transport addresses, listener specs, and the RFC 3261 §18.2 rules that
 * need a parsed message (received/rport, response destination). No I/O. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ims_err.h"
#include "sip/tp/sip_tp.h"

const char *sip_tp_proto_name(sip_tp_proto_t p)
{
	switch (p) {
	case SIP_TP_UDP:
		return "UDP";
	case SIP_TP_TCP:
		return "TCP";
	default:
		return "?";
	}
}

sip_tp_proto_t sip_tp_proto_from_str(ims_str_t s)
{
	if (ims_str_caseeq_c(s, "udp"))
		return SIP_TP_UDP;
	if (ims_str_caseeq_c(s, "tcp"))
		return SIP_TP_TCP;
	return SIP_TP_NONE;
}

int sip_tp_addr_set(sip_tp_addr_t *out, ims_str_t host, uint16_t port)
{
	char buf[64];
	if (host.len >= 2 && host.s[0] == '[' && host.s[host.len - 1] == ']') {
		host.s++;
		host.len -= 2;
	}
	if (host.len == 0 || host.len >= sizeof(buf))
		return IMS_EINVAL;
	memcpy(buf, host.s, host.len);
	buf[host.len] = '\0';
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
	if (inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		out->len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		out->len = sizeof(*v6);
		return 0;
	}
	return IMS_EINVAL;
}

uint16_t sip_tp_addr_port(const sip_tp_addr_t *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return 0;
}

static void set_port(sip_tp_addr_t *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	else if (a->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

char *sip_tp_addr_host(const sip_tp_addr_t *a, char *buf, size_t cap)
{
	const void *p = NULL;
	if (a->ss.ss_family == AF_INET)
		p = &((const struct sockaddr_in *)&a->ss)->sin_addr;
	else if (a->ss.ss_family == AF_INET6)
		p = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
	if (!p || !inet_ntop(a->ss.ss_family, p, buf, (socklen_t)cap)) {
		if (cap)
			buf[0] = '\0';
	}
	return buf;
}

char *sip_tp_addr_str(const sip_tp_addr_t *a, char *buf, size_t cap)
{
	char h[64];
	sip_tp_addr_host(a, h, sizeof(h));
	if (sip_tp_addr_is_v6(a))
		snprintf(buf, cap, "[%s]:%u", h, sip_tp_addr_port(a));
	else
		snprintf(buf, cap, "%s:%u", h, sip_tp_addr_port(a));
	return buf;
}

int sip_tp_addr_equal(const sip_tp_addr_t *a, const sip_tp_addr_t *b)
{
	if (a->ss.ss_family != b->ss.ss_family)
		return 0;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a->ss, *y = (const void *)&b->ss;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)&a->ss, *y = (const void *)&b->ss;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return 0;
}

int sip_tp_addr_is_v6(const sip_tp_addr_t *a)
{
	return a->ss.ss_family == AF_INET6;
}

int sip_tp_listen_parse(const char *spec, sip_tp_listen_t *out)
{
	memset(out, 0, sizeof(*out));
	const char *host = spec, *hend, *rest;
	if (*spec == '[') {
		host = spec + 1;
		hend = strchr(host, ']');
		if (!hend || hend[1] != ':')
			return IMS_ECONFIG;
		rest = hend + 2;
	} else {
		hend = strchr(spec, ':');
		if (!hend)
			return IMS_ECONFIG;
		rest = hend + 1;
	}
	size_t hlen = (size_t)(hend - host);
	if (hlen == 0 || hlen >= sizeof(out->host))
		return IMS_ECONFIG;
	memcpy(out->host, host, hlen);
	char *end;
	unsigned long port = strtoul(rest, &end, 10);
	if (end == rest || port > 65535 || *end != ':')
		return IMS_ECONFIG;
	out->port = (uint16_t)port;
	out->proto = sip_tp_proto_from_str(ims_str_cstr(end + 1));
	if (out->proto == SIP_TP_NONE)
		return IMS_ECONFIG;
	sip_tp_addr_t chk;
	if (sip_tp_addr_set(&chk, ims_str_cstr(out->host), out->port) != 0)
		return IMS_ECONFIG;
	return 0;
}

/* Finds a parameter token `name` in a via-parm's raw text; returns its
 * offset just past the name (so raw[off] is '=' or ';' or end), or -1. */
static long find_param(ims_str_t raw, const char *name)
{
	size_t n = strlen(name);
	for (uint32_t i = 0; i < raw.len; i++) {
		if (raw.s[i] != ';')
			continue;
		uint32_t j = i + 1;
		while (j < raw.len && (raw.s[j] == ' ' || raw.s[j] == '\t'))
			j++;
		if (j + n <= raw.len && strncasecmp(raw.s + j, name, n) == 0) {
			uint32_t k = j + (uint32_t)n;
			while (k < raw.len && (raw.s[k] == ' ' || raw.s[k] == '\t'))
				k++;
			if (k == raw.len || raw.s[k] == ';' || raw.s[k] == '=')
				return (long)(j + n);
		}
	}
	return -1;
}

int sip_tp_via_received(sip_msg_t *req, const sip_tp_peer_t *src)
{
	const sip_via_t *v = &req->via1;
	if (!v->raw.s || !v->raw.len)
		return IMS_EPARSE;
	char ip[64];
	sip_tp_addr_host(&src->addr, ip, sizeof(ip));
	sip_tp_addr_t sent;
	int differs = sip_tp_addr_set(&sent, v->host, 0) != 0;
	if (!differs) {
		char h2[64];
		differs = strcmp(sip_tp_addr_host(&sent, h2, sizeof(h2)), ip) != 0;
	}
	/* RFC 3581 §4: with rport, received is added even when equal. */
	int need_received = (differs || v->has_rport) && !v->received.s;
	int need_rport = v->has_rport && v->rport.len == 0;
	if (!need_received && !need_rport)
		return 0;

	ims_str_t raw = v->raw;
	ims_str_t nv;
	long off = need_rport ? find_param(raw, "rport") : -1;
	if (need_rport && off >= 0 && (size_t)off <= raw.len &&
	    (off == (long)raw.len || raw.s[off] != '=')) {
		nv = ims_arena_printf(req->arena, "%.*s=%u%.*s%s%s", (int)off, raw.s,
				      sip_tp_addr_port(&src->addr), (int)(raw.len - off),
				      raw.s + off, need_received ? ";received=" : "",
				      need_received ? ip : "");
	} else {
		nv = ims_arena_printf(req->arena, "%.*s%s%s", IMS_STR_FMT(raw),
				      need_received ? ";received=" : "", need_received ? ip : "");
	}
	if (!nv.s)
		return IMS_ENOMEM;
	sip_via_t parsed;
	if (sip_via_parse(nv, req->arena, &parsed) != 0)
		return IMS_EPARSE;
	int rc = sip_msg_remove_first_value(req, SIP_HDR_VIA);
	if (rc != 0)
		return rc;
	if (!sip_msg_hdr_add(req, SIP_HDR_VIA, IMS_STR_NULL, nv, SIP_POS_TOP))
		return IMS_ENOMEM;
	sip_hdr_t *h = sip_msg_hdr(req, SIP_HDR_VIA);
	/* Keep the views in via1 pointing at the stored header value. */
	if (h && sip_via_parse(h->value, req->arena, &parsed) == 0)
		req->via1 = parsed;
	return 0;
}

int sip_tp_response_peer(const sip_via_t *via, const sip_tp_peer_t *src, sip_tp_peer_t *out)
{
	*out = *src;
	if (src->proto == SIP_TP_TCP)
		return 0; /* §18.2.2: the connection the request came on */
	out->conn_id = 0;
	uint16_t port = via->port ? via->port : 5060;
	if (via->maddr.len) {
		/* §18.2.2: maddr, port from sent-by or 5060 (names not resolved) */
		if (sip_tp_addr_set(&out->addr, via->maddr, port) == 0)
			return 0;
	}
	if (via->has_rport && via->rport.len) {
		uint64_t rp;
		if (ims_str_to_u64(via->rport, 65535, &rp) == 0 && rp > 0)
			port = (uint16_t)rp;
	} else if (via->has_rport) {
		port = sip_tp_addr_port(&src->addr);
	}
	if (via->received.len && sip_tp_addr_set(&out->addr, via->received, port) == 0)
		return 0;
	if (sip_tp_addr_set(&out->addr, via->host, port) == 0)
		return 0;
	/* A name without received: answer the source address. */
	out->addr = src->addr;
	set_port(&out->addr, port);
	return 0;
}
