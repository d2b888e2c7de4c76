/* freeDiameter start-up for the Cx daemons: writes a freeDiameter
 * configuration from our own settings, makes a self-signed certificate when
 * none is configured (freeDiameter 1.2 refuses to start without TLS_Cred
 * even when every peer runs without TLS), defines the Cx dictionary, and
 * starts the core.
 *
 * Threading: freeDiameter runs its own threads. Every callback registered
 * through dia/ (answers, timeouts, request handlers) runs on one of them,
 * never on the daemon's event loop; a daemon that keeps state on its loop
 * must post the data there (copy it first: the views die with the
 * callback). */
#ifndef CX_CORE_H
#define CX_CORE_H

#include <stddef.h>
#include <stdint.h>

#define CX_MAX_PEERS 8

typedef struct cx_peer_cfg {
	const char *host; /* Diameter identity, e.g. hss.<realm> */
	const char *addr; /* IP to connect to; NULL: resolve host */
	uint16_t port;    /* 0: 3868 */
} cx_peer_cfg_t;

typedef struct cx_core_cfg {
	const char *identity;    /* our Origin-Host (required) */
	const char *realm;       /* our Origin-Realm (required) */
	const char *listen_addr; /* NULL: every address */
	uint16_t port;           /* TCP port we listen on; 0: no listener */
	const char *work_dir;    /* generated files go here; NULL: a fresh
				  * private directory under $TMPDIR or /tmp */
	const char *tls_cert;    /* optional PEM cert/key/CA for freeDiameter */
	const char *tls_key;
	const char *tls_ca;
	cx_peer_cfg_t peers[CX_MAX_PEERS]; /* peers we connect to */
	unsigned n_peers;
	int accept_realm_peers;  /* accept an unknown peer whose identity or
				  * realm is in our realm (the HSS does) */
	unsigned tc_timer;       /* seconds between reconnect attempts (Tc);
				  * 0: 5 */
	unsigned request_timeout_ms; /* default answer timeout; 0: 3000 */
	const char *dest_realm;  /* Destination-Realm of our requests;
				  * NULL: our realm */
	int fd_log_level;        /* freeDiameter's own level (FD_LOG_*);
				  * 0: errors only */
	unsigned app_threads;    /* freeDiameter dispatch threads running the
				  * request handlers (AppServThreads); 0: 4 */
	const char *extra_conf;  /* optional file of freeDiameter directives
				  * appended to the generated configuration
				  * (extensions, more peers) */
} cx_core_cfg_t;

/* Starts freeDiameter with cfg (strings are copied). Blocks until the core
 * has started (peers connect in the background; freeDiameter reconnects
 * by itself every Tc seconds). Call once per process.
 * Errors: IMS_EINVAL (missing identity/realm), IMS_EIO (work dir, cert),
 * IMS_ECONFIG (freeDiameter refused the configuration: the line is
 * logged), IMS_EDIAMETER (dictionary or core start failed). */
int cx_core_start(const cx_core_cfg_t *cfg);

/* Initialises freeDiameter and the Cx dictionary only, without a
 * configuration, listener or peers: enough to build and parse messages
 * in memory (unit tests, tools). identity/realm become Origin-Host/Realm
 * of what cx_req_encode builds. Returns 0 or IMS_EDIAMETER. */
int cx_core_dict_only(const char *identity, const char *realm);

/* Stops freeDiameter (closes peers, joins its threads) and removes the
 * generated files. Safe to call when nothing was started. */
void cx_core_stop(void);

/* Our identity/realm/destination realm and request timeout as configured
 * (NUL-terminated, valid until cx_core_stop). */
const char *cx_core_identity(void);
const char *cx_core_realm(void);
const char *cx_core_dest_realm(void);
unsigned cx_core_timeout_ms(void);

/* 1 when the peer with this identity is connected (state OPEN). */
int cx_core_peer_is_open(const char *host);

/* Writes the freeDiameter configuration text for cfg into buf (cap bytes)
 * using cert/key/ca as the TLS files. Exposed for tests.
 * Returns the length, or IMS_ENOSPC / IMS_EINVAL. */
int cx_core_conf_render(const cx_core_cfg_t *cfg, const char *cert, const char *key,
			const char *ca, char *buf, size_t cap);

#endif
