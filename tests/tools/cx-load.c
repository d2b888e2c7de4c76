/* cx-load: a Cx load generator for the HSS benchmark (tests/bench/hss_cx.sh).
 *
 * cx-client drives the same requests through libfreeDiameter, whose five
 * threads per message cost about 100 us of CPU each: on the 2-core
 * development machine that is half a core taken from the HSS it measures.
 * cx-load speaks Diameter itself over one TCP connection (RFC 6733: CER/CEA,
 * DWR/DWA, DPR/DPA), keeps W requests in flight from one thread, and checks
 * every answer: the hop-by-hop id of a request in flight, the command code,
 * Result-Code 2001, and the AVP that makes the answer useful (a
 * SIP-Auth-Data-Item in a MAA, User-Data in a SAA after a registration).
 *
 * Usage: cx-load --port P [--host 127.0.0.1] --realm R [--identity ID]
 *          --requests N [--inflight W] [--users U] [--pad 5]
 *          --impi TMPL --impu TMPL --server-name URI
 *          mar [--scheme S] | sar [--sat N]
 * "{n}" in a template is the user number (request i uses user i mod U),
 * zero-padded to --pad digits. Prints, like cx-client --bench:
 *   requests= inflight= users= / answered= success= failed= /
 *   elapsed_s= answers_per_s= / p50_ms= p99_ms=
 * Exit 0 when every request got a successful, complete answer. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define VENDOR_3GPP 10415u
#define CX_APP 16777216u
#define F_V 0x80
#define F_M 0x40

enum { CMD_CER = 257, CMD_DWR = 280, CMD_DPR = 282, CMD_SAR = 301, CMD_MAR = 303 };
enum {
	A_USER_NAME = 1, A_HOST_IP = 257, A_AUTH_APP = 258, A_VSAI = 260, A_SESSION_ID = 263,
	A_ORIGIN_HOST = 264, A_VENDOR_ID = 266, A_RESULT_CODE = 268, A_PRODUCT = 269,
	A_AUTH_SESSION_STATE = 277, A_DEST_REALM = 283, A_ORIGIN_REALM = 296,
	A_EXP_RESULT = 297, A_EXP_RESULT_CODE = 298,
	A_PUBLIC_ID = 601, A_SERVER_NAME = 602, A_NUM_AUTH_ITEMS = 607, A_AUTH_SCHEME = 608,
	A_AUTH_DATA_ITEM = 612, A_SAT = 614, A_USER_DATA = 606, A_UDAA = 624,
};

static struct {
	const char *host, *realm, *identity, *impi, *impu, *server, *scheme, *cmd;
	int port;
	unsigned requests, inflight, users, pad, sat, timeout_ms;
} opt = { .host = "127.0.0.1", .scheme = "Digest-AKAv1-MD5", .inflight = 64, .pad = 5,
	  .sat = 1, .timeout_ms = 5000 };

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("cx-load: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- encoding ---------------------------------------------------------- */

typedef struct buf {
	uint8_t *p;
	size_t len, cap;
} buf_t;

static void reserve(buf_t *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n)
		cap *= 2;
	if ((b->p = realloc(b->p, cap)) == NULL)
		die("out of memory");
	b->cap = cap;
}

static void put32(buf_t *b, uint32_t v)
{
	reserve(b, 4);
	v = htonl(v);
	memcpy(b->p + b->len, &v, 4);
	b->len += 4;
}

static void set24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

/* Opens an AVP; returns its offset for avp_end (grouped AVPs nest). */
static size_t avp_begin(buf_t *b, uint32_t code, uint32_t vendor)
{
	size_t at = b->len;
	put32(b, code);
	put32(b, (uint32_t)((vendor ? F_V : 0) | F_M) << 24);
	if (vendor)
		put32(b, vendor);
	return at;
}

static void avp_end(buf_t *b, size_t at)
{
	set24(b->p + at + 5, (uint32_t)(b->len - at));
	size_t pad = (4 - (b->len - at) % 4) % 4;
	reserve(b, pad);
	memset(b->p + b->len, 0, pad);
	b->len += pad;
}

static void avp_str(buf_t *b, uint32_t code, uint32_t vendor, const char *s, size_t n)
{
	size_t at = avp_begin(b, code, vendor);
	reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	avp_end(b, at);
}

static void avp_cstr(buf_t *b, uint32_t code, uint32_t vendor, const char *s)
{
	avp_str(b, code, vendor, s, strlen(s));
}

static void avp_u32(buf_t *b, uint32_t code, uint32_t vendor, uint32_t v)
{
	size_t at = avp_begin(b, code, vendor);
	put32(b, v);
	avp_end(b, at);
}

static void avp_vsai(buf_t *b)
{
	size_t at = avp_begin(b, A_VSAI, 0);
	avp_u32(b, A_VENDOR_ID, 0, VENDOR_3GPP);
	avp_u32(b, A_AUTH_APP, 0, CX_APP);
	avp_end(b, at);
}

/* Opens a message; msg_end sets its length. */
static size_t msg_begin(buf_t *b, uint8_t flags, uint32_t code, uint32_t app, uint32_t hbh,
			uint32_t e2e)
{
	size_t at = b->len;
	put32(b, 1u << 24);
	put32(b, (uint32_t)flags << 24 | code);
	put32(b, app);
	put32(b, hbh);
	put32(b, e2e);
	return at;
}

static void msg_end(buf_t *b, size_t at)
{
	set24(b->p + at + 1, (uint32_t)(b->len - at));
}

static void origin(buf_t *b)
{
	avp_cstr(b, A_ORIGIN_HOST, 0, opt.identity);
	avp_cstr(b, A_ORIGIN_REALM, 0, opt.realm);
}

/* "{n}" replaced by the zero-padded user number. */
static size_t subst(const char *tmpl, unsigned n, char *out, size_t cap)
{
	const char *p = strstr(tmpl, "{n}");
	int len = p ? snprintf(out, cap, "%.*s%0*u%s", (int)(p - tmpl), tmpl, (int)opt.pad, n, p + 3)
		    : snprintf(out, cap, "%s", tmpl);
	if (len < 0 || (size_t)len >= cap)
		die("identity too long: %s", tmpl);
	return (size_t)len;
}

static uint32_t e2e_next;

static void request(buf_t *b, unsigned i, uint32_t hbh)
{
	char impi[256], impu[256], sid[320];
	unsigned user = opt.users ? i % opt.users : 0;
	size_t li = subst(opt.impi, user, impi, sizeof impi);
	size_t lu = subst(opt.impu, user, impu, sizeof impu);
	int ls = snprintf(sid, sizeof sid, "%s;%u;%u", opt.identity, (unsigned)getpid(), i);
	int mar = strcmp(opt.cmd, "mar") == 0;
	size_t m = msg_begin(b, 0xC0, mar ? CMD_MAR : CMD_SAR, CX_APP, hbh, e2e_next++);
	avp_str(b, A_SESSION_ID, 0, sid, (size_t)ls);
	avp_vsai(b);
	avp_u32(b, A_AUTH_SESSION_STATE, 0, 1); /* NO_STATE_MAINTAINED */
	origin(b);
	avp_cstr(b, A_DEST_REALM, 0, opt.realm);
	avp_str(b, A_USER_NAME, 0, impi, li);
	avp_str(b, A_PUBLIC_ID, VENDOR_3GPP, impu, lu);
	avp_cstr(b, A_SERVER_NAME, VENDOR_3GPP, opt.server);
	if (mar) {
		avp_u32(b, A_NUM_AUTH_ITEMS, VENDOR_3GPP, 1);
		size_t g = avp_begin(b, A_AUTH_DATA_ITEM, VENDOR_3GPP);
		avp_cstr(b, A_AUTH_SCHEME, VENDOR_3GPP, opt.scheme);
		avp_end(b, g);
	} else {
		avp_u32(b, A_SAT, VENDOR_3GPP, opt.sat);
		avp_u32(b, A_UDAA, VENDOR_3GPP, 0); /* USER_DATA_NOT_AVAILABLE */
	}
	msg_end(b, m);
}

/* ---- decoding ---------------------------------------------------------- */

typedef struct answer {
	uint32_t result, exp_result;
	int has_auth_item, has_user_data;
} answer_t;

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return ntohl(v);
}

static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Walks the AVPs of [p, p+n); 0, or -1 when they do not tile it. */
static int scan(const uint8_t *p, size_t n, answer_t *a)
{
	size_t i = 0;
	while (i < n) {
		if (n - i < 8)
			return -1;
		uint32_t code = get32(p + i), len = get24(p + i + 5);
		uint8_t flags = p[i + 4];
		size_t hdr = flags & F_V ? 12 : 8;
		if (len < hdr || len > n - i)
			return -1;
		const uint8_t *d = p + i + hdr;
		size_t dl = len - hdr;
		uint32_t vendor = flags & F_V ? get32(p + i + 8) : 0;
		if (vendor == 0 && code == A_RESULT_CODE && dl == 4)
			a->result = get32(d);
		else if (vendor == 0 && code == A_EXP_RESULT && scan(d, dl, a) != 0)
			return -1;
		else if (vendor == 0 && code == A_EXP_RESULT_CODE && dl == 4)
			a->exp_result = get32(d);
		else if (vendor == VENDOR_3GPP && code == A_AUTH_DATA_ITEM)
			a->has_auth_item = 1;
		else if (vendor == VENDOR_3GPP && code == A_USER_DATA && dl > 0)
			a->has_user_data = 1;
		i += (len + 3u) & ~3u;
	}
	return 0;
}

/* ---- the run ----------------------------------------------------------- */

static int fd = -1;

static void send_all(const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("send: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

/* Answers a watchdog or disconnect request of the peer. */
static void answer_peer(const uint8_t *m, uint32_t code)
{
	buf_t b = { 0 };
	size_t at = msg_begin(&b, 0x00, code, 0, get32(m + 12), get32(m + 16));
	avp_u32(&b, A_RESULT_CODE, 0, 2001);
	origin(&b);
	msg_end(&b, at);
	send_all(b.p, b.len);
	free(b.p);
}

static void connect_peer(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port) };
	if (inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1)
		die("bad --host %s", opt.host);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		die("connect %s:%d: %s", opt.host, opt.port, strerror(errno));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct timeval tv = { .tv_sec = opt.timeout_ms / 1000,
			      .tv_usec = (opt.timeout_ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* Reads into rb until it holds one whole message; returns its length. */
static size_t read_msg(buf_t *rb, size_t *off)
{
	for (;;) {
		size_t have = rb->len - *off;
		if (have >= 20) {
			uint32_t len = get24(rb->p + *off + 1);
			if (rb->p[*off] != 1 || len < 20)
				die("bad message from the peer (version %u, length %u)",
				    rb->p[*off], len);
			if (have >= len)
				return len;
		}
		if (*off > 0) { /* keep the partial message at the start */
			memmove(rb->p, rb->p + *off, have);
			rb->len = have;
			*off = 0;
		}
		reserve(rb, 65536);
		ssize_t r = recv(fd, rb->p + rb->len, rb->cap - rb->len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			die("the peer closed the connection");
		if (r < 0)
			die("no answer within %u ms (%s)", opt.timeout_ms, strerror(errno));
		rb->len += (size_t)r;
	}
}

static void capabilities(void)
{
	buf_t b = { 0 };
	size_t at = msg_begin(&b, 0x80, CMD_CER, 0, 0x7fffffffu, e2e_next++);
	origin(&b);
	size_t a = avp_begin(&b, A_HOST_IP, 0);
	reserve(&b, 6);
	memcpy(b.p + b.len, "\x00\x01\x7f\x00\x00\x01", 6); /* IPv4 127.0.0.1 */
	b.len += 6;
	avp_end(&b, a);
	avp_u32(&b, A_VENDOR_ID, 0, 0);
	avp_cstr(&b, A_PRODUCT, 0, "cx-load");
	avp_vsai(&b);
	msg_end(&b, at);
	send_all(b.p, b.len);
	free(b.p);
	buf_t rb = { 0 };
	size_t off = 0, len = read_msg(&rb, &off);
	answer_t ans = { 0 };
	if (get24(rb.p + 5) != CMD_CER || scan(rb.p + 20, len - 20, &ans) != 0 || ans.result != 2001)
		die("capabilities exchange refused (Result-Code %u)", ans.result);
	free(rb.p);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fputs("usage: cx-load --port P [--host H] --realm R [--identity ID] --requests N\n"
	      "         [--inflight W] [--users U] [--pad D] [--timeout MS]\n"
	      "         --impi TMPL --impu TMPL --server-name URI\n"
	      "         mar [--scheme S] | sar [--sat N]\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", 1, 0, 'h' },     { "port", 1, 0, 'p' },     { "realm", 1, 0, 'r' },
		{ "identity", 1, 0, 'i' }, { "requests", 1, 0, 'n' }, { "inflight", 1, 0, 'w' },
		{ "users", 1, 0, 'u' },    { "pad", 1, 0, 'd' },      { "impi", 1, 0, 'I' },
		{ "impu", 1, 0, 'U' },     { "server-name", 1, 0, 's' }, { "scheme", 1, 0, 'S' },
		{ "sat", 1, 0, 'a' },      { "timeout", 1, 0, 't' },  { 0, 0, 0, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (c) {
		case 'h': opt.host = optarg; break;
		case 'p': opt.port = atoi(optarg); break;
		case 'r': opt.realm = optarg; break;
		case 'i': opt.identity = optarg; break;
		case 'n': opt.requests = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'w': opt.inflight = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'u': opt.users = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': opt.pad = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'I': opt.impi = optarg; break;
		case 'U': opt.impu = optarg; break;
		case 's': opt.server = optarg; break;
		case 'S': opt.scheme = optarg; break;
		case 'a': opt.sat = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': opt.timeout_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (optind >= argc || !opt.port || !opt.realm || !opt.requests || !opt.impi || !opt.impu ||
	    !opt.server || opt.inflight == 0 || opt.pad > 20)
		usage();
	opt.cmd = argv[optind];
	if (strcmp(opt.cmd, "mar") && strcmp(opt.cmd, "sar"))
		usage();
	static char ident[300];
	if (!opt.identity) {
		snprintf(ident, sizeof ident, "cx-load.%s", opt.realm);
		opt.identity = ident;
	}
	int mar = strcmp(opt.cmd, "mar") == 0;
	/* answers carry data only after these Server-Assignment-Types */
	int want_data = !mar && (opt.sat == 1 || opt.sat == 2 || opt.sat == 0 || opt.sat == 3);
	srand((unsigned)now_us());
	e2e_next = (uint32_t)rand() << 12;

	connect_peer();
	capabilities();

	unsigned n = opt.requests, w = opt.inflight < n ? opt.inflight : n;
	uint64_t *start = calloc(w, sizeof *start), *lat = calloc(n, sizeof *lat);
	unsigned *slot_req = calloc(w, sizeof *slot_req), *free_slots = calloc(w, sizeof *free_slots);
	if (!start || !lat || !slot_req || !free_slots)
		die("out of memory");
	for (unsigned k = 0; k < w; k++) {
		free_slots[k] = w - 1 - k;
		slot_req[k] = UINT32_MAX;
	}
	unsigned n_free = w, sent = 0, answered = 0, ok = 0, failed = 0;
	buf_t out = { 0 }, rb = { 0 };
	size_t off = 0;
	uint64_t t0 = now_us();
	while (answered < n) {
		/* fill the window: every free slot gets a request, one send */
		out.len = 0;
		while (n_free > 0 && sent < n) {
			unsigned s = free_slots[--n_free];
			slot_req[s] = sent;
			request(&out, sent, s);
			sent++;
		}
		uint64_t ts = now_us();
		for (unsigned k = 0; k < w; k++)
			if (slot_req[k] != UINT32_MAX && start[k] == 0)
				start[k] = ts;
		if (out.len)
			send_all(out.p, out.len);
		/* then every whole message already read, at least one */
		do {
			size_t len = read_msg(&rb, &off);
			const uint8_t *m = rb.p + off;
			uint8_t flags = m[4];
			uint32_t code = get24(m + 5), hbh = get32(m + 12);
			if (flags & 0x80) { /* a request of the peer */
				if (code == CMD_DWR || code == CMD_DPR)
					answer_peer(m, code);
				else
					die("unexpected request %u from the peer", code);
			} else if (hbh >= w || slot_req[hbh] == UINT32_MAX) {
				die("answer with unknown hop-by-hop id %u", hbh);
			} else {
				answer_t a = { 0 };
				int good = code == (mar ? CMD_MAR : CMD_SAR) &&
					   scan(m + 20, len - 20, &a) == 0 && a.result == 2001 &&
					   (mar ? a.has_auth_item : !want_data || a.has_user_data);
				if (good) {
					ok++;
				} else {
					failed++;
					if (failed <= 5)
						fprintf(stderr,
							"cx-load: request %u: command %u Result-Code %u "
							"Experimental-Result-Code %u\n",
							slot_req[hbh], code, a.result, a.exp_result);
				}
				lat[slot_req[hbh]] = now_us() - start[hbh];
				start[hbh] = 0;
				slot_req[hbh] = UINT32_MAX;
				free_slots[n_free++] = hbh;
				answered++;
			}
			off += len;
		} while (off + 20 <= rb.len && off + get24(rb.p + off + 1) <= rb.len);
	}
	uint64_t el = now_us() - t0;
	qsort(lat, n, sizeof *lat, cmp_u64);
	printf("requests=%u inflight=%u users=%u\n", n, w, opt.users);
	printf("answered=%u success=%u failed=%u send_errors=0\n", answered, ok, failed);
	printf("elapsed_s=%.3f answers_per_s=%.0f\n", (double)el / 1e6,
	       el ? (double)answered * 1e6 / (double)el : 0.0);
	printf("p50_ms=%.3f p99_ms=%.3f\n", (double)lat[n / 2] / 1000.0,
	       (double)lat[(size_t)((double)n * 0.99)] / 1000.0);
	/* a polite goodbye (RFC 6733 §5.4): DPR, cause REBOOTING */
	out.len = 0;
	size_t at = msg_begin(&out, 0x80, CMD_DPR, 0, 0x7ffffffeu, e2e_next++);
	origin(&out);
	avp_u32(&out, 273, 0, 0);
	msg_end(&out, at);
	send_all(out.p, out.len);
	close(fd);
	free(out.p);
	free(rb.p);
	free(start);
	free(lat);
	free(slot_req);
	free(free_slots);
	return ok == n ? 0 : 1;
}
