/* Cx server: dispatch registration and the always-answer path. */
#include "dia/cx-server.h"

#include <stdio.h>
#include <string.h>

#include <freeDiameter/freeDiameter-host.h>
#include <freeDiameter/libfdcore.h>

#include "base/ims_err.h"
#include "dia/cx-avp.h"
#include "dia/cx-dict.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"

typedef struct entry {
	uint32_t cmd;
	cx_handler_t fn;
	void *arg;
	struct disp_hdl *hdl;
} entry_t;

/* Indexed by cmd - CX_CMD_UAR; written before the core dispatches. */
static entry_t entries[6];

static entry_t *slot(uint32_t cmd)
{
	if (cmd < CX_CMD_UAR || cmd > CX_CMD_PPR)
		return NULL;
	return &entries[cmd - CX_CMD_UAR];
}

int cx_server_process(struct msg **req_msg)
{
	struct msg_hdr *mh;
	if (!req_msg || !*req_msg || fd_msg_hdr(*req_msg, &mh))
		return IMS_EINVAL;
	entry_t *e = slot(mh->msg_code);
	if (!e || !e->fn)
		return IMS_EINVAL;
	ims_arena_t *a = ims_arena_create(4096);
	if (!a)
		return IMS_ENOMEM;
	cx_req_t req;
	cx_answer_t ans;
	memset(&ans, 0, sizeof ans);
	int ret = cx_req_decode(*req_msg, a, &req, &ans);
	if (ret == IMS_ENOMEM)
		goto out;
	if (ret == 0)
		e->fn(e->arg, &req, &ans, a);
	else
		LOG_WARN("dia", "request.rejected cmd=%s session_id=%.*s origin=%.*s code=%u "
			 "failed_avp=%u", cx_cmd_name(req.cmd, 1), IMS_STR_FMT(req.session_id),
			 IMS_STR_FMT(req.origin_host), ans.result_code, ans.failed_avp_code);
	/* RFC 6733 §6.2: the answer carries the request's Session-Id,
	 * Proxy-Info and our Origin-Host/Realm */
	ret = IMS_EDIAMETER;
	if (fd_msg_new_answer_from_req(fd_g_config->cnf_dict, req_msg, 0))
		goto out;
	if (fd_g_config->cnf_diamid && fd_msg_add_origin(*req_msg, 0))
		goto out;
	if (cx_ans_encode(*req_msg, &ans))
		goto out;
	char code[16];
	snprintf(code, sizeof code, "%u", cx_answer_code(&ans));
	ims_counter_inc(ims_metrics_counter2("cx_requests_received_total",
					     "Cx requests answered, by command and result code",
					     "cmd", cx_cmd_name(req.cmd, 1), "code", code));
	LOG_INFO("dia", "answer.sent cmd=%s session_id=%.*s user=%.*s impu=%.*s code=%u exp=%u",
		 cx_cmd_name(req.cmd, 0), IMS_STR_FMT(req.session_id), IMS_STR_FMT(req.user_name),
		 req.n_impu ? (int)req.impu[0].len : 0, req.n_impu ? req.impu[0].s : "",
		 ans.result_code, ans.exp_result_code);
	ret = 0;
out:
	ims_arena_destroy(a);
	return ret;
}

/* Last resort when the normal path failed (out of memory...): a bare
 * DIAMETER_UNABLE_TO_COMPLY, so that the peer is not left waiting. */
static int answer_unable(struct msg **msg)
{
	struct msg_hdr *mh;
	struct msg *q = NULL;
	if (fd_msg_hdr(*msg, &mh))
		return IMS_EDIAMETER;
	if (!(mh->msg_flags & CMD_FLAG_REQUEST)) {
		/* a half-built answer: start again from its request */
		if (fd_msg_answ_getq(*msg, &q) || !q || fd_msg_answ_detach(*msg))
			return IMS_EDIAMETER;
		fd_msg_free(*msg);
		*msg = q;
	}
	if (fd_msg_new_answer_from_req(fd_g_config->cnf_dict, msg, 0))
		return IMS_EDIAMETER;
	if (fd_g_config->cnf_diamid && fd_msg_add_origin(*msg, 0))
		return IMS_EDIAMETER;
	return cx_avp_add_u32(*msg, cx_dict.result_code, CX_DIAMETER_UNABLE_TO_COMPLY);
}

static int dispatch_cb(struct msg **msg, struct avp *avp, struct session *sess, void *opaque,
		       enum disp_action *act)
{
	(void)avp;
	(void)sess;
	(void)opaque;
	*act = DISP_ACT_CONT;
	int ret = cx_server_process(msg);
	if (ret) {
		LOG_ERROR("dia", "answer.failed err=%s", ims_strerror(ret));
		if (answer_unable(msg))
			return EINVAL; /* freeDiameter drops the message */
	}
	*act = DISP_ACT_SEND;
	return 0;
}

static struct dict_object *model_of(uint32_t cmd)
{
	switch (cmd) {
	case CX_CMD_UAR: return cx_dict.cmd_uar;
	case CX_CMD_SAR: return cx_dict.cmd_sar;
	case CX_CMD_LIR: return cx_dict.cmd_lir;
	case CX_CMD_MAR: return cx_dict.cmd_mar;
	case CX_CMD_RTR: return cx_dict.cmd_rtr;
	case CX_CMD_PPR: return cx_dict.cmd_ppr;
	}
	return NULL;
}

int cx_server_register(uint32_t cmd, cx_handler_t fn, void *arg)
{
	entry_t *e = slot(cmd);
	if (!e || !fn || !model_of(cmd))
		return IMS_EINVAL;
	if (e->fn)
		return IMS_EEXIST;
	e->cmd = cmd;
	e->fn = fn;
	e->arg = arg;
	struct disp_when when;
	memset(&when, 0, sizeof when);
	when.app = cx_dict.app_cx;
	when.command = model_of(cmd);
	if (fd_disp_register(dispatch_cb, DISP_HOW_CC, &when, e, &e->hdl)) {
		e->fn = NULL;
		return IMS_EDIAMETER;
	}
	return 0;
}

void cx_server_unregister_all(void)
{
	for (unsigned i = 0; i < sizeof entries / sizeof entries[0]; i++) {
		if (entries[i].hdl) {
			void *opaque = NULL;
			fd_disp_unregister(&entries[i].hdl, &opaque);
		}
		memset(&entries[i], 0, sizeof entries[i]);
	}
}
