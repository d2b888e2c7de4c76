/* Cx/Dx dictionary: the application, commands and AVPs of TS 29.229,
 * defined once in freeDiameter's global dictionary and resolved into one
 * struct of handles (never searched again on the message path).
 *
 * The Debian freeDiameter 1.2.1 ships no dict_cxdx extension (dict_dcca_3gpp
 * carries some of the AVPs but neither the application nor the commands),
 * so we define everything here. An object already present (because an
 * extension defined it) is reused instead of defined twice. */
#ifndef CX_DICT_H
#define CX_DICT_H

#include <stdint.h>

struct dict_object;

/* TS 29.229 §5.1 / §6.1 */
#define CX_APP_ID      16777216u
#define CX_VENDOR_3GPP 10415u

/* TS 29.229 §6.1: command codes */
enum {
	CX_CMD_UAR = 300, /* User-Authorization */
	CX_CMD_SAR = 301, /* Server-Assignment */
	CX_CMD_LIR = 302, /* Location-Info */
	CX_CMD_MAR = 303, /* Multimedia-Auth */
	CX_CMD_RTR = 304, /* Registration-Termination */
	CX_CMD_PPR = 305, /* Push-Profile */
};

/* TS 29.229 §6.2.1 / §6.2.2 Experimental-Result-Code values (vendor 10415) */
enum {
	CX_DIAMETER_FIRST_REGISTRATION = 2001,
	CX_DIAMETER_SUBSEQUENT_REGISTRATION = 2002,
	CX_DIAMETER_UNREGISTERED_SERVICE = 2003,
	CX_DIAMETER_SUCCESS_SERVER_NAME_NOT_STORED = 2004,
	CX_DIAMETER_ERROR_USER_UNKNOWN = 5001,
	CX_DIAMETER_ERROR_IDENTITIES_DONT_MATCH = 5002,
	CX_DIAMETER_ERROR_IDENTITY_NOT_REGISTERED = 5003,
	CX_DIAMETER_ERROR_ROAMING_NOT_ALLOWED = 5004,
	CX_DIAMETER_ERROR_IDENTITY_ALREADY_REGISTERED = 5005,
	CX_DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED = 5006,
	CX_DIAMETER_ERROR_IN_ASSIGNMENT_TYPE = 5007,
	CX_DIAMETER_ERROR_TOO_MUCH_DATA = 5008,
	CX_DIAMETER_ERROR_NOT_SUPPORTED_USER_DATA = 5009,
	CX_DIAMETER_ERROR_FEATURE_UNSUPPORTED = 5011,
	CX_DIAMETER_ERROR_SERVING_NODE_FEATURE_UNSUPPORTED = 5012,
};

/* RFC 6733 §7.1 Result-Code values we use */
enum {
	CX_DIAMETER_SUCCESS = 2001,
	CX_DIAMETER_UNABLE_TO_DELIVER = 3002,
	CX_DIAMETER_TOO_BUSY = 3004,
	CX_DIAMETER_AUTHORIZATION_REJECTED = 5003,
	CX_DIAMETER_INVALID_AVP_VALUE = 5004,
	CX_DIAMETER_MISSING_AVP = 5005,
	CX_DIAMETER_UNABLE_TO_COMPLY = 5012,
};

/* TS 29.229 §6.3.15 Server-Assignment-Type */
typedef enum {
	CX_SAT_NO_ASSIGNMENT = 0,
	CX_SAT_REGISTRATION = 1,
	CX_SAT_RE_REGISTRATION = 2,
	CX_SAT_UNREGISTERED_USER = 3,
	CX_SAT_TIMEOUT_DEREGISTRATION = 4,
	CX_SAT_USER_DEREGISTRATION = 5,
	CX_SAT_TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME = 6,
	CX_SAT_USER_DEREGISTRATION_STORE_SERVER_NAME = 7,
	CX_SAT_ADMINISTRATIVE_DEREGISTRATION = 8,
	CX_SAT_AUTHENTICATION_FAILURE = 9,
	CX_SAT_AUTHENTICATION_TIMEOUT = 10,
	CX_SAT_DEREGISTRATION_TOO_MUCH_DATA = 11,
	CX_SAT_AAA_USER_DATA_REQUEST = 12,
	CX_SAT_PGW_UPDATE = 13,
	CX_SAT_RESTORATION = 14,
} cx_sat_t;

/* TS 29.229 §6.3.24 User-Authorization-Type */
typedef enum {
	CX_UAT_REGISTRATION = 0,
	CX_UAT_DE_REGISTRATION = 1,
	CX_UAT_REGISTRATION_AND_CAPABILITIES = 2,
} cx_uat_t;

/* TS 29.229 §6.3.17 Reason-Code */
typedef enum {
	CX_REASON_PERMANENT_TERMINATION = 0,
	CX_REASON_NEW_SERVER_ASSIGNED = 1,
	CX_REASON_SERVER_CHANGE = 2,
	CX_REASON_REMOVE_SCSCF = 3,
} cx_reason_code_t;

/* TS 29.229 §6.3.26 User-Data-Already-Available */
enum {
	CX_USER_DATA_NOT_AVAILABLE = 0,
	CX_USER_DATA_ALREADY_AVAILABLE = 1,
};

/* TS 29.229 §6.3.44 UAR-Flags bit 0 */
#define CX_UAR_FLAG_EMERGENCY_REGISTRATION 0x1u

/* Every handle, resolved once by cx_dict_init(). */
typedef struct cx_dict {
	struct dict_object *vendor_3gpp, *app_cx;
	struct dict_object *cmd_uar, *cmd_uaa, *cmd_sar, *cmd_saa, *cmd_lir,
		*cmd_lia, *cmd_mar, *cmd_maa, *cmd_rtr, *cmd_rta, *cmd_ppr,
		*cmd_ppa;
	/* RFC 6733 base AVPs */
	struct dict_object *session_id, *origin_host, *origin_realm,
		*destination_host, *destination_realm, *auth_session_state,
		*vendor_specific_application_id, *vendor_id,
		*auth_application_id, *acct_application_id, *result_code,
		*experimental_result, *experimental_result_code, *user_name,
		*failed_avp, *error_message, *proxy_info, *route_record;
	/* RFC 4740 / RFC 4590 Digest AVPs used in SIP-Digest-Authenticate */
	struct dict_object *digest_realm, *digest_qop, *digest_algorithm,
		*digest_ha1;
	/* TS 29.229 §6.3 */
	struct dict_object *visited_network_identifier, *public_identity,
		*server_name, *server_capabilities, *mandatory_capability,
		*optional_capability, *user_data, *sip_number_auth_items,
		*sip_authentication_scheme, *sip_authenticate,
		*sip_authorization, *sip_authentication_context,
		*sip_auth_data_item, *sip_item_number,
		*server_assignment_type, *deregistration_reason, *reason_code,
		*reason_info, *charging_information, *user_authorization_type,
		*user_data_already_available, *confidentiality_key,
		*integrity_key, *supported_features, *feature_list_id,
		*feature_list, *associated_identities, *originating_request,
		*wildcarded_public_identity, *sip_digest_authenticate,
		*uar_flags, *lia_flags, *sar_flags, *session_priority;
} cx_dict_t;

/* The handles; valid after cx_dict_init() returned 0. */
extern cx_dict_t cx_dict;

/* Defines (or finds) every Cx object in fd_g_config->cnf_dict and fills
 * cx_dict. Needs fd_core_initialize() first. Idempotent.
 * Returns 0 or IMS_EDIAMETER (the failing object is logged). */
int cx_dict_init(void);

#endif
