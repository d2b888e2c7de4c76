/* Cx dictionary definitions (TS 29.229 §6), resolved once into cx_dict. */
#include "dia/cx-dict.h"

#include <freeDiameter/freeDiameter-host.h>
#include <freeDiameter/libfdcore.h>

#include "base/ims_err.h"
#include "log/ims_log.h"

cx_dict_t cx_dict;

#define M_V (AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY)

/* Finds the AVP (code, vendor) or defines it. */
static int avp_def(struct dict_object **out, avp_code_t code, vendor_id_t vendor,
		   const char *name, enum dict_avp_basetype type)
{
	struct dictionary *d = fd_g_config->cnf_dict;
	struct dict_avp_request rq = { .avp_vendor = vendor, .avp_code = code };
	if (fd_dict_search(d, DICT_AVP, AVP_BY_CODE_AND_VENDOR, &rq, out, ENOENT) == 0 && *out)
		return 0;
	struct dict_avp_data data = {
		.avp_code = code,
		.avp_vendor = vendor,
		.avp_name = (char *)name,
		/* TS 29.229 §6.3: 3GPP AVPs carry V and M set; base ones M */
		.avp_flag_mask = AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY,
		.avp_flag_val = vendor ? M_V : AVP_FLAG_MANDATORY,
		.avp_basetype = type,
	};
	/* The Digest AVPs of RFC 4590 are not mandatory-flag-fixed */
	if (!vendor && code >= 100 && code <= 130) {
		data.avp_flag_mask = AVP_FLAG_VENDOR;
		data.avp_flag_val = 0;
	}
	int ret = fd_dict_new(d, DICT_AVP, &data, NULL, out);
	if (ret) {
		LOG_ERROR("dia", "dict.avp_failed name=%s code=%u err=%d", name, code, ret);
		return IMS_EDIAMETER;
	}
	return 0;
}

/* Finds a base (RFC 6733) AVP by name; fd_core_initialize defined it. */
static int avp_base(struct dict_object **out, const char *name)
{
	if (fd_dict_search(fd_g_config->cnf_dict, DICT_AVP, AVP_BY_NAME, name, out, ENOENT) || !*out) {
		LOG_ERROR("dia", "dict.base_missing name=%s", name);
		return IMS_EDIAMETER;
	}
	return 0;
}

static int rule_add(struct dict_object *parent, struct dict_object *avp,
		    enum rule_position pos, int min, int max)
{
	struct dict_rule_data r = {
		.rule_avp = avp,
		.rule_position = pos,
		.rule_order = pos == RULE_FIXED_HEAD ? 1 : 0,
		.rule_min = min,
		.rule_max = max,
	};
	int ret = fd_dict_new(fd_g_config->cnf_dict, DICT_RULE, &r, parent, NULL);
	/* EEXIST: an extension already set this rule; fine */
	if (ret && ret != EEXIST) {
		LOG_ERROR("dia", "dict.rule_failed err=%d", ret);
		return IMS_EDIAMETER;
	}
	return 0;
}

#define REQ(p, a) rule_add((p), (a), RULE_REQUIRED, -1, 1)
#define OPT(p, a) rule_add((p), (a), RULE_OPTIONAL, -1, 1)
#define OPTN(p, a) rule_add((p), (a), RULE_OPTIONAL, -1, -1)

static int cmd_def(struct dict_object **out, command_code_t code, const char *name, int request)
{
	struct dictionary *d = fd_g_config->cnf_dict;
	if (fd_dict_search(d, DICT_COMMAND, request ? CMD_BY_CODE_R : CMD_BY_CODE_A,
			   &code, out, ENOENT) == 0 && *out)
		return 0;
	/* TS 29.229 §6.1: requests have R and P set; answers P, never R */
	struct dict_cmd_data data = {
		.cmd_code = code,
		.cmd_name = (char *)name,
		.cmd_flag_mask = CMD_FLAG_REQUEST | CMD_FLAG_PROXIABLE,
		.cmd_flag_val = (request ? CMD_FLAG_REQUEST : 0) | CMD_FLAG_PROXIABLE,
	};
	int ret = fd_dict_new(d, DICT_COMMAND, &data, cx_dict.app_cx, out);
	if (ret) {
		LOG_ERROR("dia", "dict.cmd_failed name=%s err=%d", name, ret);
		return IMS_EDIAMETER;
	}
	struct dict_object *sid = cx_dict.session_id;
	if (rule_add(*out, sid, RULE_FIXED_HEAD, -1, 1) || REQ(*out, cx_dict.origin_host) ||
	    REQ(*out, cx_dict.origin_realm) || OPT(*out, cx_dict.vendor_specific_application_id) ||
	    OPT(*out, cx_dict.auth_session_state) || OPTN(*out, cx_dict.proxy_info) ||
	    OPTN(*out, cx_dict.route_record))
		return IMS_EDIAMETER;
	if (request) {
		/* Destination-Host is optional except in RTR/PPR (below) */
		if (REQ(*out, cx_dict.destination_realm) ||
		    (code != CX_CMD_RTR && code != CX_CMD_PPR &&
		     OPT(*out, cx_dict.destination_host)))
			return IMS_EDIAMETER;
	} else {
		if (OPT(*out, cx_dict.result_code) || OPT(*out, cx_dict.experimental_result) ||
		    OPT(*out, cx_dict.error_message) || OPTN(*out, cx_dict.failed_avp))
			return IMS_EDIAMETER;
	}
	return 0;
}

static int define_avps(void)
{
	cx_dict_t *x = &cx_dict;
	int r = 0;
	r |= avp_base(&x->session_id, "Session-Id");
	r |= avp_base(&x->origin_host, "Origin-Host");
	r |= avp_base(&x->origin_realm, "Origin-Realm");
	r |= avp_base(&x->destination_host, "Destination-Host");
	r |= avp_base(&x->destination_realm, "Destination-Realm");
	r |= avp_base(&x->auth_session_state, "Auth-Session-State");
	r |= avp_base(&x->vendor_specific_application_id, "Vendor-Specific-Application-Id");
	r |= avp_base(&x->vendor_id, "Vendor-Id");
	r |= avp_base(&x->auth_application_id, "Auth-Application-Id");
	r |= avp_base(&x->acct_application_id, "Acct-Application-Id");
	r |= avp_base(&x->result_code, "Result-Code");
	r |= avp_base(&x->experimental_result, "Experimental-Result");
	r |= avp_base(&x->experimental_result_code, "Experimental-Result-Code");
	r |= avp_base(&x->user_name, "User-Name");
	r |= avp_base(&x->failed_avp, "Failed-AVP");
	r |= avp_base(&x->error_message, "Error-Message");
	r |= avp_base(&x->proxy_info, "Proxy-Info");
	r |= avp_base(&x->route_record, "Route-Record");
	if (r)
		return IMS_EDIAMETER;

	/* RFC 4740 §9.5 / RFC 4590 §4 digest AVPs */
	r |= avp_def(&x->digest_realm, 104, 0, "Digest-Realm", AVP_TYPE_OCTETSTRING);
	r |= avp_def(&x->digest_qop, 110, 0, "Digest-QoP", AVP_TYPE_OCTETSTRING);
	r |= avp_def(&x->digest_algorithm, 111, 0, "Digest-Algorithm", AVP_TYPE_OCTETSTRING);
	r |= avp_def(&x->digest_ha1, 121, 0, "Digest-HA1", AVP_TYPE_OCTETSTRING);

	/* TS 29.229 §6.3, table 6.3.1 */
	const vendor_id_t v = CX_VENDOR_3GPP;
	r |= avp_def(&x->visited_network_identifier, 600, v, "Visited-Network-Identifier", AVP_TYPE_OCTETSTRING);
	r |= avp_def(&x->public_identity, 601, v, "Public-Identity", AVP_TYPE_OCTETSTRING);
	r |= avp_def(&x->server_name, 602, v, "Server-Name", AVP_TYPE_OCTETSTRING);
	r |= avp_def(&x->server_capabilities, 603, v, "Server-Capabilities", AVP_TYPE_GROUPED);
	r |= avp_def(&x->mandatory_capability, 604, v, "Mandatory-Capability", AVP_TYPE_UNSIGNED32);
	r |= avp_def(&x->optional_capability, 605, v, "Optional-Capability", AVP_TYPE_UNSIGNED32);
	r |= avp_def(&x->user_data, 606, v, "User-Data", AVP_TYPE_OCTETSTRING);
	r |= avp_def(&x->sip_number_auth_items, 607, v, "SIP-Number-Auth-Items", AVP_TYPE_UNSIGNED32);
	r |= avp_def(&x->sip_authentication_scheme, 608, v, "SIP-Authentication-Scheme", AVP_TYPE_OCTETSTRING);
	r |= avp_def(&x->sip_authenticate, 609, v, "SIP-Authenticate", AVP_TYPE_OCTETSTRING);
	r |= avp_def(&x->sip_authorization, 610, v, "SIP-Authorization", AVP_TYPE_OCTETSTRING);
	r |= avp_def(&x->sip_authentication_context, 611, v, "SIP-Authentication-Context", AVP_TYPE_OCTETSTRING);
	r |= avp_def(&x->sip_auth_data_item, 612, v, "SIP-Auth-Data-Item", AVP_TYPE_GROUPED);
	r |= avp_def(&x->sip_item_number, 613, v, "SIP-Item-Number", AVP_TYPE_UNSIGNED32);
	r |= avp_def(&x->server_assignment_type, 614, v, "Server-Assignment-Type", AVP_TYPE_INTEGER32);
	r |= avp_def(&x->deregistration_reason, 615, v, "Deregistration-Reason", AVP_TYPE_GROUPED);
	r |= avp_def(&x->reason_code, 616, v, "Reason-Code", AVP_TYPE_INTEGER32);
	r |= avp_def(&x->reason_info, 617, v, "Reason-Info", AVP_TYPE_OCTETSTRING);
	r |= avp_def(&x->charging_information, 618, v, "Charging-Information", AVP_TYPE_GROUPED);
	r |= avp_def(&x->user_authorization_type, 623, v, "User-Authorization-Type", AVP_TYPE_INTEGER32);
	r |= avp_def(&x->user_data_already_available, 624, v, "User-Data-Already-Available", AVP_TYPE_INTEGER32);
	r |= avp_def(&x->confidentiality_key, 625, v, "Confidentiality-Key", AVP_TYPE_OCTETSTRING);
	r |= avp_def(&x->integrity_key, 626, v, "Integrity-Key", AVP_TYPE_OCTETSTRING);
	r |= avp_def(&x->supported_features, 628, v, "Supported-Features", AVP_TYPE_GROUPED);
	r |= avp_def(&x->feature_list_id, 629, v, "Feature-List-ID", AVP_TYPE_UNSIGNED32);
	r |= avp_def(&x->feature_list, 630, v, "Feature-List", AVP_TYPE_UNSIGNED32);
	r |= avp_def(&x->associated_identities, 632, v, "Associated-Identities", AVP_TYPE_GROUPED);
	r |= avp_def(&x->originating_request, 633, v, "Originating-Request", AVP_TYPE_INTEGER32);
	r |= avp_def(&x->wildcarded_public_identity, 634, v, "Wildcarded-Public-Identity", AVP_TYPE_OCTETSTRING);
	r |= avp_def(&x->sip_digest_authenticate, 635, v, "SIP-Digest-Authenticate", AVP_TYPE_GROUPED);
	r |= avp_def(&x->uar_flags, 637, v, "UAR-Flags", AVP_TYPE_UNSIGNED32);
	r |= avp_def(&x->session_priority, 650, v, "Session-Priority", AVP_TYPE_INTEGER32);
	r |= avp_def(&x->lia_flags, 653, v, "LIA-Flags", AVP_TYPE_UNSIGNED32);
	r |= avp_def(&x->sar_flags, 655, v, "SAR-Flags", AVP_TYPE_UNSIGNED32);
	return r ? IMS_EDIAMETER : 0;
}

/* Children of the grouped AVPs (TS 29.229 §6.3.4, §6.3.13, §6.3.16,
 * §6.3.29, §6.3.33, §6.3.36). Without rules freeDiameter would still
 * parse the children; the rules document the shape and bound counts. */
static int define_groups(void)
{
	cx_dict_t *x = &cx_dict;
	int r = 0;
	r |= OPTN(x->server_capabilities, x->mandatory_capability);
	r |= OPTN(x->server_capabilities, x->optional_capability);
	r |= OPTN(x->server_capabilities, x->server_name);
	r |= OPT(x->sip_auth_data_item, x->sip_item_number);
	r |= OPT(x->sip_auth_data_item, x->sip_authentication_scheme);
	r |= OPT(x->sip_auth_data_item, x->sip_authenticate);
	r |= OPT(x->sip_auth_data_item, x->sip_authorization);
	r |= OPT(x->sip_auth_data_item, x->sip_authentication_context);
	r |= OPT(x->sip_auth_data_item, x->confidentiality_key);
	r |= OPT(x->sip_auth_data_item, x->integrity_key);
	r |= OPT(x->sip_auth_data_item, x->sip_digest_authenticate);
	r |= REQ(x->deregistration_reason, x->reason_code);
	r |= OPT(x->deregistration_reason, x->reason_info);
	r |= REQ(x->sip_digest_authenticate, x->digest_realm);
	r |= OPT(x->sip_digest_authenticate, x->digest_algorithm);
	r |= OPT(x->sip_digest_authenticate, x->digest_qop);
	r |= OPT(x->sip_digest_authenticate, x->digest_ha1);
	r |= REQ(x->supported_features, x->vendor_id);
	r |= REQ(x->supported_features, x->feature_list_id);
	r |= REQ(x->supported_features, x->feature_list);
	r |= OPTN(x->associated_identities, x->user_name);
	return r ? IMS_EDIAMETER : 0;
}

/* Request ABNFs of TS 29.229 §6.1.1-§6.1.12: the AVPs in { } become
 * RULE_REQUIRED so freeDiameter itself answers DIAMETER_MISSING_AVP
 * (with Failed-AVP) before our handler runs. */
static int define_commands(void)
{
	cx_dict_t *x = &cx_dict;
	int r = 0;
	r |= cmd_def(&x->cmd_uar, CX_CMD_UAR, "User-Authorization-Request", 1);
	r |= cmd_def(&x->cmd_uaa, CX_CMD_UAR, "User-Authorization-Answer", 0);
	r |= cmd_def(&x->cmd_sar, CX_CMD_SAR, "Server-Assignment-Request", 1);
	r |= cmd_def(&x->cmd_saa, CX_CMD_SAR, "Server-Assignment-Answer", 0);
	r |= cmd_def(&x->cmd_lir, CX_CMD_LIR, "Location-Info-Request", 1);
	r |= cmd_def(&x->cmd_lia, CX_CMD_LIR, "Location-Info-Answer", 0);
	r |= cmd_def(&x->cmd_mar, CX_CMD_MAR, "Multimedia-Auth-Request", 1);
	r |= cmd_def(&x->cmd_maa, CX_CMD_MAR, "Multimedia-Auth-Answer", 0);
	r |= cmd_def(&x->cmd_rtr, CX_CMD_RTR, "Registration-Termination-Request", 1);
	r |= cmd_def(&x->cmd_rta, CX_CMD_RTR, "Registration-Termination-Answer", 0);
	r |= cmd_def(&x->cmd_ppr, CX_CMD_PPR, "Push-Profile-Request", 1);
	r |= cmd_def(&x->cmd_ppa, CX_CMD_PPR, "Push-Profile-Answer", 0);
	if (r)
		return IMS_EDIAMETER;

	/* §6.1.1 UAR */
	r |= REQ(x->cmd_uar, x->user_name);
	r |= REQ(x->cmd_uar, x->public_identity);
	r |= REQ(x->cmd_uar, x->visited_network_identifier);
	r |= OPT(x->cmd_uar, x->user_authorization_type);
	r |= OPT(x->cmd_uar, x->uar_flags);
	r |= OPTN(x->cmd_uar, x->supported_features);
	/* §6.1.2 UAA */
	r |= OPT(x->cmd_uaa, x->server_name);
	r |= OPT(x->cmd_uaa, x->server_capabilities);
	r |= OPTN(x->cmd_uaa, x->supported_features);
	/* §6.1.3 SAR */
	r |= OPT(x->cmd_sar, x->user_name);
	r |= OPTN(x->cmd_sar, x->public_identity);
	r |= OPT(x->cmd_sar, x->wildcarded_public_identity);
	r |= REQ(x->cmd_sar, x->server_name);
	r |= REQ(x->cmd_sar, x->server_assignment_type);
	r |= REQ(x->cmd_sar, x->user_data_already_available);
	r |= OPT(x->cmd_sar, x->sar_flags);
	r |= OPTN(x->cmd_sar, x->supported_features);
	/* §6.1.4 SAA */
	r |= OPT(x->cmd_saa, x->user_name);
	r |= OPT(x->cmd_saa, x->user_data);
	r |= OPT(x->cmd_saa, x->charging_information);
	r |= OPT(x->cmd_saa, x->associated_identities);
	r |= OPTN(x->cmd_saa, x->supported_features);
	/* §6.1.5 LIR */
	r |= OPT(x->cmd_lir, x->originating_request);
	r |= REQ(x->cmd_lir, x->public_identity);
	r |= OPT(x->cmd_lir, x->user_authorization_type);
	r |= OPT(x->cmd_lir, x->session_priority);
	r |= OPTN(x->cmd_lir, x->supported_features);
	/* §6.1.6 LIA */
	r |= OPT(x->cmd_lia, x->server_name);
	r |= OPT(x->cmd_lia, x->server_capabilities);
	r |= OPT(x->cmd_lia, x->wildcarded_public_identity);
	r |= OPT(x->cmd_lia, x->lia_flags);
	r |= OPTN(x->cmd_lia, x->supported_features);
	/* §6.1.7 MAR */
	r |= REQ(x->cmd_mar, x->user_name);
	r |= REQ(x->cmd_mar, x->public_identity);
	r |= REQ(x->cmd_mar, x->sip_number_auth_items);
	r |= REQ(x->cmd_mar, x->sip_auth_data_item);
	r |= REQ(x->cmd_mar, x->server_name);
	r |= OPTN(x->cmd_mar, x->supported_features);
	/* §6.1.8 MAA */
	r |= OPT(x->cmd_maa, x->user_name);
	r |= OPT(x->cmd_maa, x->public_identity);
	r |= OPT(x->cmd_maa, x->sip_number_auth_items);
	r |= OPTN(x->cmd_maa, x->sip_auth_data_item);
	r |= OPTN(x->cmd_maa, x->supported_features);
	/* §6.1.9 RTR */
	r |= REQ(x->cmd_rtr, x->destination_host);
	r |= REQ(x->cmd_rtr, x->user_name);
	r |= OPT(x->cmd_rtr, x->associated_identities);
	r |= OPTN(x->cmd_rtr, x->public_identity);
	r |= REQ(x->cmd_rtr, x->deregistration_reason);
	r |= OPTN(x->cmd_rtr, x->supported_features);
	/* §6.1.10 RTA */
	r |= OPT(x->cmd_rta, x->associated_identities);
	r |= OPTN(x->cmd_rta, x->supported_features);
	/* §6.1.11 PPR */
	r |= REQ(x->cmd_ppr, x->destination_host);
	r |= REQ(x->cmd_ppr, x->user_name);
	r |= OPT(x->cmd_ppr, x->user_data);
	r |= OPT(x->cmd_ppr, x->charging_information);
	r |= OPTN(x->cmd_ppr, x->supported_features);
	/* §6.1.12 PPA */
	r |= OPTN(x->cmd_ppa, x->supported_features);
	return r ? IMS_EDIAMETER : 0;
}

int cx_dict_init(void)
{
	static int done;
	if (done)
		return 0;
	struct dictionary *d = fd_g_config->cnf_dict;
	vendor_id_t vid = CX_VENDOR_3GPP;
	if (fd_dict_search(d, DICT_VENDOR, VENDOR_BY_ID, &vid, &cx_dict.vendor_3gpp, ENOENT) ||
	    !cx_dict.vendor_3gpp) {
		struct dict_vendor_data vd = { .vendor_id = vid, .vendor_name = "3GPP" };
		if (fd_dict_new(d, DICT_VENDOR, &vd, NULL, &cx_dict.vendor_3gpp)) {
			LOG_ERROR("dia", "dict.vendor_failed id=%u", vid);
			return IMS_EDIAMETER;
		}
	}
	application_id_t aid = CX_APP_ID;
	if (fd_dict_search(d, DICT_APPLICATION, APPLICATION_BY_ID, &aid, &cx_dict.app_cx, ENOENT) ||
	    !cx_dict.app_cx) {
		struct dict_application_data ad = { .application_id = aid,
						    .application_name = "3GPP Cx" };
		if (fd_dict_new(d, DICT_APPLICATION, &ad, cx_dict.vendor_3gpp, &cx_dict.app_cx)) {
			LOG_ERROR("dia", "dict.app_failed id=%u", aid);
			return IMS_EDIAMETER;
		}
	}
	int ret = define_avps();
	if (!ret)
		ret = define_groups();
	if (!ret)
		ret = define_commands();
	if (!ret)
		done = 1;
	return ret;
}
