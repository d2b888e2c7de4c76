/* Shared inside the proxy core only (sip_proxy.c, proxy-request.c,
 * proxy-forward.c, proxy-uac.c): the structures and the functions the
 * files call in each other (sip_proxy__ names, STYLE.md). Not for daemons. */
#ifndef SIP_PROXY_INT_H
#define SIP_PROXY_INT_H

#include <pthread.h>
#include <stdint.h>

#include "base/ims_timer.h"
#include "sip/proxy/sip_proxy.h"

struct event;

#define DNS_MAX 256

typedef struct px_post {
	struct px_post *next;
	void (*fn)(void *arg);
	void *arg;
} px_post_t;

typedef struct px_worker {
	sip_proxy_t *p;
	int idx;
	ims_timers_t timers;
	sip_tsx_layer_t *tsx;
	struct event *tev;
	uint64_t rnd;
	struct sip_proxy_ctx *ctxs; /* live contexts (released at destroy) */
} px_worker_t;

typedef struct px_dns {
	char name[128];
	sip_tp_addr_t addr;
	uint64_t expires;
	int ok;
} px_dns_t;

struct sip_proxy {
	sip_proxy_cfg_t cfg;
	sip_proxy_hooks_t hooks;
	sip_tp_t *tp;
	int nworkers;
	px_worker_t *w;
	sip_tp_listen_t *listen;
	size_t nlisten;
	char **aliases;
	size_t naliases;
	char **supported;
	size_t nsupported;
	char **hosts; /* "name=addr" */
	size_t nhosts;
	int test_mode;
	pthread_mutex_t tmu; /* test-mode post queue */
	px_post_t *thead, *ttail;
	pthread_mutex_t dmu;
	px_dns_t dns[DNS_MAX];
	size_t ndns;
	sip_proxy_stats_t st;
};

struct sip_proxy_branch {
	sip_proxy_ctx_t *ctx;
	struct sip_proxy_branch *next;
	int idx;
	sip_tsx_t *ct;
	sip_msg_t *req;        /* what was (or would have been) sent */
	sip_tp_peer_t dest;
	void *data;
	int code;
	uint8_t done;
	uint8_t got_provisional;
	uint8_t timer_c_fired;
	int fail_code;         /* made-up final to report from t_fail */
	ims_timer_t timer_c;
	ims_timer_t t_fail;
	ims_timer_t t_resp;    /* target's timeout_ms: first response due */
};

struct sip_proxy_ctx {
	struct sip_proxy_ctx *wnext, *wprev;
	sip_proxy_t *p;
	px_worker_t *w;
	ims_arena_t *arena;
	ims_arena_t *rx_arena; /* ACK: the received message */
	sip_tsx_t *st;
	const sip_msg_t *rcv;
	sip_msg_t *msg;
	sip_tp_peer_t src;
	sip_method_t method;
	ims_str_t removed_route;
	sip_nameaddr_t *removed_route_parsed;
	ims_str_t loop_tag;
	uint8_t do_rr;
	ims_str_t rr_params;
	void *data;
	void (*data_free)(void *);
	uint8_t decided, suspended, final_sent, cancelled, best_is_local;
	uint8_t released; /* final sent, nothing pending: transactions let go */
	int refs;
	sip_proxy_branch_t *branches, *btail;
	int nbranches, pending;
	sip_msg_t *best;
	ims_arena_t *best_arena;
	int best_code;
	struct px_challenge *challenges; /* from every 401/407 (§16.7 step 7) */
};

typedef struct px_challenge {
	struct px_challenge *next;
	sip_hdr_id_t id;
	ims_str_t value;
} px_challenge_t;


static inline void stat_inc(uint64_t *v)
{
	__atomic_fetch_add(v, 1, __ATOMIC_RELAXED);
}

/* xorshift64*: tags and tokens need uniqueness, not secrecy */
static inline uint64_t rnd64(px_worker_t *w)
{
	uint64_t x = w->rnd;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rnd = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* sip_proxy.c */
void sip_proxy__rearm(px_worker_t *w);
void sip_proxy__count_request(sip_method_t m);
void sip_proxy__count_response(int code);
void sip_proxy__count_stateless(void);
void sip_proxy__count_dropped(void);
int sip_proxy__is_local_hostport(const sip_proxy_t *p, ims_str_t host, uint16_t port);
int sip_proxy__find_listener(const sip_proxy_t *p, sip_tp_proto_t proto,
			     const sip_tp_addr_t *fam);
void sip_proxy__listener_hostport(const sip_tp_listen_t *ls, char *buf, size_t cap);

/* proxy-forward.c */
sip_proxy_ctx_t *sip_proxy__ctx_new(px_worker_t *w, const sip_tp_peer_t *src);
void sip_proxy__ctx_ref(sip_proxy_ctx_t *ctx);
void sip_proxy__ctx_unref(sip_proxy_ctx_t *ctx);
void sip_proxy__ctx_free(sip_proxy_ctx_t *ctx);
int sip_proxy__send_by_via(px_worker_t *w, sip_msg_t *rsp, const sip_tp_peer_t *hint);
int sip_proxy__local_reply(sip_proxy_ctx_t *ctx, int code, ims_str_t reason, ims_str_t hdrs,
			   ims_str_t ctype, ims_str_t body);
void sip_proxy__cancel_pending_branches(sip_proxy_ctx_t *ctx, ims_str_t reason);
void sip_proxy__after_decision(sip_proxy_ctx_t *ctx);
int sip_proxy__apply_target(sip_msg_t *m, const sip_proxy_target_t *tg);
int sip_proxy__build_branch_msg(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *tg,
				sip_msg_t **out);
int sip_proxy__branch_dest(sip_proxy_ctx_t *ctx, const sip_proxy_target_t *tg, sip_msg_t *m,
			   sip_tp_peer_t *dest);
int sip_proxy__push_via(sip_proxy_ctx_t *ctx, sip_msg_t *m, const sip_tp_peer_t *dest,
			int *listener);

/* proxy-request.c */
void sip_proxy__tu_request(void *ud, sip_tsx_layer_t *l, sip_msg_t *req,
			   const sip_tp_peer_t *src, ims_arena_t **arena);
void sip_proxy__tu_stray(void *ud, sip_tsx_layer_t *l, sip_msg_t *rsp,
			 const sip_tp_peer_t *src, ims_arena_t **arena);
void sip_proxy__reply_400_raw(px_worker_t *w, const char *buf, size_t len,
			      const sip_tp_peer_t *src, const sip_parse_err_t *perr);

#endif
