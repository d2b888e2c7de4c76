/* freeDiameter start-up: generated configuration, certificate, peers. */
#include "dia/cx-core.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <freeDiameter/freeDiameter-host.h>
#include <freeDiameter/libfdcore.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base/ims_err.h"
#include "dia/cx-dict.h"
#include "dia/cx-guard.h"
#include "log/ims_log.h"

static struct {
	int initialised; /* fd_core_initialize done */
	int started;     /* fd_core_start done */
	char identity[256];
	char realm[256];
	char dest_realm[256];
	unsigned timeout_ms;
	int accept_realm_peers;
	char dir[512];      /* our private directory */
	int dir_created;    /* we made it, so we remove it */
	char conf_path[600], cert_path[600], key_path[600];
} core;

/* freeDiameter's own lines, at most FD_LOG_BURST a second: a peer sending
 * garbage makes it dump whole messages line by line. */
#define FD_LOG_BURST 40

static void fd_logger(int level, const char *fmt, va_list ap)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static time_t window;
	static unsigned lines, dropped;
	ims_log_level_t lvl = level >= FD_LOG_FATAL ? IMS_LOG_ERROR :
			      level >= FD_LOG_ERROR ? IMS_LOG_WARN :
			      level >= FD_LOG_NOTICE ? IMS_LOG_INFO : IMS_LOG_DEBUG;
	if ((int)lvl < ims_log_current_level)
		return;
	unsigned report = 0;
	int drop = 0;
	time_t now = time(NULL);
	pthread_mutex_lock(&mu);
	if (now != window) {
		report = dropped;
		window = now;
		lines = dropped = 0;
	}
	if (++lines > FD_LOG_BURST && lvl < IMS_LOG_ERROR) {
		dropped++;
		drop = 1;
	}
	pthread_mutex_unlock(&mu);
	if (report)
		LOG_WARN("fd", "log.suppressed lines=%u", report);
	if (drop)
		return;
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	IMS_LOG(lvl, "fd", "log msg=\"%s\"", line);
}

static int core_init(int fd_level)
{
	if (core.initialised)
		return 0;
	fd_g_debug_lvl = fd_level > 0 ? fd_level : FD_LOG_ERROR;
	fd_log_handler_register(fd_logger);
	if (fd_core_initialize()) {
		LOG_ERROR("dia", "core.init_failed");
		return IMS_EDIAMETER;
	}
	core.initialised = 1;
	return cx_dict_init();
}

int cx_core_dict_only(const char *identity, const char *realm)
{
	snprintf(core.identity, sizeof core.identity, "%s", identity ? identity : "");
	snprintf(core.realm, sizeof core.realm, "%s", realm ? realm : "");
	snprintf(core.dest_realm, sizeof core.dest_realm, "%s", realm ? realm : "");
	return core_init(0);
}

int cx_core_conf_render(const cx_core_cfg_t *cfg, const char *cert, const char *key,
			const char *ca, char *buf, size_t cap)
{
	if (!cfg || !cfg->identity || !cfg->realm || !cert || !key)
		return IMS_EINVAL;
	size_t n = 0;
	int w;
#define EMIT(...)                                                    \
	do {                                                         \
		w = snprintf(buf + n, cap > n ? cap - n : 0, __VA_ARGS__); \
		if (w < 0 || (size_t)w >= (cap > n ? cap - n : 0))   \
			return IMS_ENOSPC;                           \
		n += (size_t)w;                                      \
	} while (0)
	EMIT("Identity = \"%s\";\nRealm = \"%s\";\n", cfg->identity, cfg->realm);
	/* Port 0 keeps freeDiameter from listening at all (client-only) */
	EMIT("Port = %u;\nSecPort = 0;\n", (unsigned)cfg->port);
	/* No ListenOn here: freeDiameter 1.2.1 silently drops a loopback
	 * ListenOn (and then binds every address); see bind_listen_addr() */
	/* TS 29.229 §7: Cx runs over TCP or SCTP; the lab uses TCP only */
	EMIT("No_SCTP;\nNo_IPv6;\nNoRelay;\n");
	EMIT("TcTimer = %u;\n", cfg->tc_timer ? cfg->tc_timer : 5);
	EMIT("AppServThreads = %u;\n", cfg->app_threads ? cfg->app_threads : 4u);
	EMIT("TLS_Cred = \"%s\", \"%s\";\n", cert, key);
	if (ca)
		EMIT("TLS_CA = \"%s\";\n", ca);
	for (unsigned i = 0; i < cfg->n_peers && i < CX_MAX_PEERS; i++) {
		const cx_peer_cfg_t *p = &cfg->peers[i];
		if (!p->host)
			return IMS_EINVAL;
		EMIT("ConnectPeer = \"%s\" { No_TLS; No_SCTP; No_IPv6;", p->host);
		if (p->addr)
			EMIT(" ConnectTo = \"%s\";", p->addr);
		EMIT(" Port = %u; };\n", p->port ? (unsigned)p->port : 3868u);
	}
#undef EMIT
	return (int)n;
}

/* A throw-away self-signed certificate: freeDiameter 1.2 loads TLS_Cred at
 * start even though our peers use No_TLS, so any valid pair will do. */
static int make_cert(const char *cn, const char *cert_path, const char *key_path)
{
	int ret = IMS_EIO;
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	FILE *f = NULL;
	if (!pk || !x)
		goto out;
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 24 * 3600);
	X509_set_pubkey(x, pk);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (!X509_sign(x, pk, EVP_sha256()))
		goto out;
	int fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (!PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL))
		goto out;
	fclose(f);
	f = fopen(cert_path, "w");
	if (!f || !PEM_write_X509(f, x))
		goto out;
	ret = 0;
out:
	if (f)
		fclose(f);
	X509_free(x);
	EVP_PKEY_free(pk);
	if (ret)
		LOG_ERROR("dia", "cert.generate_failed path=%s", cert_path);
	return ret;
}

/* Restricts the listener to cfg->listen_addr. freeDiameter's own ListenOn
 * filters loopback addresses out (fd_ep_add_merge without EP_ACCEPTALL),
 * which would leave the HSS listening on every interface; adding the
 * endpoint ourselves with EP_ACCEPTALL keeps 127.0.0.1 a real bind. */
static int bind_listen_addr(const char *addr)
{
	struct addrinfo hints, *ai = NULL;
	if (!addr || !*addr || !strcmp(addr, "0.0.0.0") || !strcmp(addr, "::") || !strcmp(addr, "*"))
		return 0;
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
	if (getaddrinfo(addr, NULL, &hints, &ai) || !ai) {
		LOG_ERROR("dia", "listen.bad_address addr=%s", addr);
		return IMS_ECONFIG;
	}
	int ret = fd_ep_add_merge(&fd_g_config->cnf_endpoints, ai->ai_addr, ai->ai_addrlen,
				  EP_FL_CONF | EP_ACCEPTALL);
	freeaddrinfo(ai);
	return ret ? IMS_EDIAMETER : 0;
}

/* Accepts an unknown peer from our own realm (the CSCFs), over plain TCP.
 * This stands in for acl_wl.fdx with a generated white list. */
static int validate_peer(struct peer_info *info, int *auth, int (**cb2)(struct peer_info *))
{
	(void)cb2;
	*auth = 0;
	if (!core.accept_realm_peers)
		return 0;
	size_t rl = strlen(core.realm);
	const char *id = info->pi_diamid;
	size_t il = info->pi_diamidlen;
	int ok = 0;
	if (il > rl + 1 && id[il - rl - 1] == '.' && strncasecmp(id + il - rl, core.realm, rl) == 0)
		ok = 1;
	if (info->runtime.pir_realm && info->runtime.pir_realmlen == rl &&
	    strncasecmp(info->runtime.pir_realm, core.realm, rl) == 0)
		ok = 1;
	if (ok) {
		info->config.pic_flags.sec = PI_SEC_NONE;
		*auth = 1;
		LOG_INFO("dia", "peer.accepted host=%.*s", (int)il, id);
	} else {
		*auth = -1;
		LOG_WARN("dia", "peer.rejected host=%.*s reason=foreign_realm", (int)il, id);
	}
	return 0;
}

static int make_dir(const cx_core_cfg_t *cfg)
{
	if (cfg->work_dir) {
		snprintf(core.dir, sizeof core.dir, "%s", cfg->work_dir);
		if (mkdir(core.dir, 0700) && errno != EEXIST)
			return IMS_EIO;
		return 0;
	}
	const char *t = getenv("TMPDIR");
	snprintf(core.dir, sizeof core.dir, "%s/ims-dia-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(core.dir))
		return IMS_EIO;
	core.dir_created = 1;
	return 0;
}

/* With no callback registered for a message hook, freeDiameter formats the
 * whole message for its default debug line on every send and receive, even
 * when that line is then dropped (5-9 % of a CSCF's CPU in the registration
 * benchmark, docs/PERFORMANCE.md). A callback that does nothing stops it;
 * at log_level debug the default dumps are kept for troubleshooting. */
static void quiet_hook(enum fd_hook_type type, struct msg *msg, struct peer_hdr *peer, void *other,
		       struct fd_hook_permsgdata *pmd, void *regdata)
{
	(void)type;
	(void)msg;
	(void)peer;
	(void)other;
	(void)pmd;
	(void)regdata;
}

static int install_quiet_hooks(void)
{
	if (ims_log_current_level <= IMS_LOG_DEBUG)
		return 0;
	struct fd_hook_hdl *hdl = NULL;
	return fd_hook_register(HOOK_MASK(HOOK_MESSAGE_SENT, HOOK_MESSAGE_LOCAL,
					  HOOK_MESSAGE_ROUTING_FORWARD, HOOK_MESSAGE_ROUTING_LOCAL),
				quiet_hook, NULL, NULL, &hdl);
}

int cx_core_start(const cx_core_cfg_t *cfg)
{
	if (!cfg || !cfg->identity || !cfg->realm || !*cfg->identity || !*cfg->realm)
		return IMS_EINVAL;
	if (core.started)
		return IMS_ESTATE;
	snprintf(core.identity, sizeof core.identity, "%s", cfg->identity);
	snprintf(core.realm, sizeof core.realm, "%s", cfg->realm);
	snprintf(core.dest_realm, sizeof core.dest_realm, "%s",
		 cfg->dest_realm ? cfg->dest_realm : cfg->realm);
	core.timeout_ms = cfg->request_timeout_ms ? cfg->request_timeout_ms : 3000;
	core.accept_realm_peers = cfg->accept_realm_peers;

	int ret = make_dir(cfg);
	if (ret) {
		LOG_ERROR("dia", "workdir.failed path=%s err=%s", core.dir, strerror(errno));
		return ret;
	}
	const char *cert = cfg->tls_cert, *key = cfg->tls_key, *ca = cfg->tls_ca;
	if (!cert || !key) {
		snprintf(core.cert_path, sizeof core.cert_path, "%s/fd-cert.pem", core.dir);
		snprintf(core.key_path, sizeof core.key_path, "%s/fd-key.pem", core.dir);
		if ((ret = make_cert(cfg->identity, core.cert_path, core.key_path)))
			return ret;
		cert = core.cert_path;
		key = core.key_path;
		ca = core.cert_path;
	}
	char text[16384];
	int n = cx_core_conf_render(cfg, cert, key, ca, text, sizeof text);
	if (n < 0)
		return n;
	if (cfg->extra_conf) {
		FILE *x = fopen(cfg->extra_conf, "r");
		if (!x) {
			LOG_ERROR("dia", "conf.extra_unreadable path=%s err=%s", cfg->extra_conf,
				  strerror(errno));
			return IMS_ECONFIG;
		}
		size_t got = fread(text + n, 1, sizeof text - (size_t)n - 1, x);
		int toobig = !feof(x);
		fclose(x);
		if (toobig) {
			LOG_ERROR("dia", "conf.extra_too_large path=%s", cfg->extra_conf);
			return IMS_ECONFIG;
		}
		n += (int)got;
	}
	snprintf(core.conf_path, sizeof core.conf_path, "%s/freeDiameter.conf", core.dir);
	FILE *f = fopen(core.conf_path, "w");
	if (!f || fwrite(text, 1, (size_t)n, f) != (size_t)n) {
		if (f)
			fclose(f);
		LOG_ERROR("dia", "conf.write_failed path=%s", core.conf_path);
		return IMS_EIO;
	}
	fclose(f);

	if ((ret = core_init(cfg->fd_log_level)))
		return ret;
	if (fd_core_parseconf(core.conf_path)) {
		LOG_ERROR("dia", "conf.rejected path=%s (see the fd log lines above)", core.conf_path);
		return IMS_ECONFIG;
	}
	if (cfg->port && (ret = bind_listen_addr(cfg->listen_addr)))
		return ret;
	if (fd_disp_app_support(cx_dict.app_cx, cx_dict.vendor_3gpp, 1, 0) ||
	    fd_peer_validate_register(validate_peer) || cx_guard_install() ||
	    install_quiet_hooks()) {
		LOG_ERROR("dia", "core.app_support_failed");
		return IMS_EDIAMETER;
	}
	if (fd_core_start()) {
		LOG_ERROR("dia", "core.start_failed port=%u", (unsigned)cfg->port);
		return IMS_EDIAMETER;
	}
	core.started = 1;
	if (fd_core_waitstartcomplete()) {
		LOG_ERROR("dia", "core.start_incomplete");
		return IMS_EDIAMETER;
	}
	LOG_INFO("dia", "core.started identity=%s realm=%s port=%u peers=%u", core.identity,
		 core.realm, (unsigned)cfg->port, cfg->n_peers);
	return 0;
}

void cx_core_stop(void)
{
	if (core.initialised) {
		fd_core_shutdown();
		fd_core_wait_shutdown_complete();
		core.initialised = 0;
		core.started = 0;
	}
	if (core.conf_path[0])
		unlink(core.conf_path);
	if (core.cert_path[0])
		unlink(core.cert_path);
	if (core.key_path[0])
		unlink(core.key_path);
	if (core.dir_created)
		rmdir(core.dir);
	core.conf_path[0] = core.cert_path[0] = core.key_path[0] = 0;
	core.dir_created = 0;
}

const char *cx_core_identity(void)
{
	return core.identity;
}

const char *cx_core_realm(void)
{
	return core.realm;
}

const char *cx_core_dest_realm(void)
{
	return core.dest_realm;
}

unsigned cx_core_timeout_ms(void)
{
	return core.timeout_ms ? core.timeout_ms : 3000;
}

int cx_core_peer_is_open(const char *host)
{
	struct peer_hdr *p = NULL;
	if (!core.started || !host)
		return 0;
	if (fd_peer_getbyid((DiamId_t)host, strlen(host), 1, &p) || !p)
		return 0;
	return fd_peer_get_state(p) == STATE_OPEN;
}
