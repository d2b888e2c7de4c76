/* UDP/TCP transports on libevent with one event loop per worker thread
 * (see sip_tp.h).
 *
 * Threading model: every TCP connection belongs to the worker that
 * accepted or opened it, and only that thread touches its bufferevent.
 * Another thread that wants to write on it posts the bytes to the owner
 * (sip_tp_post), so no bufferevent is shared and no lock is held across a
 * libevent call. The connection table (id -> owner, addr -> id) is the
 * only shared structure, under `cmu`. UDP sockets are per worker; sendto
 * on them is thread-safe. */
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "base/ims_clock.h"
#include "base/ims_err.h"
#include "log/ims_log.h"
#include "sip/tp/sip_tp.h"

#define CONN_BUCKETS 1024
#define UDP_BATCH 64
#define UDP_MAX 65535

typedef struct tp_post {
	struct tp_post *next;
	void (*fn)(void *arg);
	void *arg;
} tp_post_t;

typedef struct tp_conn {
	sip_tp_t *tp;
	uint64_t id;
	int worker;
	int listener;
	sip_tp_addr_t remote;
	struct bufferevent *bev;
	uint8_t connecting;
	uint8_t closing;
	struct tp_conn *id_next, *addr_next;
} tp_conn_t;

typedef struct tp_stats {
	uint64_t rx_msgs, tx_msgs, rx_bytes, tx_bytes, rx_garbage, conns_closed, tx_errors;
} tp_stats_t;

typedef struct tp_worker {
	sip_tp_t *tp;
	int idx;
	struct event_base *base;
	pthread_t th;
	int started;
	int *udp_fd;                 /* per listener, -1 for TCP ones */
	struct event **udp_ev;
	struct evconnlistener **tcp; /* per listener, NULL for UDP ones */
	pthread_mutex_t qmu;
	tp_post_t *qhead, *qtail;
	struct event *qev;
	char *rxbuf;
	tp_stats_t st;
	uint64_t garbage_log_ms; /* rate limit for garbage notices */
	uint64_t garbage_quiet;  /* notices suppressed since the last one */
} tp_worker_t;

struct sip_tp {
	sip_tp_cfg_t cfg;
	sip_tp_listen_t *listen;
	size_t nlisten;
	int nworkers;
	tp_worker_t *w;
	sip_tp_recv_fn recv;
	sip_tp_error_fn on_error;
	void *ud;
	pthread_mutex_t cmu;
	tp_conn_t *by_id[CONN_BUCKETS];
	tp_conn_t *by_addr[CONN_BUCKETS];
	uint64_t next_conn_id;
	int nconns;
};

static _Thread_local int cur_worker = -1;
static _Thread_local sip_tp_t *cur_tp;

static void stat_add(uint64_t *p, uint64_t n)
{
	__atomic_fetch_add(p, n, __ATOMIC_RELAXED);
}

/* ---- connection table (under cmu) ------------------------------------- */

static uint32_t addr_hash(const sip_tp_addr_t *a)
{
	char buf[80];
	sip_tp_addr_str(a, buf, sizeof(buf));
	return ims_str_hash(ims_str_cstr(buf)) & (CONN_BUCKETS - 1);
}

static void conn_link(sip_tp_t *tp, tp_conn_t *c)
{
	uint32_t i = (uint32_t)(c->id & (CONN_BUCKETS - 1));
	c->id_next = tp->by_id[i];
	tp->by_id[i] = c;
	uint32_t j = addr_hash(&c->remote);
	c->addr_next = tp->by_addr[j];
	tp->by_addr[j] = c;
	tp->nconns++;
}

static void conn_unlink(sip_tp_t *tp, tp_conn_t *c)
{
	tp_conn_t **pp = &tp->by_id[c->id & (CONN_BUCKETS - 1)];
	while (*pp && *pp != c)
		pp = &(*pp)->id_next;
	if (*pp)
		*pp = c->id_next;
	pp = &tp->by_addr[addr_hash(&c->remote)];
	while (*pp && *pp != c)
		pp = &(*pp)->addr_next;
	if (*pp)
		*pp = c->addr_next;
	tp->nconns--;
}

static tp_conn_t *conn_by_id(sip_tp_t *tp, uint64_t id)
{
	for (tp_conn_t *c = tp->by_id[id & (CONN_BUCKETS - 1)]; c; c = c->id_next)
		if (c->id == id && !c->closing)
			return c;
	return NULL;
}

static tp_conn_t *conn_by_addr(sip_tp_t *tp, const sip_tp_addr_t *a)
{
	for (tp_conn_t *c = tp->by_addr[addr_hash(a)]; c; c = c->addr_next)
		if (!c->closing && sip_tp_addr_equal(&c->remote, a))
			return c;
	return NULL;
}

/* ---- posting ------------------------------------------------------------- */

static void run_posts(tp_worker_t *w)
{
	pthread_mutex_lock(&w->qmu);
	tp_post_t *p = w->qhead;
	w->qhead = w->qtail = NULL;
	pthread_mutex_unlock(&w->qmu);
	while (p) {
		tp_post_t *n = p->next;
		p->fn(p->arg);
		free(p);
		p = n;
	}
}

static void on_post(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_posts(arg);
}

int sip_tp_post(sip_tp_t *tp, int worker, void (*fn)(void *arg), void *arg)
{
	if (worker < 0 || worker >= tp->nworkers)
		return IMS_EINVAL;
	tp_post_t *p = malloc(sizeof(*p));
	if (!p)
		return IMS_ENOMEM;
	p->next = NULL;
	p->fn = fn;
	p->arg = arg;
	tp_worker_t *w = &tp->w[worker];
	pthread_mutex_lock(&w->qmu);
	if (w->qtail)
		w->qtail->next = p;
	else
		w->qhead = p;
	w->qtail = p;
	pthread_mutex_unlock(&w->qmu);
	event_active(w->qev, EV_READ, 0);
	return 0;
}

/* ---- TCP connections -------------------------------------------------- */

static void conn_close(tp_conn_t *c, const char *why)
{
	sip_tp_t *tp = c->tp;
	char a[80];
	LOG_DEBUG("sip.tp", "tcp.close conn=%llu peer=%s reason=%s", (unsigned long long)c->id,
		  sip_tp_addr_str(&c->remote, a, sizeof(a)), why);
	pthread_mutex_lock(&tp->cmu);
	c->closing = 1;
	conn_unlink(tp, c);
	pthread_mutex_unlock(&tp->cmu);
	stat_add(&tp->w[c->worker].st.conns_closed, 1);
	bufferevent_free(c->bev);
	free(c);
}

static void deliver(tp_worker_t *w, const char *data, size_t len, const sip_tp_peer_t *peer)
{
	ims_arena_t *a = ims_arena_create(len + 4096);
	if (!a)
		return;
	char *copy = ims_arena_memdup(a, data, len);
	if (!copy) {
		ims_arena_destroy(a);
		return;
	}
	stat_add(&w->st.rx_msgs, 1);
	stat_add(&w->st.rx_bytes, len);
	sip_tp_rx_t rx = { a, copy, len, *peer, w->idx };
	w->tp->recv(w->tp->ud, &rx);
	if (rx.arena)
		ims_arena_destroy(rx.arena);
}

static void conn_read(struct bufferevent *bev, void *arg)
{
	tp_conn_t *c = arg;
	sip_tp_t *tp = c->tp;
	tp_worker_t *w = &tp->w[c->worker];
	struct evbuffer *in = bufferevent_get_input(bev);
	sip_tp_peer_t peer = { SIP_TP_TCP, c->remote, c->listener, c->id };
	for (;;) {
		size_t avail = evbuffer_get_length(in);
		if (!avail)
			return;
		const char *data = (const char *)evbuffer_pullup(in, -1);
		size_t skip = 0, mlen = 0;
		int rc = sip_msg_frame(data, avail, tp->cfg.max_msg, &skip, &mlen);
		if (rc == IMS_EAGAIN) {
			if (skip)
				evbuffer_drain(in, skip);
			if (avail > tp->cfg.max_msg) {
				stat_add(&w->st.rx_garbage, 1);
				conn_close(c, "oversize");
			}
			return;
		}
		if (rc) {
			/* Garbage on a stream cannot be resynchronised: close it,
			 * other connections are untouched. */
			stat_add(&w->st.rx_garbage, 1);
			/* one notice a second per worker; the counter has them all */
			uint64_t now = ims_clock_mono_ms();
			if (now - w->garbage_log_ms >= 1000) {
				char a[80];
				LOG_NOTICE("sip.tp", "tcp.garbage conn=%llu peer=%s err=%s suppressed=%llu",
					   (unsigned long long)c->id,
					   sip_tp_addr_str(&c->remote, a, sizeof(a)), ims_strerror(rc),
					   (unsigned long long)w->garbage_quiet);
				w->garbage_log_ms = now;
				w->garbage_quiet = 0;
			} else {
				w->garbage_quiet++;
			}
			conn_close(c, "garbage");
			return;
		}
		if (mlen)
			deliver(w, data + skip, mlen, &peer);
		evbuffer_drain(in, skip + mlen);
	}
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	tp_conn_t *c = arg;
	sip_tp_t *tp = c->tp;
	if (what & BEV_EVENT_CONNECTED) {
		c->connecting = 0;
		return;
	}
	int report = c->connecting || evbuffer_get_length(bufferevent_get_output(c->bev)) > 0;
	int err = (what & BEV_EVENT_TIMEOUT) ? IMS_ETIMEDOUT
		  : c->connecting ? IMS_EUNREACH : IMS_EIO;
	if ((what & BEV_EVENT_TIMEOUT) && !c->connecting)
		report = 0; /* idle timeout */
	sip_tp_peer_t peer = { SIP_TP_TCP, c->remote, c->listener, c->id };
	int worker = c->worker;
	conn_close(c, (what & BEV_EVENT_TIMEOUT) ? "timeout" : (what & BEV_EVENT_EOF) ? "eof"
											: "error");
	if (report && tp->on_error)
		tp->on_error(tp->ud, worker, &peer, err);
}

static tp_conn_t *conn_new(tp_worker_t *w, evutil_socket_t fd, const sip_tp_addr_t *remote,
			   int listener, int connecting)
{
	sip_tp_t *tp = w->tp;
	tp_conn_t *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		free(c);
		return NULL;
	}
	c->tp = tp;
	c->worker = w->idx;
	c->listener = listener;
	c->remote = *remote;
	c->connecting = (uint8_t)connecting;
	bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
	struct timeval idle = { tp->cfg.tcp_idle_s, 0 };
	struct timeval conn_to = { tp->cfg.tcp_connect_ms / 1000,
				   (tp->cfg.tcp_connect_ms % 1000) * 1000 };
	bufferevent_set_timeouts(c->bev, &idle, connecting ? &conn_to : NULL);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	pthread_mutex_lock(&tp->cmu);
	c->id = ++tp->next_conn_id;
	conn_link(tp, c);
	pthread_mutex_unlock(&tp->cmu);
	return c;
}

static void on_accept(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	(void)lst;
	tp_worker_t *w = arg;
	sip_tp_t *tp = w->tp;
	int li = -1;
	for (size_t i = 0; i < tp->nlisten; i++)
		if (w->tcp[i] == lst)
			li = (int)i;
	pthread_mutex_lock(&tp->cmu);
	int full = tp->nconns >= tp->cfg.max_conns;
	pthread_mutex_unlock(&tp->cmu);
	if (full) {
		LOG_WARN("sip.tp", "tcp.refused reason=max_conns max=%d", tp->cfg.max_conns);
		evutil_closesocket(fd);
		return;
	}
	sip_tp_addr_t remote;
	memset(&remote, 0, sizeof(remote));
	memcpy(&remote.ss, sa, (size_t)salen);
	remote.len = (socklen_t)salen;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!conn_new(w, fd, &remote, li, 0))
		evutil_closesocket(fd);
}

static int tcp_write_local(tp_worker_t *w, const sip_tp_peer_t *peer, const char *buf,
			   size_t len)
{
	sip_tp_t *tp = w->tp;
	tp_conn_t *c = NULL;
	pthread_mutex_lock(&tp->cmu);
	if (peer->conn_id)
		c = conn_by_id(tp, peer->conn_id);
	if (!c && peer->addr.len)
		c = conn_by_addr(tp, &peer->addr);
	if (c && c->worker != w->idx)
		c = NULL; /* raced with a reconnect elsewhere: open our own */
	int full = tp->nconns >= tp->cfg.max_conns;
	pthread_mutex_unlock(&tp->cmu);
	if (!c) {
		if (!peer->addr.len)
			return IMS_ENOENT;
		if (full)
			return IMS_EUNREACH;
		int li = peer->listener;
		if (li < 0 || (size_t)li >= tp->nlisten || tp->listen[li].proto != SIP_TP_TCP)
			li = sip_tp_listener_find(tp, SIP_TP_TCP, &peer->addr);
		c = conn_new(w, -1, &peer->addr, li, 1);
		if (!c)
			return IMS_ENOMEM;
		if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&peer->addr.ss,
					       (int)peer->addr.len) < 0) {
			conn_close(c, "connect");
			return IMS_EUNREACH;
		}
		int one = 1;
		evutil_socket_t fd = bufferevent_getfd(c->bev);
		if (fd >= 0)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (bufferevent_write(c->bev, buf, len) != 0)
		return IMS_EIO;
	stat_add(&w->st.tx_msgs, 1);
	stat_add(&w->st.tx_bytes, len);
	return 0;
}

typedef struct tp_wjob {
	sip_tp_t *tp;
	int worker;
	sip_tp_peer_t peer;
	size_t len;
	char buf[];
} tp_wjob_t;

static void run_wjob(void *arg)
{
	tp_wjob_t *j = arg;
	tp_worker_t *w = &j->tp->w[j->worker];
	int rc = tcp_write_local(w, &j->peer, j->buf, j->len);
	if (rc) {
		stat_add(&w->st.tx_errors, 1);
		if (j->tp->on_error)
			j->tp->on_error(j->tp->ud, j->worker, &j->peer, rc);
	}
	free(j);
}

static int tcp_send(sip_tp_t *tp, const sip_tp_peer_t *peer, const char *buf, size_t len)
{
	int owner = cur_tp == tp ? cur_worker : -1;
	pthread_mutex_lock(&tp->cmu);
	tp_conn_t *c = NULL;
	if (peer->conn_id)
		c = conn_by_id(tp, peer->conn_id);
	if (!c && peer->addr.len)
		c = conn_by_addr(tp, &peer->addr);
	int target = c ? c->worker : owner;
	pthread_mutex_unlock(&tp->cmu);
	if (!c && !peer->addr.len)
		return IMS_ENOENT;
	if (target < 0)
		target = 0;
	if (target == owner)
		return tcp_write_local(&tp->w[target], peer, buf, len);
	tp_wjob_t *j = malloc(sizeof(*j) + len);
	if (!j)
		return IMS_ENOMEM;
	j->tp = tp;
	j->worker = target;
	j->peer = *peer;
	j->len = len;
	memcpy(j->buf, buf, len);
	int rc = sip_tp_post(tp, target, run_wjob, j);
	if (rc)
		free(j);
	return rc;
}

/* ---- UDP ----------------------------------------------------------------- */

/* IP_RECVERR: an ICMP error (port or host unreachable) for a datagram we
 * sent is queued on the socket with the destination it was sent to; it is
 * reported like a TCP connect failure so the transaction answers 503 at
 * once instead of waiting for timer B/F (RFC 3261 §17.1.4). */
static void udp_errqueue(tp_worker_t *w, int fd, int li)
{
	for (int n = 0; n < UDP_BATCH; n++) {
		sip_tp_peer_t peer;
		memset(&peer, 0, sizeof(peer));
		peer.proto = SIP_TP_UDP;
		peer.listener = li;
		char ctl[512];
		char dummy[1];
		struct iovec iov = { dummy, sizeof(dummy) };
		struct msghdr mh;
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &peer.addr.ss;
		mh.msg_namelen = sizeof(peer.addr.ss);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		int unreachable = 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
			    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
				struct sock_extended_err ee;
				memcpy(&ee, CMSG_DATA(c), sizeof(ee));
				unreachable = ee.ee_origin == SO_EE_ORIGIN_ICMP ||
					      ee.ee_origin == SO_EE_ORIGIN_ICMP6;
			}
		}
		peer.addr.len = mh.msg_namelen;
		if (!unreachable || !w->tp->on_error)
			continue;
		char a[80];
		LOG_DEBUG("sip.tp", "udp.unreachable peer=%s",
			  sip_tp_addr_str(&peer.addr, a, sizeof(a)));
		stat_add(&w->st.tx_errors, 1);
		w->tp->on_error(w->tp->ud, w->idx, &peer, IMS_EUNREACH);
	}
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	tp_worker_t *w = arg;
	sip_tp_t *tp = w->tp;
	int li = -1;
	for (size_t i = 0; i < tp->nlisten; i++)
		if (w->udp_fd[i] == fd)
			li = (int)i;
	for (int n = 0; n < UDP_BATCH; n++) {
		sip_tp_peer_t peer;
		memset(&peer, 0, sizeof(peer));
		peer.proto = SIP_TP_UDP;
		peer.listener = li;
		peer.addr.len = sizeof(peer.addr.ss);
		ssize_t r = recvfrom(fd, w->rxbuf, UDP_MAX, 0, (struct sockaddr *)&peer.addr.ss,
				     &peer.addr.len);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			udp_errqueue(w, fd, li);
			continue;
		}
		if (r == 0)
			continue;
		/* RFC 5626 §3.5.1 keep-alive CRLFs and oversize datagrams */
		size_t len = (size_t)r;
		size_t i = 0;
		while (i < len && (w->rxbuf[i] == '\r' || w->rxbuf[i] == '\n'))
			i++;
		if (i == len)
			continue;
		if (len > tp->cfg.max_msg) {
			stat_add(&w->st.rx_garbage, 1);
			continue;
		}
		deliver(w, w->rxbuf + i, len - i, &peer);
	}
}

static int udp_send(sip_tp_t *tp, const sip_tp_peer_t *peer, const char *buf, size_t len)
{
	if (len > 65507)
		return IMS_ETOOBIG;
	int li = peer->listener;
	int fam = peer->addr.ss.ss_family;
	if (li < 0 || (size_t)li >= tp->nlisten || tp->listen[li].proto != SIP_TP_UDP ||
	    tp->w[0].udp_fd[li] < 0) {
		li = sip_tp_listener_find(tp, SIP_TP_UDP, &peer->addr);
	} else {
		sip_tp_addr_t la;
		if (sip_tp_addr_set(&la, ims_str_cstr(tp->listen[li].host), 0) == 0 &&
		    la.ss.ss_family != fam)
			li = sip_tp_listener_find(tp, SIP_TP_UDP, &peer->addr);
	}
	if (li < 0)
		return IMS_EUNREACH;
	int wi = cur_tp == tp && cur_worker >= 0 ? cur_worker : 0;
	tp_worker_t *w = &tp->w[wi];
	ssize_t r = sendto(w->udp_fd[li], buf, len, 0, (const struct sockaddr *)&peer->addr.ss,
			   peer->addr.len);
	if (r < 0) {
		stat_add(&w->st.tx_errors, 1);
		return errno == EMSGSIZE ? IMS_ETOOBIG : IMS_EIO;
	}
	stat_add(&w->st.tx_msgs, 1);
	stat_add(&w->st.tx_bytes, len);
	return 0;
}

int sip_tp_send(sip_tp_t *tp, const sip_tp_peer_t *peer, const char *buf, size_t len)
{
	if (len > tp->cfg.max_msg)
		return IMS_ETOOBIG;
	if (peer->proto == SIP_TP_TCP)
		return tcp_send(tp, peer, buf, len);
	if (peer->proto == SIP_TP_UDP)
		return udp_send(tp, peer, buf, len);
	return IMS_EINVAL;
}

/* ---- set-up ------------------------------------------------------------- */

static int open_socket(const sip_tp_listen_t *ls, sip_tp_addr_t *addr, uint16_t *bound)
{
	int type = ls->proto == SIP_TP_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int fd = socket(addr->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (addr->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr->ss, addr->len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		close(fd);
		return -1;
	}
	sip_tp_addr_t got;
	got.len = sizeof(got.ss);
	if (getsockname(fd, (struct sockaddr *)&got.ss, &got.len) == 0)
		*bound = sip_tp_addr_port(&got);
	if (type == SOCK_DGRAM) {
		int sz = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		if (addr->ss.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
		else
			setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	}
	return fd;
}

/* SO_REUSEPORT lets every worker bind the port, but it would also let a
 * second process of the same user share it and silently take half the
 * traffic. So the port is first probed with a plain socket: it fails
 * (EADDRINUSE) when anyone holds the port, and a daemon started twice
 * exits naming the port. TCP probes keep SO_REUSEADDR so that connections
 * in TIME_WAIT from a previous run do not block a restart. */
static int port_free(const sip_tp_listen_t *ls, const sip_tp_addr_t *addr)
{
	int type = ls->proto == SIP_TP_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int fd = socket(addr->ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int one = 1;
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	int ok = bind(fd, (const struct sockaddr *)&addr->ss, addr->len) == 0;
	int saved = errno;
	close(fd);
	errno = saved;
	return ok;
}

static pthread_once_t evthread_once = PTHREAD_ONCE_INIT;
static void init_evthread(void)
{
	evthread_use_pthreads();
}

int sip_tp_create(const sip_tp_cfg_t *cfg, sip_tp_recv_fn recv, sip_tp_error_fn on_error,
		  void *ud, sip_tp_t **out, char *err, size_t errlen)
{
	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!recv || !cfg->nlisten) {
		if (err)
			snprintf(err, errlen, "no SIP listener configured");
		return IMS_ECONFIG;
	}
	pthread_once(&evthread_once, init_evthread);
	sip_tp_t *tp = calloc(1, sizeof(*tp));
	if (!tp)
		return IMS_ENOMEM;
	pthread_mutex_init(&tp->cmu, NULL);
	tp->cfg = *cfg;
	if (!tp->cfg.workers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		tp->cfg.workers = n > 0 ? (int)n : 1;
	}
	if (tp->cfg.workers > 64)
		tp->cfg.workers = 64;
	if (!tp->cfg.max_msg)
		tp->cfg.max_msg = 65535;
	if (!tp->cfg.udp_mtu)
		tp->cfg.udp_mtu = 1300;
	if (!tp->cfg.max_conns)
		tp->cfg.max_conns = 4096;
	if (!tp->cfg.tcp_idle_s)
		tp->cfg.tcp_idle_s = 600;
	if (!tp->cfg.tcp_connect_ms)
		tp->cfg.tcp_connect_ms = 3000;
	tp->recv = recv;
	tp->on_error = on_error;
	tp->ud = ud;
	tp->nlisten = cfg->nlisten;
	tp->listen = calloc(cfg->nlisten, sizeof(*tp->listen));
	tp->nworkers = tp->cfg.workers;
	tp->w = calloc((size_t)tp->nworkers, sizeof(*tp->w));
	if (!tp->listen || !tp->w)
		goto nomem;
	memcpy(tp->listen, cfg->listen, cfg->nlisten * sizeof(*tp->listen));
	tp->cfg.listen = tp->listen;
	for (int i = 0; i < tp->nworkers; i++) {
		tp_worker_t *w = &tp->w[i];
		w->tp = tp;
		w->idx = i;
		pthread_mutex_init(&w->qmu, NULL);
		w->udp_fd = malloc(tp->nlisten * sizeof(int));
		w->udp_ev = calloc(tp->nlisten, sizeof(*w->udp_ev));
		w->tcp = calloc(tp->nlisten, sizeof(*w->tcp));
		w->rxbuf = malloc(UDP_MAX + 1);
		w->base = event_base_new();
		if (!w->udp_fd || !w->udp_ev || !w->tcp || !w->rxbuf || !w->base)
			goto nomem;
		for (size_t l = 0; l < tp->nlisten; l++)
			w->udp_fd[l] = -1;
		w->qev = event_new(w->base, -1, 0, on_post, w);
		if (!w->qev)
			goto nomem;
	}
	for (size_t l = 0; l < tp->nlisten; l++) {
		sip_tp_listen_t *ls = &tp->listen[l];
		sip_tp_addr_t addr;
		if (sip_tp_addr_set(&addr, ims_str_cstr(ls->host), ls->port) != 0 ||
		    ls->proto == SIP_TP_NONE) {
			if (err)
				snprintf(err, errlen, "bad SIP listener %s:%u", ls->host, ls->port);
			sip_tp_destroy(tp);
			return IMS_ECONFIG;
		}
		if (ls->port != 0 && !port_free(ls, &addr)) {
			if (err)
				snprintf(err, errlen, "cannot bind SIP %s %s:%u: %s",
					 sip_tp_proto_name(ls->proto), ls->host, ls->port,
					 strerror(errno));
			sip_tp_destroy(tp);
			return IMS_EIO;
		}
		for (int i = 0; i < tp->nworkers; i++) {
			tp_worker_t *w = &tp->w[i];
			uint16_t bound = 0;
			int fd = open_socket(ls, &addr, &bound);
			if (fd < 0) {
				if (err)
					snprintf(err, errlen, "cannot bind SIP %s %s:%u: %s",
						 sip_tp_proto_name(ls->proto), ls->host, ls->port,
						 strerror(errno));
				sip_tp_destroy(tp);
				return IMS_EIO;
			}
			if (ls->port == 0) {
				/* ephemeral: every worker binds the port the first got */
				ls->port = bound;
				sip_tp_addr_set(&addr, ims_str_cstr(ls->host), bound);
			}
			if (ls->proto == SIP_TP_UDP) {
				w->udp_fd[l] = fd;
				w->udp_ev[l] = event_new(w->base, fd, EV_READ | EV_PERSIST, on_udp, w);
				if (!w->udp_ev[l] || event_add(w->udp_ev[l], NULL) != 0)
					goto nomem;
			} else {
				w->tcp[l] = evconnlistener_new(w->base, on_accept, w,
							       LEV_OPT_CLOSE_ON_FREE, -1, fd);
				if (!w->tcp[l]) {
					close(fd);
					goto nomem;
				}
			}
		}
	}
	*out = tp;
	return 0;
nomem:
	if (err)
		snprintf(err, errlen, "out of memory setting up SIP transports");
	sip_tp_destroy(tp);
	return IMS_ENOMEM;
}

static void *worker_main(void *arg)
{
	tp_worker_t *w = arg;
	cur_worker = w->idx;
	cur_tp = w->tp;
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	run_posts(w); /* whatever was posted still gets to release its memory */
	cur_worker = -1;
	cur_tp = NULL;
	return NULL;
}

int sip_tp_start(sip_tp_t *tp)
{
	for (int i = 0; i < tp->nworkers; i++) {
		if (pthread_create(&tp->w[i].th, NULL, worker_main, &tp->w[i]) != 0) {
			LOG_ERROR("sip.tp", "thread.failed worker=%d", i);
			sip_tp_stop(tp);
			return IMS_EIO;
		}
		tp->w[i].started = 1;
	}
	return 0;
}

void sip_tp_stop(sip_tp_t *tp)
{
	for (int i = 0; i < tp->nworkers; i++)
		if (tp->w[i].started)
			event_base_loopexit(tp->w[i].base, NULL);
	for (int i = 0; i < tp->nworkers; i++) {
		if (tp->w[i].started) {
			pthread_join(tp->w[i].th, NULL);
			tp->w[i].started = 0;
		}
	}
}

void sip_tp_drain(sip_tp_t *tp)
{
	for (int round = 0; round < 16; round++) {
		int any = 0;
		for (int i = 0; i < tp->nworkers; i++) {
			pthread_mutex_lock(&tp->w[i].qmu);
			any |= tp->w[i].qhead != NULL;
			pthread_mutex_unlock(&tp->w[i].qmu);
			run_posts(&tp->w[i]);
		}
		if (!any)
			return;
	}
}

void sip_tp_destroy(sip_tp_t *tp)
{
	if (!tp)
		return;
	for (uint32_t b = 0; b < CONN_BUCKETS; b++) {
		tp_conn_t *c = tp->by_id[b];
		while (c) {
			tp_conn_t *n = c->id_next;
			bufferevent_free(c->bev);
			free(c);
			c = n;
		}
		tp->by_id[b] = NULL;
	}
	for (int i = 0; tp->w && i < tp->nworkers; i++) {
		tp_worker_t *w = &tp->w[i];
		run_posts(w);
		for (size_t l = 0; l < tp->nlisten; l++) {
			if (w->udp_ev && w->udp_ev[l])
				event_free(w->udp_ev[l]);
			if (w->udp_fd && w->udp_fd[l] >= 0)
				close(w->udp_fd[l]);
			if (w->tcp && w->tcp[l])
				evconnlistener_free(w->tcp[l]);
		}
		if (w->qev)
			event_free(w->qev);
		if (w->base)
			event_base_free(w->base);
		free(w->udp_fd);
		free(w->udp_ev);
		free(w->tcp);
		free(w->rxbuf);
		pthread_mutex_destroy(&w->qmu);
	}
	free(tp->w);
	free(tp->listen);
	pthread_mutex_destroy(&tp->cmu);
	free(tp);
}

int sip_tp_nworkers(const sip_tp_t *tp)
{
	return tp->nworkers;
}

int sip_tp_current_worker(void)
{
	return cur_worker;
}

struct event_base *sip_tp_base(sip_tp_t *tp, int worker)
{
	return worker >= 0 && worker < tp->nworkers ? tp->w[worker].base : NULL;
}

size_t sip_tp_nlisteners(const sip_tp_t *tp)
{
	return tp->nlisten;
}

const sip_tp_listen_t *sip_tp_listener(const sip_tp_t *tp, size_t i)
{
	return i < tp->nlisten ? &tp->listen[i] : NULL;
}

int sip_tp_listener_find(const sip_tp_t *tp, sip_tp_proto_t proto, const sip_tp_addr_t *family_of)
{
	for (size_t i = 0; i < tp->nlisten; i++) {
		if (tp->listen[i].proto != proto)
			continue;
		if (family_of) {
			sip_tp_addr_t la;
			if (sip_tp_addr_set(&la, ims_str_cstr(tp->listen[i].host), 0) != 0 ||
			    la.ss.ss_family != family_of->ss.ss_family)
				continue;
		}
		return (int)i;
	}
	return -1;
}

size_t sip_tp_udp_mtu(const sip_tp_t *tp)
{
	return tp->cfg.udp_mtu;
}

void sip_tp_get_stats(sip_tp_t *tp, sip_tp_stats_t *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < tp->nworkers; i++) {
		tp_stats_t *s = &tp->w[i].st;
		out->rx_msgs += __atomic_load_n(&s->rx_msgs, __ATOMIC_RELAXED);
		out->tx_msgs += __atomic_load_n(&s->tx_msgs, __ATOMIC_RELAXED);
		out->rx_bytes += __atomic_load_n(&s->rx_bytes, __ATOMIC_RELAXED);
		out->tx_bytes += __atomic_load_n(&s->tx_bytes, __ATOMIC_RELAXED);
		out->rx_garbage += __atomic_load_n(&s->rx_garbage, __ATOMIC_RELAXED);
		out->conns_closed += __atomic_load_n(&s->conns_closed, __ATOMIC_RELAXED);
		out->tx_errors += __atomic_load_n(&s->tx_errors, __ATOMIC_RELAXED);
	}
	pthread_mutex_lock(&tp->cmu);
	out->conns_open = (uint64_t)tp->nconns;
	pthread_mutex_unlock(&tp->cmu);
}
