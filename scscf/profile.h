/* The served user's profile as the HSS sends it in SAA User-Data: the
 * TS 29.228 Annex B/E "IMSSubscription" document (CxDataType_Rel7.xsd).
 *
 * One scscf_profile_t owns one arena; every string, array and compiled
 * trigger point lives there (regexes are released by scscf_profile_free).
 * After scscf_profile_load() a profile is read-only, so any number of SIP
 * worker threads may evaluate its iFCs at once without locking.
 */
#ifndef SCSCF_PROFILE_H
#define SCSCF_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/ims_arena.h"
#include "base/ims_str.h"

/* Upper bounds on what one User-Data may carry. They keep evaluation on the
 * stack (one result slot per SPT) and bound the work an HSS can cause. */
#define SCSCF_PROFILE_MAX_SP 32      /* ServiceProfile elements */
#define SCSCF_PROFILE_MAX_IMPU 128   /* PublicIdentity per ServiceProfile */
#define SCSCF_PROFILE_MAX_IFC 128    /* InitialFilterCriteria per ServiceProfile */
#define SCSCF_IFC_MAX_SPT 128        /* SPT per TriggerPoint */
#define SCSCF_IFC_MAX_GROUPS_PER_SPT 16
#define SCSCF_PROFILE_MAX_XML (256 * 1024)

/* TS 29.228 Annex B.2.2 SessionCase (tDirectionOfRequest); 4 is the Rel-8
 * addition, accepted in a Rel-7 document as well. */
typedef enum scscf_session_case {
	SCSCF_SC_ORIGINATING = 0,
	SCSCF_SC_TERMINATING_REGISTERED = 1,
	SCSCF_SC_TERMINATING_UNREGISTERED = 2,
	SCSCF_SC_ORIGINATING_UNREGISTERED = 3,
	SCSCF_SC_ORIGINATING_CDIV = 4,
	SCSCF_SC__COUNT
} scscf_session_case_t;

typedef enum scscf_spt_kind {
	SCSCF_SPT_REQUEST_URI = 0, /* value: regex over the Request-URI */
	SCSCF_SPT_METHOD,          /* value: method name */
	SCSCF_SPT_SIP_HEADER,      /* value: header name; content: regex or absent (presence) */
	SCSCF_SPT_SESSION_CASE,    /* session_case */
	SCSCF_SPT_SESSION_DESC,    /* value: SDP line type ("m"); content: regex or absent */
} scscf_spt_kind_t;

/* TS 29.228 Annex B.2.3 tDefaultHandling. */
typedef enum scscf_default_handling {
	SCSCF_DH_SESSION_CONTINUED = 0,
	SCSCF_DH_SESSION_TERMINATED = 1,
} scscf_default_handling_t;

/* TS 29.228 tProfilePartIndicator; NONE = element absent (applies always). */
typedef enum scscf_ppi {
	SCSCF_PPI_NONE = -1,
	SCSCF_PPI_REGISTERED = 0,
	SCSCF_PPI_UNREGISTERED = 1,
} scscf_ppi_t;

/* TS 29.228 tRegistrationType bits (SPT Extension, for Method REGISTER). */
enum {
	SCSCF_REGTYPE_INITIAL = 1 << 0,
	SCSCF_REGTYPE_RE = 1 << 1,
	SCSCF_REGTYPE_DE = 1 << 2,
};

/* One Service Point Trigger. */
typedef struct scscf_spt {
	scscf_spt_kind_t kind;
	uint8_t negated;           /* ConditionNegated */
	uint8_t has_content;       /* SIPHeader/SessionDescription Content present */
	uint8_t reg_type_mask;     /* SCSCF_REGTYPE_* bits; 0 = any registration */
	scscf_session_case_t session_case;
	int hdr_id;                /* SIPHeader: sip_hdr_id_t of value (compile time) */
	int *groups;               /* Group values (an SPT may be in several) */
	unsigned n_groups;
	ims_str_t value;           /* NUL-terminated in the arena */
	ims_str_t content;         /* NUL-terminated in the arena */
	void *re_value;            /* compiled Request-URI regex (regex_t), ifc-eval */
	void *re_content;          /* compiled Content regex (regex_t), ifc-eval */
} scscf_spt_t;

/* The trigger point with its groups resolved at compile time. */
typedef struct scscf_trigger {
	uint8_t cnf;               /* ConditionTypeCNF: 1 CNF, 0 DNF */
	scscf_spt_t *spt;
	unsigned n_spt;
	/* Compiled by ifc-eval: distinct group ids and their members. Group g
	 * has SPT indexes members[group_start[g] .. group_start[g+1]). */
	unsigned n_groups;
	uint16_t *members;
	uint32_t *group_start;
} scscf_trigger_t;

typedef struct scscf_as {
	ims_str_t server_name;     /* SIP URI of the AS */
	scscf_default_handling_t default_handling;
	ims_str_t service_info;    /* empty when absent */
	uint8_t has_service_info;
	uint8_t include_register_request;  /* Rel-9 tApplicationServerExtension */
	uint8_t include_register_response;
} scscf_as_t;

typedef struct scscf_ifc {
	int priority;
	uint8_t has_trigger;       /* 0: no TriggerPoint, always matches */
	uint8_t invalid;           /* a regex did not compile: never matches (logged) */
	scscf_ppi_t ppi;
	scscf_trigger_t trigger;
	scscf_as_t as;
} scscf_ifc_t;

/* TS 29.228 tIdentityType. */
typedef enum scscf_identity_type {
	SCSCF_ID_PUBLIC_USER = 0,
	SCSCF_ID_DISTINCT_PSI = 1,
	SCSCF_ID_WILDCARDED_PSI = 2,
} scscf_identity_type_t;

typedef struct scscf_impu {
	ims_str_t identity;        /* sip:/tel: URI as sent */
	uint8_t barred;            /* BarringIndication */
	scscf_identity_type_t identity_type;
	ims_str_t wildcarded_psi;  /* empty unless given */
	ims_str_t display_name;    /* Rel-8 Extension DisplayName, empty unless given */
	void *re_wildcard;         /* compiled "!regex!" of a wildcarded PSI (ifc-eval) */
} scscf_impu_t;

typedef struct scscf_service_profile {
	scscf_impu_t *impus;
	unsigned n_impus;
	scscf_ifc_t *ifcs;         /* sorted by Priority, ascending (stable) */
	unsigned n_ifcs;
	int media_profile_id;      /* SubscribedMediaProfileId, -1 when absent */
} scscf_service_profile_t;

typedef struct scscf_profile {
	ims_arena_t *arena;
	ims_str_t private_id;
	scscf_service_profile_t *sps;
	unsigned n_sps;
	uint8_t compiled;
	/* Private extension of the HSS (IMSSubscription/Extension/HuntingPolicy,
	 * lax content of tIMSSubscription): 1 = "sequential" device hunting by
	 * q-value, 0 = parallel forking (default; hunt-plan.h). */
	uint8_t hunt_sequential;
} scscf_profile_t;

/* Parse error detail for logs: the element at fault and a short reason. */
typedef struct scscf_profile_err {
	char where[64];   /* e.g. "ServiceProfile[0]/InitialFilterCriteria[2]/SPT[1]" */
	char reason[96];
} scscf_profile_err_t;

/* Parses a User-Data document (bytes, not necessarily NUL-terminated)
 * into a new profile WITHOUT compiling its trigger points. The XML parser
 * runs without network access or entity expansion. iFCs are sorted by
 * Priority. Unknown elements (Extension, ##other) are ignored.
 * On success *out is owned by the caller (scscf_profile_free).
 * Errors: IMS_EPARSE (not XML, or a mandatory element missing or a value
 * out of range; err says which), IMS_ETOOBIG (a SCSCF_PROFILE_MAX_* bound
 * exceeded), IMS_ENOMEM. */
int scscf_profile_parse(const char *xml, size_t len, scscf_profile_t **out /* out */,
			scscf_profile_err_t *err /* out, may be NULL */);

/* scscf_profile_parse() followed by scscf_ifc_compile(): the form the
 * S-CSCF stores when SAA/PPR delivers User-Data. Same errors. */
int scscf_profile_load(const char *xml, size_t len, scscf_profile_t **out /* out */,
		       scscf_profile_err_t *err /* out, may be NULL */);

/* Releases compiled regexes and the arena. NULL is fine. */
void scscf_profile_free(scscf_profile_t *p);

/* Finds the public identity `uri` in the profile: an exact match first,
 * then (sip/sips/tel) URI equality (RFC 3261 §19.1.4), then the
 * wildcarded PSIs of a compiled profile (TS 23.003 §13.5: the part between
 * '!' delimiters is a regular expression, the rest literal).
 * Returns 1 with *sp / *impu (either out may be NULL) or 0. */
int scscf_profile_find_impu(const scscf_profile_t *p, ims_str_t uri,
			    const scscf_service_profile_t **sp /* out */,
			    const scscf_impu_t **impu /* out */);

/* "ORIGINATING", "TERMINATING_REGISTERED", ... (SPEC.md names); NULL when
 * out of range. */
const char *scscf_session_case_name(scscf_session_case_t sc);

#endif
