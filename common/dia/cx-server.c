/* Cx server: dispatch registration and the always-answer path. */
#include "dia/cx-server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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

/* One request on its way through a handler: on the heap, since a
 * deferred answer outlives the dispatch callback. */
struct cx_deferred {
	cx_answer_t ans;
	cx_req_t req;
	struct msg *msg;  /* the request, then its answer */
	ims_arena_t *arena;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int deferred;     /* the handler called cx_server_defer */
	int resumed;      /* cx_server_resume ran; under mu */
	int detached;     /* the dispatch callback returned first; under mu */
};

static void pend_free(cx_deferred_t *p)
{
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	ims_arena_destroy(p->arena);
	free(p);
}

/* Turns the request p->msg into its answer, built from p->ans. */
static int pend_encode(cx_deferred_t *p)
{
	cx_answer_t *ans = &p->ans;
	const cx_req_t *req = &p->req;
	/* RFC 6733 §6.2: the answer carries the request's Session-Id,
	 * Proxy-Info and our Origin-Host/Realm */
	if (fd_msg_new_answer_from_req(fd_g_config->cnf_dict, &p->msg, 0))
		return IMS_EDIAMETER;
	if (fd_g_config->cnf_diamid && fd_msg_add_origin(p->msg, 0))
		return IMS_EDIAMETER;
	if (cx_ans_encode(p->msg, ans))
		return IMS_EDIAMETER;
	char code[16];
	snprintf(code, sizeof code, "%u", cx_answer_code(ans));
	ims_counter_inc(ims_metrics_counter2("cx_requests_received_total",
					     "Cx requests answered, by command and result code",
					     "cmd", cx_cmd_name(req->cmd, 1), "code", code));
	LOG_INFO("dia", "answer.sent cmd=%s session_id=%.*s user=%.*s impu=%.*s code=%u exp=%u",
		 cx_cmd_name(req->cmd, 0), IMS_STR_FMT(req->session_id), IMS_STR_FMT(req->user_name),
		 req->n_impu ? (int)req->impu[0].len : 0, req->n_impu ? req->impu[0].s : "",
		 ans->result_code, ans->exp_result_code);
	return 0;
}

/* The request the handler running on this thread was given. */
static _Thread_local cx_deferred_t *running;

cx_deferred_t *cx_server_defer(cx_answer_t *ans)
{
	cx_deferred_t *p = running;
	if (!p || &p->ans != ans || p->deferred)
		return NULL; /* not called from cx_server_process */
	p->deferred = 1;
	return p;
}

static int answer_unable(struct msg **msg);

void cx_server_resume(cx_deferred_t *p)
{
	pthread_mutex_lock(&p->mu);
	p->resumed = 1;
	int detached = p->detached;
	if (!detached)
		pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (!detached)
		return; /* the handler's thread (or the waiting caller) answers */
	int ret = pend_encode(p);
	struct msg *m = p->msg;
	p->msg = NULL;
	if (ret) {
		LOG_ERROR("dia", "answer.failed err=%s", ims_strerror(ret));
		if (answer_unable(&m)) {
			fd_msg_free(m);
			m = NULL;
		}
	}
	if (m && fd_msg_send(&m, NULL, NULL)) {
		LOG_WARN("dia", "answer.send_failed cmd=%s", cx_cmd_name(p->req.cmd, 0));
		if (m)
			fd_msg_free(m);
	}
	pend_free(p);
}

/* The server path. With `wait` 0 (the dispatch callback) a deferred
 * answer is left to cx_server_resume and *req_msg becomes NULL. */
static int process(struct msg **req_msg, int wait)
{
	struct msg_hdr *mh;
	if (!req_msg || !*req_msg || fd_msg_hdr(*req_msg, &mh))
		return IMS_EINVAL;
	entry_t *e = slot(mh->msg_code);
	if (!e || !e->fn)
		return IMS_EINVAL;
	cx_deferred_t *p = calloc(1, sizeof *p);
	if (!p)
		return IMS_ENOMEM;
	if (!(p->arena = ims_arena_create(4096))) {
		free(p);
		return IMS_ENOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->msg = *req_msg;
	int ret = cx_req_decode(p->msg, p->arena, &p->req, &p->ans);
	if (ret == IMS_ENOMEM)
		goto out;
	if (ret == 0) {
		running = p;
		e->fn(e->arg, &p->req, &p->ans, p->arena);
		running = NULL;
	} else
		LOG_WARN("dia", "request.rejected cmd=%s session_id=%.*s origin=%.*s code=%u "
			 "failed_avp=%u", cx_cmd_name(p->req.cmd, 1), IMS_STR_FMT(p->req.session_id),
			 IMS_STR_FMT(p->req.origin_host), p->ans.result_code, p->ans.failed_avp_code);
	if (p->deferred) {
		pthread_mutex_lock(&p->mu);
		if (!wait && !p->resumed) {
			p->detached = 1; /* from now on p belongs to the resume */
			pthread_mutex_unlock(&p->mu);
			*req_msg = NULL;
			return 0;
		}
		while (!p->resumed)
			pthread_cond_wait(&p->cv, &p->mu);
		pthread_mutex_unlock(&p->mu);
	}
	ret = pend_encode(p);
	*req_msg = p->msg;
out:
	pend_free(p);
	return ret;
}

int cx_server_process(struct msg **req_msg)
{
	return process(req_msg, 1);
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
	int ret = process(msg, 0);
	if (!ret && !*msg)
		return 0; /* deferred: cx_server_resume sends the answer */
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
