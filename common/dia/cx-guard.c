/* Guards against inputs that stop libfdproto (see cx-guard.h). */
#include "dia/cx-guard.h"

#include <stdint.h>
#include <string.h>

#include <freeDiameter/freeDiameter-host.h>
#include <freeDiameter/libfdcore.h>

#include "base/ims_err.h"
#include "log/ims_log.h"
#include "metrics/ims_metrics.h"

#define SESSION_ID_CODE 263u
#define PROXY_INFO_CODE 284u

/* 1 when every AVP under `parent` (depth first) has a dictionary model */
static int all_known(struct avp *parent, int depth)
{
	struct avp *c = NULL;
	struct dict_object *model = NULL;
	if (depth > 8 || fd_msg_browse(parent, MSG_BRW_FIRST_CHILD, &c, NULL))
		return 0;
	while (c) {
		if (fd_msg_model(c, &model) || !model || !all_known(c, depth + 1))
			return 0;
		if (fd_msg_browse(c, MSG_BRW_NEXT, &c, NULL))
			return 0;
	}
	return 1;
}

/* 1 when freeDiameter would choke on this top-level AVP (vendor 0) */
static int unusable(struct avp *avp, struct avp_hdr *h)
{
	struct dict_object *model = NULL;
	/* with the V flag (vendor 0) the dictionary has no such AVP: it stays
	 * unresolved, with no value (Session-Id: ASSERT) and no bytes to copy
	 * (Proxy-Info: EINVAL) */
	if (h->avp_flags & AVP_FLAG_VENDOR)
		return 1;
	/* resolving the AVP alone is what fd_msg_sess_get does first (and,
	 * for Proxy-Info, the copy into an answer); the later whole-message
	 * parse keeps the resolved value */
	if (fd_msg_parse_dict(avp, fd_g_config->cnf_dict, NULL) != 0)
		return 1; /* e.g. a Proxy-Info whose content is no AVP list */
	if (fd_msg_model(avp, &model) || !model)
		return 1;
	if (h->avp_code == PROXY_INFO_CODE) {
		/* freeDiameter copies it into the answer by writing it out and
		 * parsing the bytes again; a child the dictionary does not know
		 * may have no bytes left to write (EINVAL), and one with the V
		 * flag but vendor 0 fails the search: keep only known children */
		return !all_known(avp, 0);
	}
	if (!h->avp_value)
		return 1;
	/* fd_os_is_valid_os0: a Session-Id is used as a C string */
	return h->avp_value->os.len && memchr(h->avp_value->os.data, 0, h->avp_value->os.len);
}

int cx_guard_fix_msg(struct msg *m)
{
	struct avp *avp = NULL, *next = NULL;
	int removed = 0;
	if (!m || fd_msg_browse(m, MSG_BRW_FIRST_CHILD, &avp, NULL))
		return 0;
	for (; avp; avp = next) {
		struct avp_hdr *h = NULL;
		if (fd_msg_browse(avp, MSG_BRW_NEXT, &next, NULL))
			next = NULL;
		/* freeDiameter reads these at top level only, by code with
		 * vendor 0 */
		if (fd_msg_avp_hdr(avp, &h) || !h || h->avp_vendor != 0 ||
		    (h->avp_code != SESSION_ID_CODE && h->avp_code != PROXY_INFO_CODE) ||
		    !unusable(avp, h))
			continue;
		fd_msg_free(avp); /* unlinks it from m */
		removed++;
	}
	return removed;
}

static void on_received(enum fd_hook_type type, struct msg *msg, struct peer_hdr *peer,
			void *other, struct fd_hook_permsgdata *pmd, void *regdata)
{
	(void)type;
	(void)other;
	(void)pmd;
	(void)regdata;
	if (cx_guard_fix_msg(msg) > 0) {
		ims_counter_inc(ims_metrics_counter("dia_guard_removed_total",
						    "Unusable Session-Id / Proxy-Info AVPs removed "
						    "from received Diameter messages",
						    NULL, NULL));
		LOG_WARN("dia", "guard.avp_removed peer=%s",
			 peer && peer->info.pi_diamid ? peer->info.pi_diamid : "(new)");
	}
}

int cx_guard_install(void)
{
	/* once per cx_core_start: a later start after cx_core_stop runs on a
	 * freshly initialised core */
	struct fd_hook_hdl *hdl = NULL;
	if (fd_hook_register(HOOK_MASK(HOOK_MESSAGE_RECEIVED), on_received, NULL, NULL, &hdl)) {
		LOG_ERROR("dia", "guard.hook_failed");
		return IMS_EDIAMETER;
	}
	return 0;
}
