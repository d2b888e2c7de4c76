/* The proxy core (see sip_proxy.h for the contract with the daemons): life
 * cycle, the workers (receive path, handing responses to the worker that
 * owns their branch, timer events, posted jobs), local addresses, metrics,
 * and the test mode. The request side is in proxy-request.c, forwarding and
 * responses in proxy-forward.c, originated requests in proxy-uac.c; they
 * share proxy-int.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <event2/event.h>

#include "base/ims_err.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"
#include "sip/proxy/proxy-int.h"

/* ---- metrics: series looked up once, then one atomic add ---------------- */

static ims_counter_t *m_requests[SIP_METHOD__COUNT];
static ims_counter_t *m_responses[700];
static ims_counter_t *m_dropped, *m_stateless;

static ims_counter_t *cached(ims_counter_t **slot, const char *name, const char *help,
			     const char *l1, const char *v1)
{
	ims_counter_t *c = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!c) {
		c = ims_metrics_counter(name, help, l1, v1);
		__atomic_store_n(slot, c, __ATOMIC_RELEASE);
	}
	return c;
}

void sip_proxy__count_request(sip_method_t m)
{
	if ((unsigned)m >= SIP_METHOD__COUNT)
		m = SIP_METHOD_OTHER;
	const char *name = m == SIP_METHOD_OTHER ? "OTHER" : sip_method_name(m);
	ims_counter_inc(cached(&m_requests[m], "sip_requests_total",
			       "SIP requests received (retransmissions excluded)", "method", name));
}

void sip_proxy__count_response(int code)
{
	if (code < 100 || code > 699)
		return;
	char v[8];
	snprintf(v, sizeof(v), "%d", code);
	ims_counter_inc(cached(&m_responses[code], "sip_responses_total",
			       "SIP final responses sent upstream by the proxy core", "code", v));
}


void sip_proxy__count_stateless(void)
{
	ims_counter_inc(cached(&m_stateless, "sip_stateless_replies_total",
			       "SIP responses sent without a transaction (400, 503)", NULL, NULL));
}

void sip_proxy__count_dropped(void)
{
	ims_counter_inc(cached(&m_dropped, "sip_dropped_total",
			       "SIP messages dropped as unparsable and unanswerable", NULL, NULL));
}

ims_str_t sip_proxy_random_token(sip_proxy_t *p, ims_arena_t *a, size_t nbytes)
{
	char *s = ims_arena_alloc(a, nbytes * 2 + 1);
	uint8_t *raw = ims_arena_alloc(a, nbytes ? nbytes : 1);
	if (!s || !raw)
		return IMS_STR_NULL;
	/* Any thread may call this (the caller cannot tell which proxy's
	 * worker it runs on), so real mode asks the kernel; test mode uses
	 * worker 0's generator on the single test thread. */
	size_t got = 0;
	if (!p->test_mode) {
		ssize_t r = getrandom(raw, nbytes, 0);
		got = r > 0 ? (size_t)r : 0;
	}
	for (size_t i = got; i < nbytes; i++)
		raw[i] = (uint8_t)rnd64(&p->w[0]);
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < nbytes; i++) {
		s[2 * i] = hx[raw[i] >> 4];
		s[2 * i + 1] = hx[raw[i] & 15];
	}
	s[nbytes * 2] = '\0';
	return ims_str_from(s, nbytes * 2);
}


/* ---- local addresses ------------------------------------------------- */

static ims_str_t strip_brackets(ims_str_t h)
{
	if (h.len >= 2 && h.s[0] == '[' && h.s[h.len - 1] == ']')
		return ims_str_from(h.s + 1, h.len - 2);
	return h;
}

static int listener_has(const sip_tp_listen_t *ls, ims_str_t host, uint16_t port)
{
	host = strip_brackets(host);
	if (port != ls->port)
		return 0;
	if (ims_str_caseeq_c(host, ls->host))
		return 1;
	return ls->advertise[0] && ims_str_caseeq_c(host, ls->advertise);
}

int sip_proxy__is_local_hostport(const sip_proxy_t *p, ims_str_t host, uint16_t port)
{
	uint16_t pt = port ? port : 5060;
	for (size_t i = 0; i < p->nlisten; i++)
		if (listener_has(&p->listen[i], host, pt))
			return 1;
	host = strip_brackets(host);
	for (size_t i = 0; i < p->naliases; i++) {
		const char *a = p->aliases[i];
		const char *colon = strrchr(a, ':');
		if (colon && !strchr(colon, ']') && strchr(a, ':') == colon) {
			size_t n = (size_t)(colon - a);
			if (host.len == n && strncasecmp(host.s, a, n) == 0 &&
			    (uint16_t)atoi(colon + 1) == pt)
				return 1;
		} else if (ims_str_caseeq_c(host, a)) {
			return 1;
		}
	}
	return 0;
}

int sip_proxy_is_local_uri(const sip_proxy_t *p, const sip_uri_t *u)
{
	if (u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS)
		return 0;
	return sip_proxy__is_local_hostport(p, u->host, u->port);
}

int sip_proxy__find_listener(const sip_proxy_t *p, sip_tp_proto_t proto, const sip_tp_addr_t *fam)
{
	for (size_t i = 0; i < p->nlisten; i++) {
		if (p->listen[i].proto != proto)
			continue;
		sip_tp_addr_t la;
		if (fam && (sip_tp_addr_set(&la, ims_str_cstr(p->listen[i].host), 0) != 0 ||
			    la.ss.ss_family != fam->ss.ss_family))
			continue;
		return (int)i;
	}
	return -1;
}

void sip_proxy__listener_hostport(const sip_tp_listen_t *ls, char *buf, size_t cap)
{
	const char *h = ls->advertise[0] ? ls->advertise : ls->host;
	if (strchr(h, ':'))
		snprintf(buf, cap, "[%s]:%u", h, ls->port);
	else
		snprintf(buf, cap, "%s:%u", h, ls->port);
}

ims_str_t sip_proxy_local_uri(const sip_proxy_t *p, int listener, ims_arena_t *a)
{
	if (listener < 0 || (size_t)listener >= p->nlisten)
		return IMS_STR_NULL;
	char hp[200];
	sip_proxy__listener_hostport(&p->listen[listener], hp, sizeof(hp));
	return ims_arena_printf(a, "sip:%s;transport=%s", hp,
				p->listen[listener].proto == SIP_TP_TCP ? "tcp" : "udp");
}

/* ---- receive path and workers ---------------------------------------------- */

typedef struct px_handoff {
	px_worker_t *w;
	sip_msg_t *msg;
	ims_arena_t *arena;
	sip_tp_peer_t peer;
} px_handoff_t;

static void handoff_run(void *arg)
{
	px_handoff_t *h = arg;
	ims_arena_t *a = h->arena;
	sip_tsx_layer_recv(h->w->tsx, h->msg, &h->peer, &a);
	sip_proxy__rearm(h->w);
	free(h);
}

static void process(px_worker_t *w, const char *buf, size_t len, const sip_tp_peer_t *peer,
		    ims_arena_t **arena)
{
	sip_proxy_t *p = w->p;
	sip_msg_t *msg;
	sip_parse_err_t perr;
	memset(&perr, 0, sizeof(perr));
	if (sip_msg_parse(buf, len, *arena, &msg, &perr) != 0) {
		LOG_DEBUG("sip.proxy", "parse.failed reason=\"%s\" line=%u", perr.reason, perr.line);
		sip_proxy__reply_400_raw(w, buf, len, peer, &perr);
		return;
	}
	if (msg->is_request) {
		if (sip_tp_via_received(msg, peer) != 0) {
			stat_inc(&p->st.dropped);
			return;
		}
	} else {
		/* RFC 3261 §7.2: a status is 100-699; anything else is garbage
		 * that no transaction could forward upstream. */
		if (msg->status < 100 || msg->status > 699) {
			stat_inc(&p->st.dropped);
			return;
		}
		/* A response goes to the worker whose branch it carries. */
		int owner = sip_tsx_branch_worker(msg->via1.branch);
		if (owner >= 0 && owner < p->nworkers && owner != w->idx && !p->test_mode) {
			px_handoff_t *h = malloc(sizeof(*h));
			if (!h)
				return;
			h->w = &p->w[owner];
			h->msg = msg;
			h->arena = *arena;
			h->peer = *peer;
			if (sip_tp_post(p->tp, owner, handoff_run, h) == 0) {
				*arena = NULL;
				stat_inc(&p->st.handoffs);
			} else {
				free(h);
			}
			return;
		}
	}
	if (sip_tsx_layer_recv(w->tsx, msg, peer, arena) != 0)
		stat_inc(&p->st.dropped);
}

/* The value of the branch parameter of the top Via, read from the raw
 * bytes (no parsing): first Via/v header, first via-parm (up to a comma).
 * Returns 0 or -1 when there is none. */
static int raw_top_branch(const char *buf, size_t len, ims_str_t *out)
{
	const char *p = memchr(buf, '\n', len), *end = buf + len;
	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		if (le == p || (le == p + 1 && *p == '\r'))
			return -1; /* end of headers */
		const char *n = p;
		if ((le - n > 3 && strncasecmp(n, "via", 3) == 0 && (n += 3)) ||
		    ((*n | 32) == 'v' && ++n)) {
			while (n < le && (*n == ' ' || *n == '\t'))
				n++;
			if (n < le && *n == ':') {
				const char *c = memchr(n, ',', (size_t)(le - n));
				const char *stop = c ? c : le;
				for (const char *q = n; q + 8 <= stop; q++) {
					if (*q != ';')
						continue;
					const char *v = q + 1;
					while (v < stop && (*v == ' ' || *v == '\t'))
						v++;
					if (stop - v < 7 || strncasecmp(v, "branch=", 7) != 0)
						continue;
					v += 7;
					const char *e = v;
					while (e < stop && *e != ';' && *e != ' ' && *e != '\t' &&
					       *e != '\r')
						e++;
					*out = ims_str_from(v, (size_t)(e - v));
					return out->len ? 0 : -1;
				}
				return -1; /* top Via without branch */
			}
		}
		p = eol;
	}
	return -1;
}

/* The worker that owns the transaction of a UDP datagram, or -1 (any):
 * a response goes to the worker its (our) branch names; a request to the
 * one its branch hashes to, so a retransmission, its CANCEL and the ACK
 * for a non-2xx (same branch, RFC 3261 §17.2.3) meet the INVITE's server
 * transaction. The kernel's SO_REUSEPORT spread hashes the 4-tuple, so
 * without this one peer's traffic would all land on one worker. */
static int owner_worker(const sip_proxy_t *p, const char *buf, size_t len)
{
	ims_str_t br;
	if (raw_top_branch(buf, len, &br) != 0)
		return -1;
	if (len > 4 && memcmp(buf, "SIP/", 4) == 0) {
		int w = sip_tsx_branch_worker(br);
		return w < p->nworkers ? w : -1;
	}
	return (int)(ims_str_hash(br) % (uint32_t)p->nworkers);
}

typedef struct px_rawoff {
	px_worker_t *w;
	ims_arena_t *arena; /* holds buf */
	const char *buf;
	size_t len;
	sip_tp_peer_t peer;
} px_rawoff_t;

static void rawoff_run(void *arg)
{
	px_rawoff_t *h = arg;
	ims_arena_t *a = h->arena;
	process(h->w, h->buf, h->len, &h->peer, &a);
	ims_arena_destroy(a);
	sip_proxy__rearm(h->w);
	free(h);
}

static void tp_recv(void *ud, sip_tp_rx_t *rx)
{
	sip_proxy_t *p = ud;
	px_worker_t *w = &p->w[rx->worker];
	if (p->nworkers > 1 && rx->peer.proto == SIP_TP_UDP) {
		int owner = owner_worker(p, rx->buf, rx->len);
		if (owner >= 0 && owner != rx->worker) {
			/* the owner parses it: no copy, the receive arena moves */
			px_rawoff_t *h = malloc(sizeof(*h));
			if (h) {
				*h = (px_rawoff_t){ &p->w[owner], rx->arena, rx->buf, rx->len,
						    rx->peer };
				if (sip_tp_post(p->tp, owner, rawoff_run, h) == 0) {
					rx->arena = NULL;
					stat_inc(&p->st.handoffs);
					return;
				}
				free(h);
			}
		}
	}
	process(w, rx->buf, rx->len, &rx->peer, &rx->arena);
	sip_proxy__rearm(w);
}

typedef struct px_tperr {
	px_worker_t *w;
	sip_tp_peer_t peer;
	int err;
} px_tperr_t;

static void tperr_run(void *arg)
{
	px_tperr_t *h = arg;
	sip_tsx_layer_tp_error(h->w->tsx, &h->peer, h->err);
	sip_proxy__rearm(h->w);
	free(h);
}

/* A transport error reaches the worker whose socket got it: for UDP the
 * kernel picks the SO_REUSEPORT socket by hashing the ICMP's 4-tuple, not
 * the one that sent. Transactions are spread by branch, so every worker
 * is told (errors are rare; one small post each). */
static void tp_error(void *ud, int worker, const sip_tp_peer_t *peer, int err)
{
	sip_proxy_t *p = ud;
	px_worker_t *w = &p->w[worker];
	sip_tsx_layer_tp_error(w->tsx, peer, err);
	sip_proxy__rearm(w);
	for (int i = 0; i < p->nworkers; i++) {
		if (i == worker)
			continue;
		px_tperr_t *h = malloc(sizeof(*h));
		if (!h)
			continue;
		*h = (px_tperr_t){ &p->w[i], *peer, err };
		if (sip_tp_post(p->tp, i, tperr_run, h) != 0)
			free(h);
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	px_worker_t *w = arg;
	ims_timers_run(&w->timers);
	sip_proxy__rearm(w);
}

void sip_proxy__rearm(px_worker_t *w)
{
	if (!w->tev)
		return;
	int64_t next = ims_timers_next(&w->timers);
	if (next < 0) {
		evtimer_del(w->tev);
		return;
	}
	struct timeval tv = { (time_t)(next / 1000), (suseconds_t)((next % 1000) * 1000) };
	evtimer_add(w->tev, &tv);
}

static int px_send(void *ud, const sip_tp_peer_t *to, const char *buf, size_t len)
{
	px_worker_t *w = ud;
	sip_proxy_t *p = w->p;
	if (p->test_mode)
		return p->cfg.test_send(p->cfg.test_send_ud, to, buf, len);
	return sip_tp_send(p->tp, to, buf, len);
}

typedef struct px_post_job {
	px_worker_t *w;
	void (*fn)(void *arg);
	void *arg;
} px_post_job_t;

static void post_run(void *arg)
{
	px_post_job_t *j = arg;
	j->fn(j->arg);
	sip_proxy__rearm(j->w);
	free(j);
}

int sip_proxy_post(sip_proxy_t *p, int worker, void (*fn)(void *arg), void *arg)
{
	if (worker < 0 || worker >= p->nworkers)
		return IMS_EINVAL;
	if (p->test_mode) {
		px_post_t *e = malloc(sizeof(*e));
		if (!e)
			return IMS_ENOMEM;
		e->next = NULL;
		e->fn = fn;
		e->arg = arg;
		pthread_mutex_lock(&p->tmu);
		if (p->ttail)
			p->ttail->next = e;
		else
			p->thead = e;
		p->ttail = e;
		pthread_mutex_unlock(&p->tmu);
		return 0;
	}
	px_post_job_t *j = malloc(sizeof(*j));
	if (!j)
		return IMS_ENOMEM;
	j->w = &p->w[worker];
	j->fn = fn;
	j->arg = arg;
	int rc = sip_tp_post(p->tp, worker, post_run, j);
	if (rc)
		free(j);
	return rc;
}

/* ---- life cycle ------------------------------------------------------------------ */

static char **copy_list(const char *const *in, size_t *n)
{
	*n = 0;
	if (!in)
		return NULL;
	while (in[*n])
		(*n)++;
	char **out = calloc(*n + 1, sizeof(char *));
	if (!out)
		return NULL;
	for (size_t i = 0; i < *n; i++)
		out[i] = strdup(in[i]);
	return out;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		free(l[i]);
	free(l);
}

int sip_proxy_create(const sip_proxy_cfg_t *cfg, const sip_proxy_hooks_t *hooks,
		     sip_proxy_t **out, char *err, size_t errlen)
{
	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!hooks || !hooks->on_request) {
		if (err)
			snprintf(err, errlen, "sip proxy: no on_request hook");
		return IMS_EINVAL;
	}
	sip_proxy_t *p = calloc(1, sizeof(*p));
	if (!p)
		return IMS_ENOMEM;
	p->cfg = *cfg;
	p->hooks = *hooks;
	p->test_mode = cfg->test_send != NULL;
	pthread_mutex_init(&p->tmu, NULL);
	pthread_mutex_init(&p->dmu, NULL);
	if (!p->cfg.t1_ms)
		p->cfg.t1_ms = 500;
	if (!p->cfg.t2_ms)
		p->cfg.t2_ms = 4000;
	if (!p->cfg.t4_ms)
		p->cfg.t4_ms = 5000;
	if (!p->cfg.timer_c_ms)
		p->cfg.timer_c_ms = 180000;
	if (!p->cfg.max_tsx_per_worker)
		p->cfg.max_tsx_per_worker = 100000;
	if (!p->cfg.max_done_tsx_per_worker)
		p->cfg.max_done_tsx_per_worker = 500000;
	p->cfg.server = cfg->server ? strdup(cfg->server) : NULL;
	p->aliases = copy_list(cfg->aliases, &p->naliases);
	p->supported = copy_list(cfg->supported, &p->nsupported);
	p->hosts = copy_list(cfg->hosts, &p->nhosts);
	p->cfg.aliases = NULL;
	p->cfg.supported = NULL;
	p->cfg.hosts = NULL;
	int rc;
	if (p->test_mode) {
		p->nworkers = 1;
		p->nlisten = cfg->tp.nlisten;
		p->listen = calloc(p->nlisten ? p->nlisten : 1, sizeof(*p->listen));
		if (!p->listen)
			goto nomem;
		memcpy(p->listen, cfg->tp.listen, p->nlisten * sizeof(*p->listen));
	} else {
		rc = sip_tp_create(&cfg->tp, tp_recv, tp_error, p, &p->tp, err, errlen);
		if (rc) {
			sip_proxy_destroy(p);
			return rc;
		}
		p->nworkers = sip_tp_nworkers(p->tp);
		p->nlisten = sip_tp_nlisteners(p->tp);
		p->listen = calloc(p->nlisten, sizeof(*p->listen));
		if (!p->listen)
			goto nomem;
		for (size_t i = 0; i < p->nlisten; i++)
			p->listen[i] = *sip_tp_listener(p->tp, i);
	}
	p->cfg.tp.listen = p->listen;
	p->w = calloc((size_t)p->nworkers, sizeof(*p->w));
	if (!p->w)
		goto nomem;
	for (int i = 0; i < p->nworkers; i++) {
		px_worker_t *w = &p->w[i];
		w->p = p;
		w->idx = i;
		if (getrandom(&w->rnd, sizeof(w->rnd), 0) != (ssize_t)sizeof(w->rnd) || !w->rnd)
			w->rnd = 0x9E3779B97F4A7C15ULL + (uint64_t)i;
		ims_timers_init(&w->timers, p->test_mode ? cfg->test_clock : NULL);
		sip_tsx_cfg_t tc = {
			.t1_ms = p->cfg.t1_ms, .t2_ms = p->cfg.t2_ms, .t4_ms = p->cfg.t4_ms,
			.worker = i, .timers = &w->timers, .send = px_send, .send_ud = w,
			.max_done = p->cfg.max_done_tsx_per_worker,
			.on_request = sip_proxy__tu_request, .on_stray_response = sip_proxy__tu_stray, .tu_ud = w,
		};
		if (sip_tsx_layer_create(&tc, &w->tsx) != 0)
			goto nomem;
		if (!p->test_mode) {
			w->tev = evtimer_new(sip_tp_base(p->tp, i), on_tick, w);
			if (!w->tev)
				goto nomem;
		}
	}
	*out = p;
	return 0;
nomem:
	if (err)
		snprintf(err, errlen, "sip proxy: out of memory");
	sip_proxy_destroy(p);
	return IMS_ENOMEM;
}

int sip_proxy_start(sip_proxy_t *p)
{
	return p->test_mode ? 0 : sip_tp_start(p->tp);
}

void sip_proxy_stop(sip_proxy_t *p)
{
	if (!p->test_mode && p->tp)
		sip_tp_stop(p->tp);
}

void sip_proxy_destroy(sip_proxy_t *p)
{
	if (!p)
		return;
	/* jobs posted after the loops stopped (resumes from Diameter
	 * threads...) still run while the contexts exist */
	if (p->tp)
		sip_tp_drain(p->tp);
	for (int i = 0; p->w && i < p->nworkers; i++) {
		px_worker_t *w = &p->w[i];
		if (w->tsx)
			sip_tsx_layer_destroy(w->tsx);
		w->tsx = NULL;
		/* contexts still referenced (suspended, pending branches) */
		while (w->ctxs)
			sip_proxy__ctx_free(w->ctxs);
		ims_timers_fini(&w->timers);
		if (w->tev)
			event_free(w->tev);
	}
	/* test-mode posts still queued */
	px_post_t *e = p->thead;
	while (e) {
		px_post_t *n = e->next;
		e->fn(e->arg);
		free(e);
		e = n;
	}
	sip_tp_destroy(p->tp);
	free(p->w);
	free(p->listen);
	free_list(p->aliases, p->naliases);
	free_list(p->supported, p->nsupported);
	free_list(p->hosts, p->nhosts);
	free((char *)p->cfg.server);
	pthread_mutex_destroy(&p->tmu);
	pthread_mutex_destroy(&p->dmu);
	free(p);
}

int sip_proxy_nworkers(const sip_proxy_t *p)
{
	return p->nworkers;
}

sip_tp_t *sip_proxy_tp(sip_proxy_t *p)
{
	return p->tp;
}

void sip_proxy_get_stats(sip_proxy_t *p, sip_proxy_stats_t *out)
{
	out->rx_requests = __atomic_load_n(&p->st.rx_requests, __ATOMIC_RELAXED);
	out->rx_responses = __atomic_load_n(&p->st.rx_responses, __ATOMIC_RELAXED);
	out->tx_requests = __atomic_load_n(&p->st.tx_requests, __ATOMIC_RELAXED);
	out->tx_responses = __atomic_load_n(&p->st.tx_responses, __ATOMIC_RELAXED);
	out->dropped = __atomic_load_n(&p->st.dropped, __ATOMIC_RELAXED);
	out->stateless_replies = __atomic_load_n(&p->st.stateless_replies, __ATOMIC_RELAXED);
	out->contexts = __atomic_load_n(&p->st.contexts, __ATOMIC_RELAXED);
	out->handoffs = __atomic_load_n(&p->st.handoffs, __ATOMIC_RELAXED);
}

int sip_proxy_test_inject(sip_proxy_t *p, const char *buf, size_t len, const sip_tp_peer_t *src)
{
	ims_arena_t *a = ims_arena_create(len + 4096);
	if (!a)
		return IMS_ENOMEM;
	char *copy = ims_arena_memdup(a, buf, len);
	if (!copy) {
		ims_arena_destroy(a);
		return IMS_ENOMEM;
	}
	process(&p->w[0], copy, len, src, &a);
	ims_arena_destroy(a);
	return 0;
}

int sip_proxy_test_run(sip_proxy_t *p)
{
	int n = 0;
	for (;;) {
		pthread_mutex_lock(&p->tmu);
		px_post_t *e = p->thead;
		p->thead = p->ttail = NULL;
		pthread_mutex_unlock(&p->tmu);
		int ran = 0;
		while (e) {
			px_post_t *nx = e->next;
			e->fn(e->arg);
			free(e);
			e = nx;
			ran++;
		}
		ran += ims_timers_run(&p->w[0].timers);
		n += ran;
		if (!ran)
			return n;
	}
}

