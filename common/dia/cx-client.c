/* Cx client on fd_msg_send_timeout. */
#include "dia/cx-client.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <freeDiameter/freeDiameter-host.h>
#include <freeDiameter/libfdcore.h>

#include "base/ims_err.h"
#include "dia/cx-core.h"
#include "dia/cx-dict.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"

typedef struct pending {
	cx_answer_cb_t cb;
	void *arg;
	uint32_t cmd;
	/* Blocking mode: decode into the caller's arena/answer and signal */
	int sync;
	ims_arena_t *arena;
	cx_answer_t *out;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	int abandoned;        /* the waiter gave up: the callback frees p */
	unsigned timeout_ms;
	struct timespec sent; /* CLOCK_MONOTONIC */
} pending_t;

static void pending_free(pending_t *p)
{
	if (p->sync) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
	}
	free(p);
}

/* Blocking mode: takes the lock for the callback. Returns 0 when the
 * waiter is still there (lock held), 1 when it gave up (p freed). */
static int sync_enter(pending_t *p)
{
	pthread_mutex_lock(&p->mu);
	if (!p->abandoned)
		return 0;
	pthread_mutex_unlock(&p->mu);
	LOG_WARN("dia", "answer.after_giving_up cmd=%s", cx_cmd_name(p->cmd, 1));
	pending_free(p);
	return 1;
}

/* cx_requests_sent_total{cmd, outcome} and the answer latency */
static void count(const pending_t *p, const cx_answer_t *ans)
{
	static const char *names[] = { "answer", "timeout", "unreachable", "error" };
	char outcome[16];
	if (ans->status == CX_ANS_OK)
		snprintf(outcome, sizeof outcome, "%u", cx_answer_code(ans));
	else
		snprintf(outcome, sizeof outcome, "%s", names[ans->status]);
	ims_counter_inc(ims_metrics_counter2("cx_requests_sent_total",
					     "Cx requests sent, by command and outcome (result code, "
					     "timeout, unreachable, error)",
					     "cmd", cx_cmd_name(p->cmd, 1), "outcome", outcome));
	if (ans->status == CX_ANS_OK) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		double s = (double)(now.tv_sec - p->sent.tv_sec) +
			   (double)(now.tv_nsec - p->sent.tv_nsec) / 1e9;
		ims_histogram_observe(ims_metrics_histogram("cx_answer_seconds",
							    "Cx answer latency", NULL, 0, "cmd",
							    cx_cmd_name(p->cmd, 1)),
				      s);
	}
}

/* Delivers the outcome. Blocking mode: called with p->mu held (see
 * sync_enter); the waiter frees p. */
static void finish(pending_t *p, const cx_answer_t *ans)
{
	count(p, ans);
	if (p->sync) {
		p->done = 1;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		return;
	}
	p->cb(p->arg, ans);
	pending_free(p);
}

static void on_answer(void *data, struct msg **msg)
{
	pending_t *p = data;
	if (p->sync && sync_enter(p)) {
		fd_msg_free(*msg);
		*msg = NULL;
		return;
	}
	ims_arena_t *tmp = NULL;
	ims_arena_t *a = p->sync ? p->arena : (tmp = ims_arena_create(2048));
	cx_answer_t local, *ans = p->sync ? p->out : &local;
	if (!a || cx_ans_decode(*msg, a, ans)) {
		memset(ans, 0, sizeof *ans);
		ans->cmd = p->cmd;
		ans->status = CX_ANS_ERROR;
		LOG_WARN("dia", "answer.undecodable cmd=%s", cx_cmd_name(p->cmd, 0));
	} else if (ans->result_code == CX_DIAMETER_UNABLE_TO_DELIVER) {
		/* RFC 6733 §7.1.3: no peer could take it (ours or a relay's) */
		ans->status = CX_ANS_UNREACHABLE;
	}
	LOG_DEBUG("dia", "answer.received cmd=%s session_id=%.*s code=%u exp=%u",
		  cx_cmd_name(ans->cmd, 0), IMS_STR_FMT(ans->session_id), ans->result_code,
		  ans->exp_result_code);
	fd_msg_free(*msg);
	*msg = NULL;
	finish(p, ans);
	ims_arena_destroy(tmp);
}

static void on_expire(void *data, DiamId_t sentto, size_t len, struct msg **req)
{
	pending_t *p = data;
	if (p->sync && sync_enter(p))
		return;
	cx_answer_t local, *ans = p->sync ? p->out : &local;
	memset(ans, 0, sizeof *ans);
	ans->cmd = p->cmd;
	ans->status = CX_ANS_TIMEOUT;
	LOG_WARN("dia", "request.timeout cmd=%s peer=%.*s", cx_cmd_name(p->cmd, 1),
		 sentto ? (int)len : 0, sentto ? (const char *)sentto : "");
	/* freeDiameter frees *req after we return */
	(void)req;
	finish(p, ans);
}

static int send_msg(struct msg **pm, unsigned timeout_ms, pending_t *p)
{
	struct msg *m = *pm;
	*pm = NULL;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &p->sent);
	unsigned ms = timeout_ms ? timeout_ms : cx_core_timeout_ms();
	p->timeout_ms = ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	LOG_DEBUG("dia", "request.send cmd=%s", cx_cmd_name(p->cmd, 1));
	if (fd_msg_send_timeout(&m, on_answer, p, on_expire, &ts)) {
		if (m)
			fd_msg_free(m);
		LOG_WARN("dia", "request.send_failed cmd=%s", cx_cmd_name(p->cmd, 1));
		return IMS_EUNREACH;
	}
	return 0;
}

static int send_pending(const cx_req_t *req, unsigned timeout_ms, pending_t *p)
{
	struct msg *m = NULL;
	int ret = cx_req_encode(req, &m);
	if (ret)
		return ret;
	return send_msg(&m, timeout_ms, p);
}

int cx_client_send(const cx_req_t *req, unsigned timeout_ms, cx_answer_cb_t cb, void *arg)
{
	if (!req || !cb)
		return IMS_EINVAL;
	pending_t *p = calloc(1, sizeof *p);
	if (!p)
		return IMS_ENOMEM;
	p->cb = cb;
	p->arg = arg;
	p->cmd = req->cmd;
	int ret = send_pending(req, timeout_ms, p);
	if (ret)
		free(p);
	return ret;
}

static int send_cmd(uint32_t cmd, const cx_req_t *req, cx_answer_cb_t cb, void *arg)
{
	if (!req)
		return IMS_EINVAL;
	cx_req_t r = *req;
	r.cmd = cmd;
	return cx_client_send(&r, 0, cb, arg);
}

int cx_client_send_uar(const cx_req_t *req, cx_answer_cb_t cb, void *arg)
{
	return send_cmd(CX_CMD_UAR, req, cb, arg);
}

int cx_client_send_mar(const cx_req_t *req, cx_answer_cb_t cb, void *arg)
{
	return send_cmd(CX_CMD_MAR, req, cb, arg);
}

int cx_client_send_sar(const cx_req_t *req, cx_answer_cb_t cb, void *arg)
{
	return send_cmd(CX_CMD_SAR, req, cb, arg);
}

int cx_client_send_lir(const cx_req_t *req, cx_answer_cb_t cb, void *arg)
{
	return send_cmd(CX_CMD_LIR, req, cb, arg);
}

int cx_client_send_rtr(const cx_req_t *req, cx_answer_cb_t cb, void *arg)
{
	return send_cmd(CX_CMD_RTR, req, cb, arg);
}

int cx_client_send_ppr(const cx_req_t *req, cx_answer_cb_t cb, void *arg)
{
	return send_cmd(CX_CMD_PPR, req, cb, arg);
}

/* Blocking core: exactly one of req / *m is given. */
static int call(const cx_req_t *req, struct msg **m, unsigned timeout_ms, ims_arena_t *arena,
		cx_answer_t *ans)
{
	struct msg_hdr *mh;
	pending_t *p = calloc(1, sizeof *p);
	if (!p) {
		if (m && *m) {
			fd_msg_free(*m);
			*m = NULL;
		}
		return IMS_ENOMEM;
	}
	p->sync = 1;
	p->arena = arena;
	p->out = ans;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	int ret;
	if (req) {
		p->cmd = req->cmd;
		ret = send_pending(req, timeout_ms, p);
	} else {
		p->cmd = fd_msg_hdr(*m, &mh) == 0 ? mh->msg_code : 0;
		ret = send_msg(m, timeout_ms, p);
	}
	if (ret) {
		pending_free(p);
		return ret;
	}
	/* freeDiameter calls on_answer or on_expire; should neither come
	 * (a core shutting down), give up a little after the timeout and
	 * leave p to a late callback */
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += p->timeout_ms / 1000 + 5;
	deadline.tv_nsec += (long)(p->timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	while (!p->done) {
		if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) == ETIMEDOUT && !p->done) {
			p->abandoned = 1;
			memset(ans, 0, sizeof *ans);
			ans->cmd = p->cmd;
			ans->status = CX_ANS_TIMEOUT;
			LOG_ERROR("dia", "request.no_outcome cmd=%s", cx_cmd_name(p->cmd, 1));
			pthread_mutex_unlock(&p->mu);
			return 0;
		}
	}
	pthread_mutex_unlock(&p->mu);
	pending_free(p);
	return 0;
}

int cx_client_call(const cx_req_t *req, unsigned timeout_ms, ims_arena_t *arena, cx_answer_t *ans)
{
	if (!req || !arena || !ans)
		return IMS_EINVAL;
	return call(req, NULL, timeout_ms, arena, ans);
}

int cx_client_call_msg(struct msg **m, unsigned timeout_ms, ims_arena_t *arena, cx_answer_t *ans)
{
	if (!m || !*m)
		return IMS_EINVAL;
	if (!arena || !ans) {
		fd_msg_free(*m);
		*m = NULL;
		return IMS_EINVAL;
	}
	return call(NULL, m, timeout_ms, arena, ans);
}
