/* The shared main of every daemon (ims-hss, ims-scscf, ims-icscf,
 * ims-pcscf): options, config, logging, the /healthz + /metrics listener,
 * signals, and the start/stop sequence.
 *
 *   ims-x [-c FILE] [-t] [--help] [--version]
 *
 * Sequence: load the YAML config (-c FILE, else desc->default_config when
 * that file exists, else an empty config), apply the common keys
 * (log_level, http.*), call configure(); with -t print "config OK" and
 * exit 0. Otherwise block SIGINT/SIGTERM/SIGHUP in every thread (the mask
 * is set before start so threads inherit it), ignore SIGPIPE, call
 * start(), then start the HTTP listener (so its handler never sees a
 * half-started daemon), wait in the main thread for SIGINT or SIGTERM
 * (SIGHUP is logged and ignored), then stop the listener, call stop()
 * and destroy(), exit 0.
 * Any failure prints ONE line "<name>: <reason>" on stderr (naming the
 * key or address:port) and exits 1.
 *
 * Common config keys (see docs/configuration.md):
 *   log_level   debug|info|notice|warn|error (default info)
 *   http.addr   listener address for /healthz, /metrics and the
 *               daemon's handler (default 127.0.0.1)
 *   http.port   0..65535, 0 = no listener (default desc->default_http_port)
 *   http.max_body  bytes, request body limit (default 1048576)
 * The daemon's configure() reads its own keys. If desc->known_keys is
 * set, any key that is neither common nor listed there is rejected. The
 * common keys are also registered with ims_cfg_also_known(), so a daemon
 * that calls ims_cfg_check_known() itself need not list them.
 *
 * /metrics always carries ims_build_info{daemon,version},
 * process_start_time_seconds and http_responses_total{class}. */
#ifndef IMS_APP_H
#define IMS_APP_H

#include <stddef.h>
#include <stdint.h>
#include "cfg/ims_cfg.h"
#include "http/ims_http.h"

typedef struct ims_app_desc {
	const char *name;           /* "ims-scscf": used in messages and --version */
	const char *summary;        /* one line for --help */
	const char *default_config; /* used when -c is absent and the file exists; may be NULL */
	/* Reads the daemon's keys and builds its context (*ctx). No sockets
	 * yet (so -t works beside a running daemon). Returns 0, or an
	 * IMS_E* code with one line in err (naming the key). */
	int (*configure)(ims_cfg_t *cfg, void **ctx, char *err, size_t errlen);
	/* Opens sockets, spawns threads (they inherit the blocked signal
	 * mask) and returns. Returns 0, or an IMS_E* code with one line in
	 * err naming the address:port. May be NULL. */
	int (*start)(void *ctx, char *err, size_t errlen);
	/* Stops threads and closes sockets; called once after a successful
	 * start. May be NULL. */
	void (*stop)(void *ctx);
	/* Frees ctx; called once after a successful configure. May be NULL. */
	void (*destroy)(void *ctx);

	/* Optional extras (zero = none). */
	uint16_t default_http_port;      /* default of http.port; 0 = no listener */
	ims_http_handler_fn http_handler; /* paths besides /healthz and /metrics; ud = ctx */
	ims_http_ready_fn ready;          /* /healthz readiness; ud = ctx */
	const char *const *known_keys;    /* NULL-terminated, see ims_cfg_check_known */
} ims_app_desc_t;

/* Runs the daemon as described above. Returns the process exit status
 * (0 on a clean stop or a good -t/--help/--version, 1 on failure, 2 on a
 * bad command line), so main() can `return ims_app_main(argc, argv, &d);`. */
int ims_app_main(int argc, char **argv, const ims_app_desc_t *d);

/* The common keys, NULL-terminated (for daemons that check known keys
 * themselves). */
extern const char *const ims_app_common_keys[];

/* Asks a running ims_app_main to stop as if SIGTERM arrived (e.g. from a
 * fatal error in a daemon thread). Safe from any thread. */
void ims_app_request_stop(void);

#endif
