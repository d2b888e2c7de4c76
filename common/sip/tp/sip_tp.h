/* SIP transports (RFC 3261 §18): UDP and TCP over IPv4 and IPv6 on
 * libevent, with N worker threads.
 *
 * Each worker has its own event_base and, for every UDP listener, its own
 * socket bound with SO_REUSEPORT (the kernel spreads datagrams); every TCP
 * listener is likewise opened once per worker with SO_REUSEPORT, and an
 * accepted connection belongs to the worker that accepted it. A TCP stream
 * is framed by Content-Length (sip_msg_frame); a connection that sends
 * garbage or exceeds the size bound is closed without harming others;
 * idle connections are closed after `tcp_idle_s`; the number of
 * connections is bounded. Connections are reused: responses go back on the
 * connection the request came on, and a request to a peer with an open
 * connection uses it (lookup by remote address).
 *
 * The transport delivers whole messages (bytes + where they came from) to
 * one callback on the receiving worker's thread and knows nothing about
 * transactions. Upper layers that must run on a particular worker (e.g. the
 * one holding a transaction, or after a Diameter answer that arrived on a
 * freeDiameter thread) use sip_tp_post().
 *
 * Threads: sip_tp_send() and sip_tp_post() are safe from any thread;
 * everything else is called from the owner's thread.
 */
#ifndef SIP_TP_H
#define SIP_TP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/ims_arena.h"
#include "base/ims_str.h"
#include "sip/msg/sip_msg.h"

struct event_base;

typedef enum sip_tp_proto {
	SIP_TP_NONE = 0,
	SIP_TP_UDP = 1,
	SIP_TP_TCP = 2,
} sip_tp_proto_t;

/* "UDP" / "TCP" (as in a Via), or "?" */
const char *sip_tp_proto_name(sip_tp_proto_t p);
/* Parses "udp"/"tcp" (any case). Returns SIP_TP_NONE when unknown. */
sip_tp_proto_t sip_tp_proto_from_str(ims_str_t s);

/* A socket address (IPv4 or IPv6). */
typedef struct sip_tp_addr {
	struct sockaddr_storage ss;
	socklen_t len;
} sip_tp_addr_t;

/* Fills *out from a numeric host ("1.2.3.4", "::1" or "[::1]") and port.
 * Returns 0 or IMS_EINVAL when the host is not a numeric address. */
int sip_tp_addr_set(sip_tp_addr_t *out /* out */, ims_str_t host, uint16_t port);
/* The port of an address (host order). */
uint16_t sip_tp_addr_port(const sip_tp_addr_t *a);
/* Writes the numeric host without brackets into buf (NUL-terminated).
 * Returns buf. cap >= 46 (INET6_ADDRSTRLEN) is always enough. */
char *sip_tp_addr_host(const sip_tp_addr_t *a, char *buf, size_t cap);
/* Writes "host:port" ("[v6]:port" for IPv6) into buf. Returns buf. */
char *sip_tp_addr_str(const sip_tp_addr_t *a, char *buf, size_t cap);
/* 1 when family, address and port are equal. */
int sip_tp_addr_equal(const sip_tp_addr_t *a, const sip_tp_addr_t *b);
/* 1 for AF_INET6. */
int sip_tp_addr_is_v6(const sip_tp_addr_t *a);

/* Where a message came from, or where to send one. */
typedef struct sip_tp_peer {
	sip_tp_proto_t proto;
	sip_tp_addr_t addr; /* the remote address */
	int listener;       /* local listener index it came on / to send from; -1 = choose */
	uint64_t conn_id;   /* TCP: the connection (0 = look up or open one by addr) */
} sip_tp_peer_t;

/* One listener: "127.0.0.1:5060:udp", "[::1]:5060:tcp", "0.0.0.0:5060"
 * (no proto = both udp and tcp when parsed with sip_tp_listen_parse_list).
 * Port 0 binds an ephemeral port (see sip_tp_listener_addr). */
typedef struct sip_tp_listen {
	char host[64];       /* numeric address, no brackets */
	uint16_t port;
	sip_tp_proto_t proto;
	char advertise[128]; /* host to put in Via/Record-Route; empty = host */
} sip_tp_listen_t;

/* Parses one "addr:port:proto" (proto required). Returns 0 or IMS_ECONFIG. */
int sip_tp_listen_parse(const char *spec, sip_tp_listen_t *out /* out */);

typedef struct sip_tp_cfg {
	const sip_tp_listen_t *listen; /* copied */
	size_t nlisten;
	int workers;         /* threads; 0 = number of online CPUs */
	size_t max_msg;      /* bytes; a larger message is dropped / its connection closed (default 65535) */
	size_t udp_mtu;      /* RFC 3261 §18.1.1: larger requests go over TCP (default 1300) */
	int max_conns;       /* open TCP connections, all workers (default 4096) */
	int tcp_idle_s;      /* idle TCP connections are closed (default 600) */
	int tcp_connect_ms;  /* outgoing connect timeout (default 3000) */
} sip_tp_cfg_t;

/* What the receive callback gets. */
typedef struct sip_tp_rx {
	ims_arena_t *arena; /* holds buf; the callback may take it (set to NULL),
			     * otherwise the transport destroys it afterwards */
	const char *buf;    /* one whole message (NUL after the last byte) */
	size_t len;
	sip_tp_peer_t peer; /* source: proto, remote addr, listener, conn_id */
	int worker;         /* receiving worker */
} sip_tp_rx_t;

typedef struct sip_tp sip_tp_t;

/* Called on the receiving worker's thread for every framed message. */
typedef void (*sip_tp_recv_fn)(void *ud, sip_tp_rx_t *rx);
/* Called on the worker that saw it when sending to `peer` failed after
 * sip_tp_send returned (TCP connect refused or timed out, connection
 * reset with data pending). err: IMS_EUNREACH, IMS_ETIMEDOUT, IMS_EIO. */
typedef void (*sip_tp_error_fn)(void *ud, int worker, const sip_tp_peer_t *peer, int err);

/* Creates the transport: binds every listener once per worker (UDP and
 * TCP with SO_REUSEPORT) and creates the event bases; no thread runs yet.
 * Returns 0 and *out, IMS_ECONFIG (bad cfg), IMS_EIO with `err` naming the
 * address:port that failed to bind, or IMS_ENOMEM. */
int sip_tp_create(const sip_tp_cfg_t *cfg, sip_tp_recv_fn recv, sip_tp_error_fn on_error,
		  void *ud, sip_tp_t **out /* out */, char *err, size_t errlen);

/* Starts one thread per worker running its event loop. Returns 0 or
 * IMS_EIO. */
int sip_tp_start(sip_tp_t *tp);

/* Stops the loops and joins the threads (call from a non-worker thread).
 * Functions posted but not yet run are still run, on their worker thread,
 * before it exits, so whatever they own gets released. */
void sip_tp_stop(sip_tp_t *tp);

/* After sip_tp_stop: runs, on the calling thread, the functions posted
 * since the loops ended (until none is left), so an owner can release what
 * they hold before freeing its own state. */
void sip_tp_drain(sip_tp_t *tp);

/* Closes every socket and frees the transport (after stop, or instead of
 * start). NULL is fine. */
void sip_tp_destroy(sip_tp_t *tp);

/* Number of workers. */
int sip_tp_nworkers(const sip_tp_t *tp);
/* Index of the worker whose thread calls this, or -1. */
int sip_tp_current_worker(void);
/* A worker's event base (to add the caller's own events on that loop). */
struct event_base *sip_tp_base(sip_tp_t *tp, int worker);

/* Runs fn(arg) on `worker`'s loop thread, soon and in post order. Safe from
 * any thread (Diameter callbacks, other workers). Returns 0, IMS_EINVAL
 * (bad worker) or IMS_ENOMEM; on failure fn is not called. */
int sip_tp_post(sip_tp_t *tp, int worker, void (*fn)(void *arg), void *arg);

/* Sends one message. UDP: one datagram from the given (or first matching)
 * listener's socket of the calling worker. TCP: on peer->conn_id if that
 * connection is open, else on an open connection to peer->addr, else on a
 * new connection (non-blocking connect; bytes are queued until it is up).
 * Safe from any thread. Returns 0, IMS_ETOOBIG (UDP above 65507, or above
 * max_msg), IMS_ENOENT (conn_id given, connection gone and no address),
 * IMS_EUNREACH (no listener of that proto/family, connect refused at once,
 * or the connection bound reached), IMS_EIO. */
int sip_tp_send(sip_tp_t *tp, const sip_tp_peer_t *peer, const char *buf, size_t len);

/* Listeners, as bound (port 0 resolved to the real one). */
size_t sip_tp_nlisteners(const sip_tp_t *tp);
const sip_tp_listen_t *sip_tp_listener(const sip_tp_t *tp, size_t i);
/* The index of the first listener with this proto and the family of
 * `family_of` (NULL = any family), or -1. */
int sip_tp_listener_find(const sip_tp_t *tp, sip_tp_proto_t proto, const sip_tp_addr_t *family_of);
/* The UDP MTU bound from the config. */
size_t sip_tp_udp_mtu(const sip_tp_t *tp);

/* ---- RFC 3261 §18.2 helpers on parsed messages ----------------------- */

/* RFC 3261 §18.2.1 and RFC 3581 §4: on a received request, adds
 * ;received=<source ip> to the top Via when its sent-by host differs from
 * the source address (or the Via has rport), and fills an empty ;rport with
 * the source port. Returns 0, IMS_EPARSE (no top Via) or IMS_ENOMEM. */
int sip_tp_via_received(sip_msg_t *req, const sip_tp_peer_t *src);

/* RFC 3261 §18.2.2 and RFC 3581 §4: where to send a response to a request
 * whose top Via is `via` and that came from `src`: reliable transport -> the
 * same connection (and, should it be gone, received/sent-by:port); else
 * maddr; else received (or the source address) with rport when present,
 * else the sent-by port (5060 by default). Names in sent-by without
 * received are not resolved: the source address is used. Returns 0 or
 * IMS_EINVAL. */
int sip_tp_response_peer(const sip_via_t *via, const sip_tp_peer_t *src,
			 sip_tp_peer_t *out /* out */);

/* Counters, summed over workers (for /metrics and tests). */
typedef struct sip_tp_stats {
	uint64_t rx_msgs, tx_msgs, rx_bytes, tx_bytes;
	uint64_t rx_garbage;   /* framing errors, oversize messages */
	uint64_t conns_open;   /* currently open TCP connections */
	uint64_t conns_closed; /* closed for idleness, errors or garbage */
	uint64_t tx_errors;
} sip_tp_stats_t;
void sip_tp_get_stats(sip_tp_t *tp, sip_tp_stats_t *out /* out */);

#endif
