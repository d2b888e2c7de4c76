/* libFuzzer target: Diameter bytes from a peer through the Cx codec, the
 * way freeDiameter hands them to us: fd_msg_parse_buffer, then
 * fd_msg_parse_dict against the Cx dictionary (a message it refuses is
 * answered by freeDiameter itself and never reaches dia/). A request then
 * runs the whole server path (cx_server_process: cx_req_decode, a handler
 * that echoes what it read into a full answer, cx_ans_encode), and the
 * answer is serialised, parsed back and read with cx_ans_decode, as the
 * client would. An answer goes straight to cx_ans_decode.
 *
 * Invariants (abort on failure): a refused request still gets an answer
 * naming MISSING_AVP or INVALID_AVP_VALUE; every answer we build can be
 * serialised and parses back with the code we put in it; a message
 * freeDiameter refuses can be answered by freeDiameter without aborting
 * (after the daemons' guard, dia/cx-guard.h, ran on it). No disk, no
 * network: freeDiameter is initialised once with the dictionary only.
 *
 * Seeds: tests/fuzz/corpus/cx_msg/, made by tests/fuzz/gen_cx_msg_corpus.py. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <freeDiameter/freeDiameter-host.h>
#include <freeDiameter/libfdcore.h>

#include "base/ims_arena.h"
#include "base/ims_err.h"
#include "dia/cx-core.h"
#include "dia/cx-dict.h"
#include "dia/cx-guard.h"
#include "dia/cx-msg.h"
#include "dia/cx-server.h"
#include "log/ims_log.h"

#define REALM "ims.mnc001.mcc001.3gppnetwork.org"

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

/* The handler's answer code, remembered to compare with what comes back
 * over the wire. Handlers run synchronously in cx_server_process. */
static uint32_t handler_code;
static int handler_called;

/* Fills every answer field the command can carry from what the request
 * said, so the encoder sees peer-controlled strings in each slot. */
static void echo_handler(void *arg, const cx_req_t *req, cx_answer_t *ans, ims_arena_t *a)
{
	(void)arg;
	(void)a;
	handler_called = 1;
	ans->result_code = CX_DIAMETER_SUCCESS;
	ans->user_name = req->user_name;
	switch (req->cmd) {
	case CX_CMD_UAR:
	case CX_CMD_LIR:
		if (req->n_impu > 1) {
			ans->has_caps = 1;
			ans->cap_mandatory[ans->n_cap_mandatory++] = req->n_impu;
			ans->cap_optional[ans->n_cap_optional++] = req->auth_type;
			ans->cap_server_name[ans->n_cap_server_name++] = req->impu[1];
		} else {
			ans->server_name = req->visited_network.len ? req->visited_network : req->impu[0];
		}
		break;
	case CX_CMD_MAR:
		ans->impu = req->impu[0];
		ans->n_auth_items = 1;
		ans->n_items = 1;
		ans->items[0].item_number = 1;
		ans->items[0].scheme = req->auth_scheme;
		ans->items[0].authenticate = req->auth_authorization;
		ans->items[0].authorization = req->server_name;
		ans->items[0].ck = req->session_id;
		ans->items[0].ik = req->user_name;
		ans->items[0].has_digest = req->n_auth_items & 1;
		ans->items[0].digest_realm = req->origin_realm;
		ans->items[0].digest_qop = IMS_STR("auth");
		ans->items[0].digest_algorithm = IMS_STR("MD5");
		ans->items[0].digest_ha1 = req->origin_host;
		break;
	case CX_CMD_SAR:
		ans->user_data = req->server_name;
		for (unsigned i = 0; i < req->n_impu && i < CX_MAX_IMPU; i++)
			ans->assoc_impi[ans->n_assoc_impi++] = req->impu[i];
		break;
	default: /* RTR, PPR: the S-CSCF side */
		if (req->has_dereg && req->dereg_code > 3) {
			ans->result_code = CX_DIAMETER_UNABLE_TO_COMPLY;
			ans->error_message = req->dereg_info;
		}
		break;
	}
	handler_code = cx_answer_code(ans);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* silent: freeDiameter logs every refused message at ERROR, which
	 * would drown libFuzzer's output and slow it down */
	ims_log_current_level = IMS_LOG_ERROR + 1;
	if (cx_core_dict_only("hss." REALM, REALM) != 0)
		abort();
	static const uint32_t cmds[] = { CX_CMD_UAR, CX_CMD_SAR, CX_CMD_LIR,
					 CX_CMD_MAR, CX_CMD_RTR, CX_CMD_PPR };
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (cx_server_register(cmds[i], echo_handler, NULL) != 0)
			abort();
	return 0;
}

/* Serialises m (kept) and parses the bytes back as a peer would.
 * NULL when freeDiameter refuses its own message's dictionary view. */
static struct msg *wire_copy(struct msg *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct msg *back = NULL;
	CHECK(fd_msg_bufferize(m, &buf, &len) == 0);
	CHECK(fd_msg_parse_buffer(&buf, len, &back) == 0);
	struct fd_pei pei;
	memset(&pei, 0, sizeof pei);
	CHECK(fd_msg_parse_dict(back, fd_g_config->cnf_dict, &pei) == 0);
	return back;
}

static void read_answer(struct msg *m, uint32_t expect_code)
{
	ims_arena_t *a = ims_arena_create(2048);
	CHECK(a);
	cx_answer_t ans;
	int rc = cx_ans_decode(m, a, &ans);
	CHECK(rc == 0 || rc == IMS_EPARSE || rc == IMS_ENOMEM);
	if (expect_code) {
		CHECK(rc == 0);
		CHECK(cx_answer_code(&ans) == expect_code);
	}
	if (rc == 0) {
		(void)cx_cmd_name(ans.cmd, 0);
		(void)cx_code_name(cx_answer_code(&ans), ans.exp_result_code != 0);
		CHECK(ans.n_items <= CX_MAX_AUTH_ITEMS);
		CHECK(ans.n_assoc_impi <= CX_MAX_IMPU);
		CHECK(ans.n_cap_mandatory <= CX_MAX_CAPS && ans.n_cap_optional <= CX_MAX_CAPS &&
		      ans.n_cap_server_name <= CX_MAX_CAPS);
		for (unsigned i = 0; i < ans.n_items; i++)
			CHECK(ans.items[i].scheme.len == 0 || ans.items[i].scheme.s);
	}
	ims_arena_destroy(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* freeDiameter reads the 20-byte header itself before handing the
	 * buffer over (its length field must match what it received) */
	if (size < 20 || size > 65536)
		return 0;
	uint8_t *buf = malloc(size);
	CHECK(buf);
	memcpy(buf, data, size);
	struct msg *m = NULL;
	if (fd_msg_parse_buffer(&buf, size, &m) != 0) {
		free(buf); /* still ours when the parse failed */
		return 0;
	}
	/* what the daemons' HOOK_MESSAGE_RECEIVED does first */
	(void)cx_guard_fix_msg(m);
	struct msg_hdr *mh;
	CHECK(fd_msg_hdr(m, &mh) == 0);
	struct fd_pei pei;
	memset(&pei, 0, sizeof pei);
	int prc = fd_msg_parse_dict(m, fd_g_config->cnf_dict, &pei);
	if (pei.pei_avp_free && pei.pei_avp)
		fd_msg_free(pei.pei_avp);
	if (prc == 0) {
		memset(&pei, 0, sizeof pei);
		prc = fd_msg_parse_rules(m, fd_g_config->cnf_dict, &pei);
		if (pei.pei_avp_free && pei.pei_avp)
			fd_msg_free(pei.pei_avp);
	}
	if (prc != 0) {
		/* freeDiameter answers this one itself (DIAMETER_AVP_UNSUPPORTED,
		 * DIAMETER_MISSING_AVP...): building that answer must not abort
		 * (it reads the Session-Id and copies Proxy-Info: dia/cx-guard.h) */
		if (mh->msg_flags & CMD_FLAG_REQUEST)
			CHECK(fd_msg_new_answer_from_req(fd_g_config->cnf_dict, &m, MSGFL_ANSW_ERROR) == 0);
		goto out;
	}
	if (!(mh->msg_flags & CMD_FLAG_REQUEST)) {
		read_answer(m, 0);
		goto out;
	}
	if (mh->msg_appl != CX_APP_ID || mh->msg_code < CX_CMD_UAR || mh->msg_code > CX_CMD_PPR)
		goto out; /* not ours: freeDiameter routes it elsewhere */

	handler_called = 0;
	handler_code = 0;
	int rc = cx_server_process(&m);
	CHECK(rc == 0 || rc == IMS_ENOMEM);
	if (rc != 0)
		goto out;
	/* m is now the answer */
	struct msg *back = wire_copy(m);
	if (handler_called) {
		read_answer(back, handler_code);
	} else {
		ims_arena_t *a = ims_arena_create(1024);
		cx_answer_t ans;
		CHECK(a && cx_ans_decode(back, a, &ans) == 0);
		/* RFC 6733 §7.1.5: a refused request names what was wrong */
		CHECK(ans.result_code == CX_DIAMETER_MISSING_AVP ||
		      ans.result_code == CX_DIAMETER_INVALID_AVP_VALUE);
		CHECK(ans.failed_avp_code != 0);
		ims_arena_destroy(a);
	}
	fd_msg_free(back);
out:
	fd_msg_free(m);
	return 0;
}
