/* IMSSubscription XML (TS 29.228 Annex D, schema CxDataType_Rel7.xsd),
 * built with the libxml2 tree API so every text is escaped. */
#include "userdata-build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "base/ims_err.h"

/* Adds <name>text</name> under parent; NULL on ENOMEM. */
static xmlNodePtr child(xmlNodePtr parent, const char *name, const char *text)
{
	return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)text);
}

static xmlNodePtr child_int(xmlNodePtr parent, const char *name, int v)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%d", v);
	return child(parent, name, buf);
}

/* TS 29.228 Annex B.2.2 tSePoTri: ConditionNegated, Group, then one of
 * RequestURI | Method | SIPHeader | SessionCase | SessionDescription. */
static int add_spt(xmlNodePtr tp, const hss_spt_t *s)
{
	xmlNodePtr spt = child(tp, "SPT", NULL), n = NULL;
	if (spt == NULL || !child_int(spt, "ConditionNegated", s->negated ? 1 : 0) ||
	    !child_int(spt, "Group", s->group))
		return IMS_ENOMEM;
	switch (s->kind) {
	case HSS_SPT_REQUEST_URI:
		n = child(spt, "RequestURI", s->value);
		break;
	case HSS_SPT_METHOD:
		n = child(spt, "Method", s->value);
		/* TS 29.228 Annex B tSePoTriExtension: RegistrationType narrows
		 * a REGISTER trigger */
		if (n && s->reg_types) {
			xmlNodePtr ext = child(spt, "Extension", NULL);
			for (int k = 0; ext && k < 3; k++)
				if ((s->reg_types & (1u << k)) && !child_int(ext, "RegistrationType", k))
					return IMS_ENOMEM;
			if (!ext)
				return IMS_ENOMEM;
		}
		break;
	case HSS_SPT_SESSION_CASE:
		/* 0..3 in Rel-7; 4 (ORIGINATING_CDIV) was added to
		 * tDirectionOfRequest in Rel-8 and is sent as is. */
		n = child_int(spt, "SessionCase", (int)s->session_case);
		break;
	case HSS_SPT_HEADER:
	case HSS_SPT_SDP_LINE: {
		int hdr = s->kind == HSS_SPT_HEADER;
		n = child(spt, hdr ? "SIPHeader" : "SessionDescription", NULL);
		if (n == NULL || !child(n, hdr ? "Header" : "Line", s->value))
			return IMS_ENOMEM;
		/* no Content: the condition is the presence of the header/line */
		if (s->content != NULL && !child(n, "Content", s->content))
			return IMS_ENOMEM;
		break;
	}
	}
	return n ? 0 : IMS_ENOMEM;
}

static int add_ifc(xmlNodePtr sp, const hss_ifc_t *f)
{
	xmlNodePtr ifc = child(sp, "InitialFilterCriteria", NULL);
	if (ifc == NULL || !child_int(ifc, "Priority", f->priority))
		return IMS_ENOMEM;
	/* Annex B.2.2: no TriggerPoint = the iFC always matches */
	if (f->has_trigger) {
		xmlNodePtr tp = child(ifc, "TriggerPoint", NULL);
		if (tp == NULL || !child_int(tp, "ConditionTypeCNF", f->cnf ? 1 : 0))
			return IMS_ENOMEM;
		for (unsigned i = 0; i < f->n_spt; i++) {
			int rc = add_spt(tp, &f->spt[i]);
			if (rc != 0)
				return rc;
		}
	}
	xmlNodePtr as = child(ifc, "ApplicationServer", NULL);
	if (as == NULL || !child(as, "ServerName", f->server_name) ||
	    !child_int(as, "DefaultHandling", (int)f->default_handling))
		return IMS_ENOMEM;
	if (f->service_info != NULL && f->service_info[0] != '\0' &&
	    !child(as, "ServiceInfo", f->service_info))
		return IMS_ENOMEM;
	/* TS 29.228 Rel-9 tApplicationServerExtension; the Rel-7 schema's
	 * tExtension takes them as lax content. TS 24.229 §5.4.1.7: include
	 * the REGISTER request / response in the third-party REGISTER body. */
	if (f->include_register_request || f->include_register_response) {
		xmlNodePtr ext = child(as, "Extension", NULL);
		if (ext == NULL || (f->include_register_request && !child(ext, "IncludeRegisterRequest", NULL)) ||
		    (f->include_register_response && !child(ext, "IncludeRegisterResponse", NULL)))
			return IMS_ENOMEM;
	}
	if (f->profile_part_indicator != HSS_PPI_NONE &&
	    !child_int(ifc, "ProfilePartIndicator", (int)f->profile_part_indicator))
		return IMS_ENOMEM;
	return 0;
}

int hss_userdata_build(const hss_sub_t *sub, const char *impu_requested, char **xml_out)
{
	int rc = IMS_ENOMEM;
	xmlChar *mem = NULL;
	int len = 0;

	*xml_out = NULL;
	if (sub == NULL || sub->impi == NULL || sub->n_impus == 0)
		return IMS_EINVAL;
	if (impu_requested != NULL) {
		unsigned i;
		for (i = 0; i < sub->n_impus; i++)
			if (strcmp(sub->impus[i].uri, impu_requested) == 0)
				break;
		if (i == sub->n_impus)
			return IMS_ENOENT;
	}
	xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
	if (doc == NULL)
		return IMS_ENOMEM;
	xmlNodePtr root = xmlNewNode(NULL, (const xmlChar *)"IMSSubscription");
	if (root == NULL)
		goto out;
	xmlDocSetRootElement(doc, root);
	if (!child(root, "PrivateID", sub->impi))
		goto out;
	/* One ServiceProfile: every identity of the subscriber is in one
	 * implicit registration set sharing one profile (TS 29.228 §6.6.1). */
	xmlNodePtr sp = child(root, "ServiceProfile", NULL);
	if (sp == NULL)
		goto out;
	for (unsigned i = 0; i < sub->n_impus; i++) {
		xmlNodePtr pi = child(sp, "PublicIdentity", NULL);
		/* tPublicIdentity order: BarringIndication before Identity */
		if (pi == NULL || (sub->impus[i].barred && !child(pi, "BarringIndication", "1")) ||
		    !child(pi, "Identity", sub->impus[i].uri))
			goto out;
	}
	for (unsigned i = 0; i < sub->n_ifcs; i++)
		if ((rc = add_ifc(sp, &sub->ifcs[i])) != 0)
			goto out;
	rc = IMS_ENOMEM;
	/* Our private extension (lax content of tIMSSubscription/Extension):
	 * the S-CSCF's forking policy, sent only when it is not the default
	 * parallel forking. Standard readers skip it. */
	if (sub->hunting == HSS_HUNT_SEQUENTIAL) {
		xmlNodePtr ext = child(root, "Extension", NULL);
		if (ext == NULL || !child(ext, "HuntingPolicy", "sequential"))
			goto out;
	}
	xmlDocDumpMemoryEnc(doc, &mem, &len, "UTF-8");
	if (mem == NULL || len <= 0)
		goto out;
	char *s = malloc((size_t)len + 1);
	if (s == NULL)
		goto out;
	memcpy(s, mem, (size_t)len);
	s[len] = '\0';
	*xml_out = s;
	rc = 0;
out:
	xmlFree(mem);
	xmlFreeDoc(doc);
	return rc;
}
