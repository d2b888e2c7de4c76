/* reginfo+xml reading with libxml2: see regevent-parse.h. */
#include "regevent-parse.h"

#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "base/ims_err.h"

#define REGINFO_NS "urn:ietf:params:xml:ns:reginfo"

static int is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0 &&
	       n->ns && n->ns->href && strcmp((const char *)n->ns->href, REGINFO_NS) == 0;
}

int pcscf_reginfo_parse(const char *xml, size_t len, pcscf_reginfo_fn fn, void *ud)
{
	if (!xml || len == 0 || len > 1024 * 1024)
		return IMS_EPARSE;
	/* No network access, no entity expansion (the body comes from a peer). */
	xmlDoc *doc = xmlReadMemory(xml, (int)len, "reginfo.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return IMS_EPARSE;
	int n = 0;
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!root || !is_elem(root, "reginfo")) {
		xmlFreeDoc(doc);
		return IMS_EPARSE;
	}
	for (xmlNode *c = root->children; c; c = c->next) {
		if (!is_elem(c, "registration"))
			continue;
		xmlChar *aor = xmlGetProp(c, (const xmlChar *)"aor");
		xmlChar *state = xmlGetProp(c, (const xmlChar *)"state");
		if (aor && state)
			fn(ud, ims_str_cstr((const char *)aor), ims_str_cstr((const char *)state));
		n += aor && state;
		xmlFree(aor);
		xmlFree(state);
	}
	xmlFreeDoc(doc);
	return n;
}
