/* cx-client: a small Cx (TS 29.229) client on common/dia for tests and for
 * debugging a lab. It connects to one Diameter peer (the HSS), sends one
 * UAR/MAR/SAR/LIR built from the command line, and prints the answer as
 * key=value lines. In `serve` mode it plays an S-CSCF that answers RTR and
 * PPR with DIAMETER_SUCCESS and prints what it received.
 * See docs/diameter.md for examples. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <freeDiameter/freeDiameter-host.h>
#include <freeDiameter/libfdcore.h>

#include "auth/aka.h"
#include "auth/milenage.h"
#include "base/ims_arena.h"
#include "base/ims_err.h"
#include "base/ims_hex.h"
#include "dia/cx-avp.h"
#include "dia/cx-client.h"
#include "dia/cx-core.h"
#include "dia/cx-dict.h"
#include "dia/cx-server.h"
#include "log/ims_log.h"

#define DEFAULT_REALM "ims.mnc001.mcc001.3gppnetwork.org"

static const char *usage_text =
	"usage: cx-client [options] uar|mar|sar|lir|serve\n"
	"connection:\n"
	"  --realm R            our realm and the Destination-Realm (" DEFAULT_REALM ")\n"
	"  --identity ID        our Diameter identity (cx-client.<realm>)\n"
	"  --peer-host ID       the peer's Diameter identity (hss.<realm>)\n"
	"  --peer-addr IP       address to connect to (127.0.0.1)\n"
	"  --peer-port N        port to connect to (3868)\n"
	"  --timeout MS         answer timeout (3000)\n"
	"  --connect-timeout MS wait for the connection (5000)\n"
	"  --log-level L        debug|info|notice|warn|error (warn)\n"
	"request:\n"
	"  --impi ID --impu URI [--impu URI...]  User-Name / Public-Identity\n"
	"  --server-name URI    Server-Name (MAR, SAR)\n"
	"  --auth-type N        User-Authorization-Type (UAR, LIR)\n"
	"  --visited V          Visited-Network-Identifier (UAR; default realm)\n"
	"  --scheme S           SIP-Authentication-Scheme (MAR; Digest-AKAv1-MD5)\n"
	"  --items N            SIP-Number-Auth-Items (MAR; 1)\n"
	"  --sat N|NAME         Server-Assignment-Type (SAR), e.g. REGISTRATION\n"
	"  --data-available     User-Data-Already-Available = 1 (SAR)\n"
	"  --originating        Originating-Request (LIR)\n"
	"  --drop CODE          remove the AVP with this code before sending\n"
	"AKA (MAR):\n"
	"  --k HEX --op HEX | --opc HEX   check each vector as a USIM would and\n"
	"                       print item.N.sqn / item.N.res_ok\n"
	"  --resync-sqn N --rand HEX      send RAND||AUTS for SQN_MS = N\n"
	"output:\n"
	"  --user-data-out FILE write the SAA User-Data there\n"
	"serve:\n"
	"  --count N            exit after answering N requests (1)\n"
	"  --wait MS            give up after MS (30000)\n"
	"  --delay MS           answer each request only after MS (timeout tests)\n"
	"load (uar|mar|sar|lir):\n"
	"  --bench N            send N requests, print answers/s and p50/p99 latency\n"
	"  --inflight W         keep W requests in flight (64)\n"
	"  --users U            cycle over U users: \"{n}\" in --impi/--impu becomes\n"
	"                       the user number 0..U-1, zero-padded to --pad digits (5)\n"
	"exit status: 0 answer received, 2 timeout, 3 unreachable, 1 other error\n";

static struct {
	const char *realm, *identity, *peer_host, *peer_addr;
	unsigned peer_port, timeout, connect_timeout;
	const char *cmd;
	cx_req_t req;
	int drop;
	const char *k, *op, *opc, *rand;
	long long resync_sqn;
	const char *user_data_out;
	unsigned count, wait_ms, delay_ms;
	unsigned bench, inflight, users, pad;
} opt;

static const struct {
	const char *name;
	cx_sat_t v;
} sat_names[] = {
	{ "NO_ASSIGNMENT", CX_SAT_NO_ASSIGNMENT },
	{ "REGISTRATION", CX_SAT_REGISTRATION },
	{ "RE_REGISTRATION", CX_SAT_RE_REGISTRATION },
	{ "UNREGISTERED_USER", CX_SAT_UNREGISTERED_USER },
	{ "TIMEOUT_DEREGISTRATION", CX_SAT_TIMEOUT_DEREGISTRATION },
	{ "USER_DEREGISTRATION", CX_SAT_USER_DEREGISTRATION },
	{ "TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME",
	  CX_SAT_TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME },
	{ "USER_DEREGISTRATION_STORE_SERVER_NAME", CX_SAT_USER_DEREGISTRATION_STORE_SERVER_NAME },
	{ "ADMINISTRATIVE_DEREGISTRATION", CX_SAT_ADMINISTRATIVE_DEREGISTRATION },
	{ "AUTHENTICATION_FAILURE", CX_SAT_AUTHENTICATION_FAILURE },
	{ "AUTHENTICATION_TIMEOUT", CX_SAT_AUTHENTICATION_TIMEOUT },
	{ "DEREGISTRATION_TOO_MUCH_DATA", CX_SAT_DEREGISTRATION_TOO_MUCH_DATA },
};

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "cx-client: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static void print_hex(const char *key, unsigned idx, ims_str_t v)
{
	printf("item.%u.%s=", idx, key);
	for (uint32_t i = 0; i < v.len; i++)
		printf("%02x", (uint8_t)v.s[i]);
	printf("\n");
}

static void print_answer(const cx_answer_t *a)
{
	static const char *st[] = { "OK", "TIMEOUT", "UNREACHABLE", "ERROR" };
	printf("status=%s\n", st[a->status]);
	if (a->status != CX_ANS_OK)
		return;
	printf("cmd=%s\n", cx_cmd_name(a->cmd, 0));
	printf("code=%u\n", cx_answer_code(a));
	if (a->result_code)
		printf("result_code=%u\nresult_name=%s\n", a->result_code,
		       cx_code_name(a->result_code, 0));
	if (a->exp_result_code)
		printf("exp_result_code=%u\nexp_result_name=%s\nexp_vendor_id=%u\n",
		       a->exp_result_code, cx_code_name(a->exp_result_code, 1), a->exp_vendor_id);
	printf("origin_host=%.*s\n", IMS_STR_FMT(a->origin_host));
	if (a->error_message.len)
		printf("error_message=%.*s\n", IMS_STR_FMT(a->error_message));
	if (a->failed_avp_code)
		printf("failed_avp_code=%u\nfailed_avp_vendor=%u\n", a->failed_avp_code,
		       a->failed_avp_vendor);
	if (a->user_name.len)
		printf("user_name=%.*s\n", IMS_STR_FMT(a->user_name));
	if (a->impu.len)
		printf("impu=%.*s\n", IMS_STR_FMT(a->impu));
	if (a->server_name.len)
		printf("server_name=%.*s\n", IMS_STR_FMT(a->server_name));
	if (a->has_caps) {
		printf("capabilities=1\n");
		for (unsigned i = 0; i < a->n_cap_mandatory; i++)
			printf("cap_mandatory=%u\n", a->cap_mandatory[i]);
		for (unsigned i = 0; i < a->n_cap_optional; i++)
			printf("cap_optional=%u\n", a->cap_optional[i]);
		for (unsigned i = 0; i < a->n_cap_server_name; i++)
			printf("cap_server_name=%.*s\n", IMS_STR_FMT(a->cap_server_name[i]));
	}
	if (a->n_auth_items || a->n_items)
		printf("n_auth_items=%u\nitems=%u\n", a->n_auth_items, a->n_items);
	uint8_t k[16], opc[16];
	int have_keys = opt.k && (opt.op || opt.opc) &&
			ims_hex_decode(opt.k, strlen(opt.k), k, 16) == 0;
	if (have_keys && opt.opc)
		have_keys = ims_hex_decode(opt.opc, strlen(opt.opc), opc, 16) == 0;
	else if (have_keys) {
		uint8_t op[16];
		have_keys = ims_hex_decode(opt.op, strlen(opt.op), op, 16) == 0 &&
			    milenage_opc(k, op, opc) == 0;
	}
	for (unsigned i = 0; i < a->n_items; i++) {
		const cx_auth_item_t *it = &a->items[i];
		unsigned n = i + 1;
		printf("item.%u.number=%u\n", n, it->item_number);
		printf("item.%u.scheme=%.*s\n", n, IMS_STR_FMT(it->scheme));
		if (it->authenticate.len == 32) {
			print_hex("rand", n, ims_str_from(it->authenticate.s, 16));
			print_hex("autn", n, ims_str_from(it->authenticate.s + 16, 16));
		}
		if (it->authorization.len)
			print_hex("xres", n, it->authorization);
		if (it->ck.len)
			print_hex("ck", n, it->ck);
		if (it->ik.len)
			print_hex("ik", n, it->ik);
		if (it->has_digest) {
			printf("item.%u.digest_realm=%.*s\n", n, IMS_STR_FMT(it->digest_realm));
			printf("item.%u.digest_algorithm=%.*s\n", n, IMS_STR_FMT(it->digest_algorithm));
			printf("item.%u.digest_qop=%.*s\n", n, IMS_STR_FMT(it->digest_qop));
			printf("item.%u.digest_ha1=%.*s\n", n, IMS_STR_FMT(it->digest_ha1));
		}
		if (have_keys && it->authenticate.len == 32) {
			/* play the USIM: MAC-A must verify and RES equal XRES */
			uint8_t res[8], ck[16], ik[16], sqn[6];
			const uint8_t *r = (const uint8_t *)it->authenticate.s;
			int rc = aka_ue_answer(k, opc, r, r + 16, res, ck, ik, sqn);
			printf("item.%u.mac_ok=%d\n", n, rc == 0);
			if (rc == 0) {
				printf("item.%u.sqn=%llu\n", n, (unsigned long long)aka_sqn_get(sqn));
				printf("item.%u.res_ok=%d\n", n,
				       it->authorization.len == 8 &&
					       memcmp(res, it->authorization.s, 8) == 0 &&
					       it->ck.len == 16 && memcmp(ck, it->ck.s, 16) == 0 &&
					       it->ik.len == 16 && memcmp(ik, it->ik.s, 16) == 0);
			}
		}
	}
	if (a->user_data.len) {
		printf("user_data_len=%u\n", a->user_data.len);
		if (opt.user_data_out) {
			FILE *f = fopen(opt.user_data_out, "w");
			if (!f || fwrite(a->user_data.s, 1, a->user_data.len, f) != a->user_data.len)
				fprintf(stderr, "cx-client: cannot write %s\n", opt.user_data_out);
			if (f)
				fclose(f);
		}
	}
	for (unsigned i = 0; i < a->n_assoc_impi; i++)
		printf("associated_impi=%.*s\n", IMS_STR_FMT(a->assoc_impi[i]));
}

/* --- serve mode: an S-CSCF answering RTR/PPR --- */

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint served;

static void serve_handler(void *arg, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *a)
{
	(void)arg;
	(void)a;
	pthread_mutex_lock(&out_mu);
	printf("request=%s\n", cx_cmd_name(req->cmd, 1));
	printf("origin_host=%.*s\n", IMS_STR_FMT(req->origin_host));
	printf("user_name=%.*s\n", IMS_STR_FMT(req->user_name));
	for (unsigned i = 0; i < req->n_impu; i++)
		printf("impu=%.*s\n", IMS_STR_FMT(req->impu[i]));
	if (req->has_dereg)
		printf("reason_code=%u\nreason_info=%.*s\n", req->dereg_code,
		       IMS_STR_FMT(req->dereg_info));
	if (req->user_data.len)
		printf("user_data_len=%u\n", req->user_data.len);
	fflush(stdout);
	pthread_mutex_unlock(&out_mu);
	if (opt.delay_ms)
		usleep(opt.delay_ms * 1000u);
	ans->result_code = CX_DIAMETER_SUCCESS;
	atomic_fetch_add(&served, 1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int wait_open(void)
{
	uint64_t end = now_ms() + opt.connect_timeout;
	while (!cx_core_peer_is_open(opt.peer_host)) {
		if (now_ms() > end)
			return 0;
		usleep(20000);
	}
	return 1;
}

static void parse(int argc, char **argv)
{
	enum { O_REALM = 256, O_IDENT, O_PHOST, O_PADDR, O_PPORT, O_TIMEOUT, O_CTIMEOUT, O_LOG,
	       O_IMPI, O_IMPU, O_SERVER, O_AUTHTYPE, O_VISITED, O_SCHEME, O_ITEMS, O_SAT,
	       O_AVAIL, O_ORIG, O_DROP, O_K, O_OP, O_OPC, O_RESYNC, O_RAND, O_UDOUT, O_COUNT,
	       O_WAIT, O_DELAY, O_BENCH, O_INFLIGHT, O_USERS, O_PAD, O_HELP };
	static const struct option lo[] = {
		{ "realm", 1, 0, O_REALM }, { "identity", 1, 0, O_IDENT },
		{ "peer-host", 1, 0, O_PHOST }, { "peer-addr", 1, 0, O_PADDR },
		{ "peer-port", 1, 0, O_PPORT }, { "timeout", 1, 0, O_TIMEOUT },
		{ "connect-timeout", 1, 0, O_CTIMEOUT }, { "log-level", 1, 0, O_LOG },
		{ "impi", 1, 0, O_IMPI }, { "impu", 1, 0, O_IMPU },
		{ "server-name", 1, 0, O_SERVER }, { "auth-type", 1, 0, O_AUTHTYPE },
		{ "visited", 1, 0, O_VISITED }, { "scheme", 1, 0, O_SCHEME },
		{ "items", 1, 0, O_ITEMS }, { "sat", 1, 0, O_SAT },
		{ "data-available", 0, 0, O_AVAIL }, { "originating", 0, 0, O_ORIG },
		{ "drop", 1, 0, O_DROP }, { "k", 1, 0, O_K }, { "op", 1, 0, O_OP },
		{ "opc", 1, 0, O_OPC }, { "resync-sqn", 1, 0, O_RESYNC }, { "rand", 1, 0, O_RAND },
		{ "user-data-out", 1, 0, O_UDOUT }, { "count", 1, 0, O_COUNT },
		{ "wait", 1, 0, O_WAIT }, { "delay", 1, 0, O_DELAY }, { "help", 0, 0, O_HELP },
		{ "bench", 1, 0, O_BENCH }, { "inflight", 1, 0, O_INFLIGHT },
		{ "users", 1, 0, O_USERS }, { "pad", 1, 0, O_PAD },
		{ 0, 0, 0, 0 }
	};
	int c;
	opt.realm = DEFAULT_REALM;
	opt.peer_addr = "127.0.0.1";
	opt.peer_port = 3868;
	opt.timeout = 3000;
	opt.connect_timeout = 5000;
	opt.resync_sqn = -1;
	opt.count = 1;
	opt.wait_ms = 30000;
	opt.inflight = 64;
	opt.users = 1;
	opt.pad = 5;
	ims_log_set_level(IMS_LOG_WARN);
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		cx_req_t *r = &opt.req;
		switch (c) {
		case O_REALM: opt.realm = optarg; break;
		case O_IDENT: opt.identity = optarg; break;
		case O_PHOST: opt.peer_host = optarg; break;
		case O_PADDR: opt.peer_addr = optarg; break;
		case O_PPORT: opt.peer_port = (unsigned)atoi(optarg); break;
		case O_TIMEOUT: opt.timeout = (unsigned)atoi(optarg); break;
		case O_CTIMEOUT: opt.connect_timeout = (unsigned)atoi(optarg); break;
		case O_LOG:
			if (ims_log_set_level_name(optarg))
				die("bad --log-level %s", optarg);
			break;
		case O_IMPI: r->user_name = ims_str_cstr(optarg); break;
		case O_IMPU:
			if (r->n_impu >= CX_MAX_IMPU)
				die("too many --impu (%s)", optarg);
			r->impu[r->n_impu++] = ims_str_cstr(optarg);
			break;
		case O_SERVER: r->server_name = ims_str_cstr(optarg); break;
		case O_AUTHTYPE:
			r->has_auth_type = 1;
			r->auth_type = (uint32_t)atoi(optarg);
			break;
		case O_VISITED: r->visited_network = ims_str_cstr(optarg); break;
		case O_SCHEME: r->auth_scheme = ims_str_cstr(optarg); break;
		case O_ITEMS: r->n_auth_items = (uint32_t)atoi(optarg); break;
		case O_SAT: {
			r->has_sat = 1;
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*optarg && !*end) {
				r->sat = (uint32_t)v;
				break;
			}
			unsigned i;
			for (i = 0; i < sizeof sat_names / sizeof sat_names[0]; i++)
				if (strcasecmp(optarg, sat_names[i].name) == 0)
					break;
			if (i == sizeof sat_names / sizeof sat_names[0])
				die("unknown --sat %s", optarg);
			r->sat = sat_names[i].v;
			break;
		}
		case O_AVAIL: r->user_data_available = CX_USER_DATA_ALREADY_AVAILABLE; break;
		case O_ORIG: r->has_originating = 1; break;
		case O_DROP: opt.drop = atoi(optarg); break;
		case O_K: opt.k = optarg; break;
		case O_OP: opt.op = optarg; break;
		case O_OPC: opt.opc = optarg; break;
		case O_RESYNC: opt.resync_sqn = atoll(optarg); break;
		case O_RAND: opt.rand = optarg; break;
		case O_UDOUT: opt.user_data_out = optarg; break;
		case O_COUNT: opt.count = (unsigned)atoi(optarg); break;
		case O_WAIT: opt.wait_ms = (unsigned)atoi(optarg); break;
		case O_DELAY: opt.delay_ms = (unsigned)atoi(optarg); break;
		case O_BENCH: opt.bench = (unsigned)atoi(optarg); break;
		case O_INFLIGHT: opt.inflight = (unsigned)atoi(optarg); break;
		case O_USERS: opt.users = (unsigned)atoi(optarg); break;
		case O_PAD: opt.pad = (unsigned)atoi(optarg); break;
		case 'h':
		case O_HELP: fputs(usage_text, stdout); exit(0);
		default: fputs(usage_text, stderr); exit(1);
		}
	}
	if (optind != argc - 1) {
		fputs(usage_text, stderr);
		exit(1);
	}
	opt.cmd = argv[optind];
}

/* TS 33.203 §6.3.3 / TS 29.229 §6.3.11: RAND || AUTS for a resync */
static void build_resync(uint8_t out[30])
{
	uint8_t k[16], opc[16], sqn_ms[6];
	if (!opt.rand || !opt.k || (!opt.op && !opt.opc))
		die("%s", "--resync-sqn needs --rand, --k and --op/--opc");
	if (ims_hex_decode(opt.k, strlen(opt.k), k, 16) ||
	    ims_hex_decode(opt.rand, strlen(opt.rand), out, 16))
		die("%s", "bad --k or --rand hex");
	if (opt.opc) {
		if (ims_hex_decode(opt.opc, strlen(opt.opc), opc, 16))
			die("%s", "bad --opc hex");
	} else {
		uint8_t op[16];
		if (ims_hex_decode(opt.op, strlen(opt.op), op, 16) || milenage_opc(k, op, opc))
			die("%s", "bad --op hex");
	}
	aka_sqn_put((uint64_t)opt.resync_sqn, sqn_ms);
	if (aka_auts_make(k, opc, out, sqn_ms, out + 16))
		die("%s", "cannot compute AUTS");
}

/* ---- bench: N requests with W in flight -------------------------------- */

static struct {
	sem_t slots;                 /* free in-flight slots */
	uint64_t *start_us, *lat_us; /* per request */
	atomic_uint answered, ok, failed;
} bn;

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void bench_cb(void *arg, const cx_answer_t *ans)
{
	size_t i = (size_t)(uintptr_t)arg;
	bn.lat_us[i] = now_us() - bn.start_us[i];
	if (ans->status == CX_ANS_OK) {
		atomic_fetch_add(&bn.answered, 1);
		/* 2001 DIAMETER_SUCCESS, or an Experimental-Result success (2xxx) */
		uint32_t code = ans->result_code ? ans->result_code : ans->exp_result_code;
		if (code >= 2000 && code < 3000)
			atomic_fetch_add(&bn.ok, 1);
	} else {
		atomic_fetch_add(&bn.failed, 1);
	}
	sem_post(&bn.slots);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Replaces "{n}" in tmpl with the zero-padded user number. */
static ims_str_t subst(const char *tmpl, unsigned n, char *buf, size_t cap)
{
	const char *p = strstr(tmpl, "{n}");
	if (p == NULL)
		return ims_str_cstr(tmpl);
	int len = snprintf(buf, cap, "%.*s%0*u%s", (int)(p - tmpl), tmpl, (int)opt.pad, n, p + 3);
	if (len < 0 || (size_t)len >= cap)
		die("identity too long: %s", tmpl);
	return ims_str_from(buf, (size_t)len);
}

/* Sends opt.bench requests like opt.req, opt.inflight at a time; prints
 * the figures. Returns the exit status (0: every request answered). */
static int run_bench(const char *impi_tmpl, const char *const *impu_tmpl)
{
	unsigned n = opt.bench, w = opt.inflight ? opt.inflight : 1;
	bn.start_us = calloc(n, sizeof(uint64_t));
	bn.lat_us = calloc(n, sizeof(uint64_t));
	if (bn.start_us == NULL || bn.lat_us == NULL || sem_init(&bn.slots, 0, w) != 0)
		die("bench: %s", "out of memory");
	unsigned send_err = 0;
	uint64_t t0 = now_us();
	for (unsigned i = 0; i < n; i++) {
		char ibuf[300], ubuf[CX_MAX_IMPU][300];
		cx_req_t r = opt.req;
		unsigned user = opt.users ? i % opt.users : 0;
		if (impi_tmpl != NULL)
			r.user_name = subst(impi_tmpl, user, ibuf, sizeof ibuf);
		for (unsigned k = 0; k < r.n_impu; k++)
			r.impu[k] = subst(impu_tmpl[k], user, ubuf[k], sizeof ubuf[k]);
		while (sem_wait(&bn.slots) != 0)
			;
		bn.start_us[i] = now_us();
		if (cx_client_send(&r, opt.timeout, bench_cb, (void *)(uintptr_t)i) != 0) {
			send_err++;
			sem_post(&bn.slots);
		}
	}
	for (unsigned k = 0; k < w; k++) /* every slot back: all callbacks ran */
		while (sem_wait(&bn.slots) != 0)
			;
	uint64_t el = now_us() - t0;
	unsigned answered = atomic_load(&bn.answered);
	qsort(bn.lat_us, n, sizeof(uint64_t), cmp_u64);
	printf("requests=%u inflight=%u users=%u\n", n, w, opt.users);
	printf("answered=%u success=%u failed=%u send_errors=%u\n", answered, atomic_load(&bn.ok),
	       atomic_load(&bn.failed), send_err);
	printf("elapsed_s=%.3f answers_per_s=%.0f\n", (double)el / 1e6,
	       el ? (double)answered * 1e6 / (double)el : 0.0);
	printf("p50_ms=%.3f p99_ms=%.3f\n", (double)bn.lat_us[n / 2] / 1000.0,
	       (double)bn.lat_us[(size_t)((double)n * 0.99)] / 1000.0);
	free(bn.start_us);
	free(bn.lat_us);
	sem_destroy(&bn.slots);
	return answered == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	static char ident[300], phost[300];
	uint8_t resync[30];
	parse(argc, argv);
	if (!opt.identity) {
		snprintf(ident, sizeof ident, "cx-client.%s", opt.realm);
		opt.identity = ident;
	}
	if (!opt.peer_host) {
		snprintf(phost, sizeof phost, "hss.%s", opt.realm);
		opt.peer_host = phost;
	}
	cx_req_t *r = &opt.req;
	if (!strcmp(opt.cmd, "uar"))
		r->cmd = CX_CMD_UAR;
	else if (!strcmp(opt.cmd, "mar"))
		r->cmd = CX_CMD_MAR;
	else if (!strcmp(opt.cmd, "sar"))
		r->cmd = CX_CMD_SAR;
	else if (!strcmp(opt.cmd, "lir"))
		r->cmd = CX_CMD_LIR;
	else if (strcmp(opt.cmd, "serve"))
		die("unknown command %s", opt.cmd);
	if (r->cmd == CX_CMD_MAR && opt.resync_sqn >= 0) {
		build_resync(resync);
		r->auth_authorization = ims_str_from((const char *)resync, sizeof resync);
	}
	if (r->cmd == CX_CMD_MAR && !r->auth_scheme.len)
		r->auth_scheme = IMS_STR("Digest-AKAv1-MD5");

	cx_core_cfg_t c;
	memset(&c, 0, sizeof c);
	c.identity = opt.identity;
	c.realm = opt.realm;
	c.port = 0; /* we only connect */
	c.peers[0].host = opt.peer_host;
	c.peers[0].addr = opt.peer_addr;
	c.peers[0].port = (uint16_t)opt.peer_port;
	c.n_peers = 1;
	c.request_timeout_ms = opt.timeout;
	c.tc_timer = 1;
	int rc = cx_core_start(&c);
	if (rc) {
		fprintf(stderr, "cx-client: diameter start failed: %s\n", ims_strerror(rc));
		cx_core_stop();
		return 1;
	}
	int exit_code = 1;
	if (!wait_open()) {
		printf("status=UNREACHABLE\nreason=peer %s not open after %u ms\n", opt.peer_host,
		       opt.connect_timeout);
		exit_code = 3;
		goto out;
	}
	if (r->cmd == 0) {
		cx_server_register(CX_CMD_RTR, serve_handler, NULL);
		cx_server_register(CX_CMD_PPR, serve_handler, NULL);
		printf("ready=1\n");
		fflush(stdout);
		uint64_t end = now_ms() + opt.wait_ms;
		while (atomic_load(&served) < opt.count && now_ms() < end)
			usleep(20000);
		exit_code = atomic_load(&served) >= opt.count ? 0 : 2;
		usleep(200000 + opt.delay_ms * 1000u); /* let the last answer leave */
		printf("served=%u\n", atomic_load(&served));
		goto out;
	}
	if (opt.bench) {
		const char *impu_t[CX_MAX_IMPU];
		for (unsigned k = 0; k < r->n_impu; k++)
			impu_t[k] = r->impu[k].s; /* from argv: NUL-terminated */
		exit_code = run_bench(r->user_name.len ? r->user_name.s : NULL, impu_t);
		goto out;
	}
	struct msg *m = NULL;
	rc = cx_req_encode(r, &m);
	if (rc) {
		fprintf(stderr, "cx-client: cannot build %s: %s (missing --impi/--impu?)\n",
			cx_cmd_name(r->cmd, 1), ims_strerror(rc));
		goto out;
	}
	if (opt.drop) {
		/* remove the first top-level AVP with this code: a peer must
		 * answer DIAMETER_MISSING_AVP */
		struct avp *avp = NULL;
		struct avp_hdr *h;
		for (fd_msg_browse(m, MSG_BRW_FIRST_CHILD, &avp, NULL); avp;
		     fd_msg_browse(avp, MSG_BRW_NEXT, &avp, NULL)) {
			if (fd_msg_avp_hdr(avp, &h) == 0 && h->avp_code == (uint32_t)opt.drop) {
				fd_msg_free(avp);
				break;
			}
		}
	}
	ims_arena_t *a = ims_arena_create(4096);
	cx_answer_t ans;
	rc = a ? cx_client_call_msg(&m, opt.timeout, a, &ans) : IMS_ENOMEM;
	if (rc) {
		fprintf(stderr, "cx-client: send failed: %s\n", ims_strerror(rc));
	} else {
		print_answer(&ans);
		exit_code = ans.status == CX_ANS_OK ? 0 : ans.status == CX_ANS_TIMEOUT ? 2
						      : ans.status == CX_ANS_UNREACHABLE ? 3 : 1;
	}
	ims_arena_destroy(a);
out:
	fflush(stdout);
	cx_server_unregister_all();
	cx_core_stop();
	return exit_code;
}
