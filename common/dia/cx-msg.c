/* Cx request/answer codec on freeDiameter messages (TS 29.229 §6.1). */
#include "dia/cx-msg.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <freeDiameter/freeDiameter-host.h>
#include <freeDiameter/libfdcore.h>

#include "base/ims_err.h"
#include "dia/cx-avp.h"
#include "dia/cx-core.h"
#include "dia/cx-dict.h"
#include "log/ims_log.h"

/* RFC 6733 §8.15 Auth-Session-State: Cx keeps no session state
 * (TS 29.229 §6.1: every request carries NO_STATE_MAINTAINED). */
#define NO_STATE_MAINTAINED 1

const char *cx_cmd_name(uint32_t cmd, int request)
{
	switch (cmd) {
	case CX_CMD_UAR: return request ? "UAR" : "UAA";
	case CX_CMD_SAR: return request ? "SAR" : "SAA";
	case CX_CMD_LIR: return request ? "LIR" : "LIA";
	case CX_CMD_MAR: return request ? "MAR" : "MAA";
	case CX_CMD_RTR: return request ? "RTR" : "RTA";
	case CX_CMD_PPR: return request ? "PPR" : "PPA";
	}
	return "UNKNOWN";
}

const char *cx_code_name(uint32_t code, int experimental)
{
	if (experimental) {
		switch (code) {
		case 2001: return "DIAMETER_FIRST_REGISTRATION";
		case 2002: return "DIAMETER_SUBSEQUENT_REGISTRATION";
		case 2003: return "DIAMETER_UNREGISTERED_SERVICE";
		case 2004: return "DIAMETER_SUCCESS_SERVER_NAME_NOT_STORED";
		case 5001: return "DIAMETER_ERROR_USER_UNKNOWN";
		case 5002: return "DIAMETER_ERROR_IDENTITIES_DONT_MATCH";
		case 5003: return "DIAMETER_ERROR_IDENTITY_NOT_REGISTERED";
		case 5004: return "DIAMETER_ERROR_ROAMING_NOT_ALLOWED";
		case 5005: return "DIAMETER_ERROR_IDENTITY_ALREADY_REGISTERED";
		case 5006: return "DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED";
		case 5007: return "DIAMETER_ERROR_IN_ASSIGNMENT_TYPE";
		case 5008: return "DIAMETER_ERROR_TOO_MUCH_DATA";
		case 5009: return "DIAMETER_ERROR_NOT_SUPPORTED_USER_DATA";
		case 5011: return "DIAMETER_ERROR_FEATURE_UNSUPPORTED";
		case 5012: return "DIAMETER_ERROR_SERVING_NODE_FEATURE_UNSUPPORTED";
		}
		return "UNKNOWN";
	}
	switch (code) {
	case 2001: return "DIAMETER_SUCCESS";
	case 3001: return "DIAMETER_COMMAND_UNSUPPORTED";
	case 3002: return "DIAMETER_UNABLE_TO_DELIVER";
	case 3004: return "DIAMETER_TOO_BUSY";
	case 3007: return "DIAMETER_APPLICATION_UNSUPPORTED";
	case 5001: return "DIAMETER_AVP_UNSUPPORTED";
	case 5003: return "DIAMETER_AUTHORIZATION_REJECTED";
	case 5004: return "DIAMETER_INVALID_AVP_VALUE";
	case 5005: return "DIAMETER_MISSING_AVP";
	case 5009: return "DIAMETER_AVP_OCCURS_TOO_MANY_TIMES";
	case 5012: return "DIAMETER_UNABLE_TO_COMPLY";
	case 5014: return "DIAMETER_INVALID_AVP_LENGTH";
	}
	return "UNKNOWN";
}

static struct dict_object *req_model(uint32_t cmd)
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

/* RFC 6733 §8.8: <DiameterIdentity>;<high 32 bits>;<low 32 bits> */
static int add_session_id(struct msg *m, ims_str_t given)
{
	static atomic_uint counter;
	char buf[320];
	if (given.len)
		return cx_avp_add_str(m, cx_dict.session_id, given);
	int n = snprintf(buf, sizeof buf, "%s;%u;%u", cx_core_identity(), (unsigned)time(NULL),
			 atomic_fetch_add(&counter, 1) + 1);
	return cx_avp_add_str(m, cx_dict.session_id, ims_str_from(buf, (size_t)n));
}

static int add_vsai(msg_or_avp *m)
{
	struct avp *g;
	if (cx_avp_group_new(cx_dict.vendor_specific_application_id, &g))
		return IMS_EDIAMETER;
	if (cx_avp_add_u32(g, cx_dict.vendor_id, CX_VENDOR_3GPP) ||
	    cx_avp_add_u32(g, cx_dict.auth_application_id, CX_APP_ID))
		return cx_avp_group_abort(g);
	return cx_avp_group_add(m, g);
}

int cx_req_encode(const cx_req_t *req, struct msg **out)
{
	struct dict_object *model = req ? req_model(req->cmd) : NULL;
	struct msg *m = NULL;
	int r = 0;
	if (!model || !out)
		return IMS_EINVAL;
	/* TS 29.229 §6.1.x: the identities each request cannot go without */
	switch (req->cmd) {
	case CX_CMD_UAR:
		if (!req->user_name.len || !req->n_impu)
			return IMS_EINVAL;
		break;
	case CX_CMD_MAR:
		if (!req->user_name.len || !req->n_impu || !req->server_name.len)
			return IMS_EINVAL;
		break;
	case CX_CMD_LIR:
		if (!req->n_impu)
			return IMS_EINVAL;
		break;
	case CX_CMD_SAR:
		if ((!req->user_name.len && !req->n_impu) || !req->server_name.len)
			return IMS_EINVAL;
		break;
	case CX_CMD_RTR:
	case CX_CMD_PPR:
		if (!req->user_name.len || !req->dest_host.len)
			return IMS_EINVAL;
		break;
	}
	if (fd_msg_new(model, MSGFL_ALLOC_ETEID, &m))
		return IMS_EDIAMETER;
	ims_str_t realm = req->dest_realm.len ? req->dest_realm : ims_str_cstr(cx_core_dest_realm());
	r |= add_session_id(m, req->session_id);
	r |= add_vsai(m);
	r |= cx_avp_add_i32(m, cx_dict.auth_session_state, NO_STATE_MAINTAINED);
	r |= cx_avp_add_str(m, cx_dict.origin_host, ims_str_cstr(cx_core_identity()));
	r |= cx_avp_add_str(m, cx_dict.origin_realm, ims_str_cstr(cx_core_realm()));
	if (req->dest_host.len)
		r |= cx_avp_add_str(m, cx_dict.destination_host, req->dest_host);
	r |= cx_avp_add_str(m, cx_dict.destination_realm, realm);
	if (req->cmd == CX_CMD_LIR && req->has_originating)
		r |= cx_avp_add_i32(m, cx_dict.originating_request, 0);
	if (req->user_name.len)
		r |= cx_avp_add_str(m, cx_dict.user_name, req->user_name);
	if (req->cmd == CX_CMD_RTR && req->has_dereg) {
		struct avp *g;
		if (cx_avp_group_new(cx_dict.deregistration_reason, &g)) {
			r |= IMS_EDIAMETER;
		} else if (cx_avp_add_i32(g, cx_dict.reason_code, (int32_t)req->dereg_code) ||
			   (req->dereg_info.len &&
			    cx_avp_add_str(g, cx_dict.reason_info, req->dereg_info))) {
			r |= cx_avp_group_abort(g);
		} else {
			r |= cx_avp_group_add(m, g);
		}
	}
	for (unsigned i = 0; i < req->n_impu && i < CX_MAX_IMPU; i++)
		r |= cx_avp_add_str(m, cx_dict.public_identity, req->impu[i]);
	if (req->cmd == CX_CMD_UAR) {
		ims_str_t vn = req->visited_network.len ? req->visited_network : realm;
		r |= cx_avp_add_str(m, cx_dict.visited_network_identifier, vn);
		if (req->has_auth_type)
			r |= cx_avp_add_i32(m, cx_dict.user_authorization_type, (int32_t)req->auth_type);
		if (req->has_uar_flags)
			r |= cx_avp_add_u32(m, cx_dict.uar_flags, req->uar_flags);
	}
	if (req->cmd == CX_CMD_LIR && req->has_auth_type)
		r |= cx_avp_add_i32(m, cx_dict.user_authorization_type, (int32_t)req->auth_type);
	if (req->cmd == CX_CMD_MAR) {
		struct avp *g;
		r |= cx_avp_add_u32(m, cx_dict.sip_number_auth_items,
				    req->n_auth_items ? req->n_auth_items : 1);
		if (cx_avp_group_new(cx_dict.sip_auth_data_item, &g)) {
			r |= IMS_EDIAMETER;
		} else if ((req->auth_scheme.len &&
			    cx_avp_add_str(g, cx_dict.sip_authentication_scheme, req->auth_scheme)) ||
			   (req->auth_authorization.len &&
			    cx_avp_add_str(g, cx_dict.sip_authorization, req->auth_authorization))) {
			r |= cx_avp_group_abort(g);
		} else {
			r |= cx_avp_group_add(m, g);
		}
	}
	if (req->cmd == CX_CMD_MAR || req->cmd == CX_CMD_SAR)
		r |= cx_avp_add_str(m, cx_dict.server_name, req->server_name);
	if (req->cmd == CX_CMD_SAR) {
		r |= cx_avp_add_i32(m, cx_dict.server_assignment_type, (int32_t)req->sat);
		r |= cx_avp_add_i32(m, cx_dict.user_data_already_available,
				    (int32_t)req->user_data_available);
	}
	if (req->cmd == CX_CMD_PPR && req->user_data.len)
		r |= cx_avp_add_str(m, cx_dict.user_data, req->user_data);
	if (r) {
		fd_msg_free(m);
		return IMS_EDIAMETER;
	}
	*out = m;
	return 0;
}

/* Copies an OctetString/UTF8String value into the arena. */
static int take_str(ims_arena_t *a, struct avp_hdr *h, ims_str_t *out)
{
	if (!h->avp_value)
		return IMS_EPARSE;
	if (ims_arena_strdup(a, ims_str_from((const char *)h->avp_value->os.data,
					     h->avp_value->os.len), out))
		return IMS_ENOMEM;
	return 0;
}

/* The request AVPs, by (code, vendor). */
static int is(const struct avp_hdr *h, struct dict_object *model)
{
	return cx_avp_is(h, model);
}

static void set_failed(cx_answer_t *ans, uint32_t rc, struct avp *avp, struct dict_object *model,
		       ims_arena_t *a)
{
	struct dict_avp_data d;
	struct avp_hdr *h;
	if (ans->result_code)
		return; /* keep the first problem */
	ans->result_code = rc;
	if (avp)
		fd_msg_model(avp, &model);
	if (!model || fd_dict_getval(model, &d)) {
		/* An AVP whose code is ours but that freeDiameter left
		 * unresolved (V flag with Vendor-Id 0, reserved flag bits,
		 * M bit clear): it has no value, so name it by its header;
		 * add_failed_avp finds the dictionary entry by code. */
		if (!avp || fd_msg_avp_hdr(avp, &h))
			return;
		ans->failed_avp_code = h->avp_code;
		ans->failed_avp_vendor = (h->avp_flags & AVP_FLAG_VENDOR) ? h->avp_vendor : 0;
		return;
	}
	ans->failed_avp_code = d.avp_code;
	ans->failed_avp_vendor = d.avp_vendor;
	if (!avp || fd_msg_avp_hdr(avp, &h) || !h->avp_value)
		return;
	if (d.avp_basetype == AVP_TYPE_INTEGER32 || d.avp_basetype == AVP_TYPE_UNSIGNED32) {
		uint32_t v = h->avp_value->u32;
		uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
				 (uint8_t)v };
		ims_arena_strdup(a, ims_str_from((const char *)b, 4), &ans->failed_avp_data);
	} else if (d.avp_basetype == AVP_TYPE_OCTETSTRING) {
		ims_arena_strdup(a, ims_str_from((const char *)h->avp_value->os.data,
						 h->avp_value->os.len), &ans->failed_avp_data);
	}
}

static int decode_auth_item_req(struct avp *g, ims_arena_t *a, cx_req_t *req)
{
	struct avp *c = NULL;
	struct avp_hdr *h;
	int r = 0;
	for (fd_msg_browse(g, MSG_BRW_FIRST_CHILD, &c, NULL); c && !r;
	     fd_msg_browse(c, MSG_BRW_NEXT, &c, NULL)) {
		if (fd_msg_avp_hdr(c, &h))
			return IMS_EPARSE;
		if (is(h, cx_dict.sip_authentication_scheme))
			r = take_str(a, h, &req->auth_scheme);
		else if (is(h, cx_dict.sip_authorization))
			r = take_str(a, h, &req->auth_authorization);
	}
	return r;
}

static int decode_dereg(struct avp *g, ims_arena_t *a, cx_req_t *req, int *has_code,
			cx_answer_t *ans)
{
	struct avp *c = NULL;
	struct avp_hdr *h;
	int r = 0;
	for (fd_msg_browse(g, MSG_BRW_FIRST_CHILD, &c, NULL); c && !r;
	     fd_msg_browse(c, MSG_BRW_NEXT, &c, NULL)) {
		if (fd_msg_avp_hdr(c, &h))
			return IMS_EPARSE;
		if (is(h, cx_dict.reason_code) && h->avp_value) {
			req->dereg_code = (uint32_t)h->avp_value->i32;
			*has_code = 1;
			/* TS 29.229 §6.3.17: four values defined */
			if (h->avp_value->i32 < 0 || h->avp_value->i32 > CX_REASON_REMOVE_SCSCF)
				set_failed(ans, CX_DIAMETER_INVALID_AVP_VALUE, c, NULL, a);
		} else if (is(h, cx_dict.reason_info)) {
			r = take_str(a, h, &req->dereg_info);
		}
	}
	return r;
}

int cx_req_decode(struct msg *m, ims_arena_t *a, cx_req_t *req, cx_answer_t *ans)
{
	struct msg_hdr *mh;
	struct avp *avp = NULL;
	struct avp_hdr *h;
	int has_visited = 0, has_nai = 0, has_item = 0, has_udaa = 0, has_code = 0;
	int r = 0;
	memset(req, 0, sizeof *req);
	if (fd_msg_hdr(m, &mh))
		return IMS_EPARSE;
	req->cmd = mh->msg_code;
	ans->cmd = mh->msg_code;
	for (fd_msg_browse(m, MSG_BRW_FIRST_CHILD, &avp, NULL); avp && !r;
	     fd_msg_browse(avp, MSG_BRW_NEXT, &avp, NULL)) {
		if (fd_msg_avp_hdr(avp, &h))
			return IMS_EPARSE;
		if (is(h, cx_dict.session_id)) {
			r = take_str(a, h, &req->session_id);
		} else if (is(h, cx_dict.origin_host)) {
			r = take_str(a, h, &req->origin_host);
		} else if (is(h, cx_dict.origin_realm)) {
			r = take_str(a, h, &req->origin_realm);
		} else if (is(h, cx_dict.destination_host)) {
			r = take_str(a, h, &req->dest_host);
		} else if (is(h, cx_dict.destination_realm)) {
			r = take_str(a, h, &req->dest_realm);
		} else if (is(h, cx_dict.user_name)) {
			r = take_str(a, h, &req->user_name);
		} else if (is(h, cx_dict.public_identity)) {
			if (req->n_impu < CX_MAX_IMPU)
				r = take_str(a, h, &req->impu[req->n_impu++]);
		} else if (is(h, cx_dict.visited_network_identifier)) {
			has_visited = 1;
			r = take_str(a, h, &req->visited_network);
		} else if (is(h, cx_dict.user_authorization_type) && h->avp_value) {
			req->has_auth_type = 1;
			req->auth_type = (uint32_t)h->avp_value->i32;
			/* TS 29.229 §6.3.24: three values defined */
			if (h->avp_value->i32 < 0 || h->avp_value->i32 > CX_UAT_REGISTRATION_AND_CAPABILITIES)
				set_failed(ans, CX_DIAMETER_INVALID_AVP_VALUE, avp, NULL, a);
		} else if (is(h, cx_dict.uar_flags) && h->avp_value) {
			req->has_uar_flags = 1;
			req->uar_flags = h->avp_value->u32;
		} else if (is(h, cx_dict.server_name)) {
			r = take_str(a, h, &req->server_name);
		} else if (is(h, cx_dict.sip_number_auth_items) && h->avp_value) {
			has_nai = 1;
			req->n_auth_items = h->avp_value->u32;
		} else if (is(h, cx_dict.sip_auth_data_item)) {
			has_item = 1;
			r = decode_auth_item_req(avp, a, req);
		} else if (is(h, cx_dict.server_assignment_type) && h->avp_value) {
			req->has_sat = 1;
			req->sat = (uint32_t)h->avp_value->i32;
			if (h->avp_value->i32 < 0 || h->avp_value->i32 > CX_SAT_RESTORATION)
				set_failed(ans, CX_DIAMETER_INVALID_AVP_VALUE, avp, NULL, a);
		} else if (is(h, cx_dict.user_data_already_available) && h->avp_value) {
			has_udaa = 1;
			req->user_data_available = (uint32_t)h->avp_value->i32;
			if (h->avp_value->i32 < 0 || h->avp_value->i32 > 1)
				set_failed(ans, CX_DIAMETER_INVALID_AVP_VALUE, avp, NULL, a);
		} else if (is(h, cx_dict.originating_request)) {
			req->has_originating = 1;
		} else if (is(h, cx_dict.deregistration_reason)) {
			req->has_dereg = 1;
			r = decode_dereg(avp, a, req, &has_code, ans);
		} else if (is(h, cx_dict.user_data)) {
			r = take_str(a, h, &req->user_data);
		}
		if (r == IMS_EPARSE) {
			/* a value freeDiameter could not interpret */
			set_failed(ans, CX_DIAMETER_INVALID_AVP_VALUE, avp, NULL, a);
			r = 0;
		}
	}
	if (r == IMS_ENOMEM)
		return r;

	/* RFC 6733 §7.1.5 / TS 29.229 §6.1.x: a required AVP is missing */
	struct dict_object *missing = NULL;
	if (!req->origin_host.len)
		missing = cx_dict.origin_host;
	else if (!req->origin_realm.len)
		missing = cx_dict.origin_realm;
	switch (req->cmd) {
	case CX_CMD_UAR:
		if (!req->user_name.len) missing = cx_dict.user_name;
		else if (!req->n_impu) missing = cx_dict.public_identity;
		else if (!has_visited) missing = cx_dict.visited_network_identifier;
		break;
	case CX_CMD_MAR:
		if (!req->user_name.len) missing = cx_dict.user_name;
		else if (!req->n_impu) missing = cx_dict.public_identity;
		else if (!has_nai) missing = cx_dict.sip_number_auth_items;
		else if (!has_item) missing = cx_dict.sip_auth_data_item;
		else if (!req->server_name.len) missing = cx_dict.server_name;
		break;
	case CX_CMD_SAR:
		if (!req->server_name.len) missing = cx_dict.server_name;
		else if (!req->has_sat) missing = cx_dict.server_assignment_type;
		else if (!has_udaa) missing = cx_dict.user_data_already_available;
		else if (!req->user_name.len && !req->n_impu) missing = cx_dict.user_name;
		break;
	case CX_CMD_LIR:
		if (!req->n_impu) missing = cx_dict.public_identity;
		break;
	case CX_CMD_RTR:
		if (!req->user_name.len) missing = cx_dict.user_name;
		else if (!req->has_dereg || !has_code) missing = cx_dict.deregistration_reason;
		break;
	case CX_CMD_PPR:
		if (!req->user_name.len) missing = cx_dict.user_name;
		break;
	}
	if (missing)
		set_failed(ans, CX_DIAMETER_MISSING_AVP, NULL, missing, a);
	return ans->result_code ? IMS_EPARSE : 0;
}

/* Failed-AVP (RFC 6733 §7.5): a copy of the offending AVP, or for a
 * missing one an AVP of that kind with a zero-filled minimal value. */
static int add_failed_avp(struct msg *m, const cx_answer_t *ans)
{
	struct dict_object *model = NULL;
	struct dict_avp_request rq = { .avp_vendor = ans->failed_avp_vendor,
				       .avp_code = ans->failed_avp_code };
	struct dict_avp_data d;
	if (fd_dict_search(fd_g_config->cnf_dict, DICT_AVP, AVP_BY_CODE_AND_VENDOR, &rq, &model,
			   ENOENT) || !model || fd_dict_getval(model, &d))
		return 0; /* unknown to us: leave Failed-AVP out */
	struct avp *g, *c;
	if (cx_avp_group_new(cx_dict.failed_avp, &g))
		return IMS_EDIAMETER;
	if (d.avp_basetype == AVP_TYPE_GROUPED) {
		if (fd_msg_avp_new(model, 0, &c) || fd_msg_avp_add(g, MSG_BRW_LAST_CHILD, c))
			return cx_avp_group_abort(g);
		return cx_avp_group_add(m, g);
	}
	union avp_value v;
	memset(&v, 0, sizeof v);
	const uint8_t *p = (const uint8_t *)ans->failed_avp_data.s;
	if (d.avp_basetype == AVP_TYPE_OCTETSTRING) {
		static uint8_t zero;
		v.os.data = p ? (uint8_t *)p : &zero;
		v.os.len = ans->failed_avp_data.len;
	} else if (ans->failed_avp_data.len == 4) {
		v.u32 = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	}
	if (fd_msg_avp_new(model, 0, &c))
		return cx_avp_group_abort(g);
	if (fd_msg_avp_setvalue(c, &v) || fd_msg_avp_add(g, MSG_BRW_LAST_CHILD, c)) {
		fd_msg_free(c);
		return cx_avp_group_abort(g);
	}
	return cx_avp_group_add(m, g);
}

static int add_caps(struct msg *m, const cx_answer_t *ans)
{
	struct avp *g;
	int r = 0;
	if (cx_avp_group_new(cx_dict.server_capabilities, &g))
		return IMS_EDIAMETER;
	for (unsigned i = 0; i < ans->n_cap_mandatory && i < CX_MAX_CAPS; i++)
		r |= cx_avp_add_u32(g, cx_dict.mandatory_capability, ans->cap_mandatory[i]);
	for (unsigned i = 0; i < ans->n_cap_optional && i < CX_MAX_CAPS; i++)
		r |= cx_avp_add_u32(g, cx_dict.optional_capability, ans->cap_optional[i]);
	for (unsigned i = 0; i < ans->n_cap_server_name && i < CX_MAX_CAPS; i++)
		r |= cx_avp_add_str(g, cx_dict.server_name, ans->cap_server_name[i]);
	return r ? cx_avp_group_abort(g) : cx_avp_group_add(m, g);
}

static int add_item(struct msg *m, const cx_auth_item_t *it)
{
	struct avp *g;
	int r = 0;
	if (cx_avp_group_new(cx_dict.sip_auth_data_item, &g))
		return IMS_EDIAMETER;
	if (it->item_number)
		r |= cx_avp_add_u32(g, cx_dict.sip_item_number, it->item_number);
	if (it->scheme.len)
		r |= cx_avp_add_str(g, cx_dict.sip_authentication_scheme, it->scheme);
	if (it->authenticate.len)
		r |= cx_avp_add_str(g, cx_dict.sip_authenticate, it->authenticate);
	if (it->authorization.len)
		r |= cx_avp_add_str(g, cx_dict.sip_authorization, it->authorization);
	if (it->ck.len)
		r |= cx_avp_add_str(g, cx_dict.confidentiality_key, it->ck);
	if (it->ik.len)
		r |= cx_avp_add_str(g, cx_dict.integrity_key, it->ik);
	if (it->has_digest) {
		struct avp *d;
		if (cx_avp_group_new(cx_dict.sip_digest_authenticate, &d)) {
			r |= IMS_EDIAMETER;
		} else {
			int rd = cx_avp_add_str(d, cx_dict.digest_realm, it->digest_realm);
			if (it->digest_algorithm.len)
				rd |= cx_avp_add_str(d, cx_dict.digest_algorithm, it->digest_algorithm);
			if (it->digest_qop.len)
				rd |= cx_avp_add_str(d, cx_dict.digest_qop, it->digest_qop);
			if (it->digest_ha1.len)
				rd |= cx_avp_add_str(d, cx_dict.digest_ha1, it->digest_ha1);
			r |= rd ? cx_avp_group_abort(d) : cx_avp_group_add(g, d);
		}
	}
	return r ? cx_avp_group_abort(g) : cx_avp_group_add(m, g);
}

int cx_ans_encode(struct msg *m, const cx_answer_t *ans)
{
	int r = 0;
	if (ans->exp_result_code) {
		struct avp *g;
		if (cx_avp_group_new(cx_dict.experimental_result, &g))
			return IMS_EDIAMETER;
		if (cx_avp_add_u32(g, cx_dict.vendor_id,
				   ans->exp_vendor_id ? ans->exp_vendor_id : CX_VENDOR_3GPP) ||
		    cx_avp_add_u32(g, cx_dict.experimental_result_code, ans->exp_result_code))
			return cx_avp_group_abort(g);
		r |= cx_avp_group_add(m, g);
	} else {
		r |= cx_avp_add_u32(m, cx_dict.result_code,
				    ans->result_code ? ans->result_code : CX_DIAMETER_UNABLE_TO_COMPLY);
	}
	r |= add_vsai(m);
	r |= cx_avp_add_i32(m, cx_dict.auth_session_state, NO_STATE_MAINTAINED);
	if (ans->error_message.len)
		r |= cx_avp_add_str(m, cx_dict.error_message, ans->error_message);
	if (ans->user_name.len)
		r |= cx_avp_add_str(m, cx_dict.user_name, ans->user_name);
	if (ans->impu.len)
		r |= cx_avp_add_str(m, cx_dict.public_identity, ans->impu);
	if (ans->server_name.len)
		r |= cx_avp_add_str(m, cx_dict.server_name, ans->server_name);
	if (ans->has_caps)
		r |= add_caps(m, ans);
	if (ans->n_auth_items || ans->n_items)
		r |= cx_avp_add_u32(m, cx_dict.sip_number_auth_items,
				    ans->n_auth_items ? ans->n_auth_items : ans->n_items);
	for (unsigned i = 0; i < ans->n_items && i < CX_MAX_AUTH_ITEMS; i++)
		r |= add_item(m, &ans->items[i]);
	if (ans->user_data.len)
		r |= cx_avp_add_str(m, cx_dict.user_data, ans->user_data);
	if (ans->n_assoc_impi) {
		struct avp *g;
		if (cx_avp_group_new(cx_dict.associated_identities, &g)) {
			r |= IMS_EDIAMETER;
		} else {
			int rg = 0;
			for (unsigned i = 0; i < ans->n_assoc_impi && i < CX_MAX_IMPU; i++)
				rg |= cx_avp_add_str(g, cx_dict.user_name, ans->assoc_impi[i]);
			r |= rg ? cx_avp_group_abort(g) : cx_avp_group_add(m, g);
		}
	}
	if (ans->failed_avp_code)
		r |= add_failed_avp(m, ans);
	return r ? IMS_EDIAMETER : 0;
}

static int decode_item_ans(struct avp *g, ims_arena_t *a, cx_auth_item_t *it)
{
	struct avp *c = NULL, *d = NULL;
	struct avp_hdr *h, *dh;
	int r = 0;
	for (fd_msg_browse(g, MSG_BRW_FIRST_CHILD, &c, NULL); c && !r;
	     fd_msg_browse(c, MSG_BRW_NEXT, &c, NULL)) {
		if (fd_msg_avp_hdr(c, &h))
			return IMS_EPARSE;
		if (is(h, cx_dict.sip_item_number) && h->avp_value)
			it->item_number = h->avp_value->u32;
		else if (is(h, cx_dict.sip_authentication_scheme))
			r = take_str(a, h, &it->scheme);
		else if (is(h, cx_dict.sip_authenticate))
			r = take_str(a, h, &it->authenticate);
		else if (is(h, cx_dict.sip_authorization))
			r = take_str(a, h, &it->authorization);
		else if (is(h, cx_dict.confidentiality_key))
			r = take_str(a, h, &it->ck);
		else if (is(h, cx_dict.integrity_key))
			r = take_str(a, h, &it->ik);
		else if (is(h, cx_dict.sip_digest_authenticate)) {
			it->has_digest = 1;
			for (fd_msg_browse(c, MSG_BRW_FIRST_CHILD, &d, NULL); d && !r;
			     fd_msg_browse(d, MSG_BRW_NEXT, &d, NULL)) {
				if (fd_msg_avp_hdr(d, &dh))
					return IMS_EPARSE;
				if (is(dh, cx_dict.digest_realm))
					r = take_str(a, dh, &it->digest_realm);
				else if (is(dh, cx_dict.digest_qop))
					r = take_str(a, dh, &it->digest_qop);
				else if (is(dh, cx_dict.digest_algorithm))
					r = take_str(a, dh, &it->digest_algorithm);
				else if (is(dh, cx_dict.digest_ha1))
					r = take_str(a, dh, &it->digest_ha1);
			}
		}
	}
	return r;
}

int cx_ans_decode(struct msg *m, ims_arena_t *a, cx_answer_t *ans)
{
	struct msg_hdr *mh;
	struct avp *avp = NULL, *c = NULL;
	struct avp_hdr *h, *ch;
	int r = 0;
	memset(ans, 0, sizeof *ans);
	ans->status = CX_ANS_OK;
	if (fd_msg_hdr(m, &mh))
		return IMS_EPARSE;
	ans->cmd = mh->msg_code;
	for (fd_msg_browse(m, MSG_BRW_FIRST_CHILD, &avp, NULL); avp && !r;
	     fd_msg_browse(avp, MSG_BRW_NEXT, &avp, NULL)) {
		if (fd_msg_avp_hdr(avp, &h))
			return IMS_EPARSE;
		if (is(h, cx_dict.session_id)) {
			r = take_str(a, h, &ans->session_id);
		} else if (is(h, cx_dict.origin_host)) {
			r = take_str(a, h, &ans->origin_host);
		} else if (is(h, cx_dict.origin_realm)) {
			r = take_str(a, h, &ans->origin_realm);
		} else if (is(h, cx_dict.result_code) && h->avp_value) {
			ans->result_code = h->avp_value->u32;
		} else if (is(h, cx_dict.experimental_result)) {
			for (fd_msg_browse(avp, MSG_BRW_FIRST_CHILD, &c, NULL); c;
			     fd_msg_browse(c, MSG_BRW_NEXT, &c, NULL)) {
				if (fd_msg_avp_hdr(c, &ch) || !ch->avp_value)
					continue;
				if (is(ch, cx_dict.vendor_id))
					ans->exp_vendor_id = ch->avp_value->u32;
				else if (is(ch, cx_dict.experimental_result_code))
					ans->exp_result_code = ch->avp_value->u32;
			}
		} else if (is(h, cx_dict.error_message)) {
			r = take_str(a, h, &ans->error_message);
		} else if (is(h, cx_dict.failed_avp)) {
			if (fd_msg_browse(avp, MSG_BRW_FIRST_CHILD, &c, NULL) == 0 && c &&
			    fd_msg_avp_hdr(c, &ch) == 0) {
				ans->failed_avp_code = ch->avp_code;
				ans->failed_avp_vendor =
					(ch->avp_flags & AVP_FLAG_VENDOR) ? ch->avp_vendor : 0;
			}
		} else if (is(h, cx_dict.user_name)) {
			r = take_str(a, h, &ans->user_name);
		} else if (is(h, cx_dict.public_identity)) {
			r = take_str(a, h, &ans->impu);
		} else if (is(h, cx_dict.server_name)) {
			r = take_str(a, h, &ans->server_name);
		} else if (is(h, cx_dict.server_capabilities)) {
			ans->has_caps = 1;
			for (fd_msg_browse(avp, MSG_BRW_FIRST_CHILD, &c, NULL); c && !r;
			     fd_msg_browse(c, MSG_BRW_NEXT, &c, NULL)) {
				if (fd_msg_avp_hdr(c, &ch))
					continue;
				if (is(ch, cx_dict.mandatory_capability) && ch->avp_value &&
				    ans->n_cap_mandatory < CX_MAX_CAPS)
					ans->cap_mandatory[ans->n_cap_mandatory++] = ch->avp_value->u32;
				else if (is(ch, cx_dict.optional_capability) && ch->avp_value &&
					 ans->n_cap_optional < CX_MAX_CAPS)
					ans->cap_optional[ans->n_cap_optional++] = ch->avp_value->u32;
				else if (is(ch, cx_dict.server_name) && ans->n_cap_server_name < CX_MAX_CAPS)
					r = take_str(a, ch, &ans->cap_server_name[ans->n_cap_server_name++]);
			}
		} else if (is(h, cx_dict.sip_number_auth_items) && h->avp_value) {
			ans->n_auth_items = h->avp_value->u32;
		} else if (is(h, cx_dict.sip_auth_data_item)) {
			if (ans->n_items < CX_MAX_AUTH_ITEMS)
				r = decode_item_ans(avp, a, &ans->items[ans->n_items++]);
		} else if (is(h, cx_dict.user_data)) {
			r = take_str(a, h, &ans->user_data);
		} else if (is(h, cx_dict.associated_identities)) {
			for (fd_msg_browse(avp, MSG_BRW_FIRST_CHILD, &c, NULL); c && !r;
			     fd_msg_browse(c, MSG_BRW_NEXT, &c, NULL)) {
				if (fd_msg_avp_hdr(c, &ch) == 0 && is(ch, cx_dict.user_name) &&
				    ans->n_assoc_impi < CX_MAX_IMPU)
					r = take_str(a, ch, &ans->assoc_impi[ans->n_assoc_impi++]);
			}
		}
	}
	return r;
}
