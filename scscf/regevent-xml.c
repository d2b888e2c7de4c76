/* application/reginfo+xml documents (RFC 3680 §5), built with libxml2. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "base/ims_err.h"
#include "regevent.h"

static int binding_live(const scscf_binding_t *b, int64_t now)
{
	switch (b->event) {
	case SCSCF_CEV_EXPIRED:
	case SCSCF_CEV_DEACTIVATED:
	case SCSCF_CEV_UNREGISTERED:
	case SCSCF_CEV_REJECTED:
	case SCSCF_CEV_PROBATION:
		return 0;
	default:
		return b->expires > now;
	}
}

/* A peer's string as an XML attribute or text. XML 1.0 §2.2 has no
 * character for NUL and most C0 controls (not even as &#7;), and libxml2
 * passes invalid UTF-8 through: the values here (URIs, Call-ID, AOR) are
 * ASCII by RFC 3261 §25.1, so any other byte becomes '?' and the NOTIFY
 * body stays well-formed whatever the UE put in its REGISTER (found by
 * fuzz_scscf_reg). */
static xmlChar *xs(ims_str_t v, char *tmp, size_t cap)
{
	size_t n = v.len < cap - 1 ? v.len : cap - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v.s[i];
		tmp[i] = (ch >= 0x20 && ch < 0x7f) || ch == '\t' ? (char)ch : '?';
	}
	tmp[n] = '\0';
	return BAD_CAST tmp;
}

int scscf_reginfo_build(uint32_t version, int full, const ims_str_t *impus, size_t n_impus,
			const scscf_binding_t *b, size_t nb, int64_t now, char **xml, size_t *len)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root, reg, c;
	xmlChar *mem = NULL;
	char num[32], tmp[1024];
	int size = 0, live = 0, rc = IMS_ENOMEM;

	*xml = NULL;
	*len = 0;
	if (!doc)
		return IMS_ENOMEM;
	root = xmlNewNode(NULL, BAD_CAST "reginfo");
	if (!root)
		goto out;
	xmlDocSetRootElement(doc, root);
	if (!xmlNewNs(root, BAD_CAST "urn:ietf:params:xml:ns:reginfo", NULL))
		goto out;
	snprintf(num, sizeof(num), "%" PRIu32, version);
	xmlNewProp(root, BAD_CAST "version", BAD_CAST num);
	xmlNewProp(root, BAD_CAST "state", BAD_CAST(full ? "full" : "partial"));
	for (size_t i = 0; i < nb; i++)
		live += binding_live(&b[i], now);

	/* TS 24.229 §5.4.2.1.2: one <registration> per public identity of
	 * the implicit registration set, all sharing the same contacts */
	for (size_t r = 0; r < n_impus; r++) {
		reg = xmlNewChild(root, NULL, BAD_CAST "registration", NULL);
		if (!reg)
			goto out;
		xmlNewProp(reg, BAD_CAST "aor", xs(impus[r], tmp, sizeof(tmp)));
		/* a stable id per AOR: the same registration keeps its id
		 * from one NOTIFY to the next (RFC 3680 §5.3) */
		snprintf(num, sizeof(num), "r%08" PRIx32, ims_str_hash(impus[r]));
		xmlNewProp(reg, BAD_CAST "id", BAD_CAST num);
		xmlNewProp(reg, BAD_CAST "state", BAD_CAST(live ? "active" : "terminated"));
		for (size_t i = 0; i < nb; i++) {
			int on = binding_live(&b[i], now);
			if (full && !on)
				continue;
			if (!full && b[i].event == SCSCF_CEV_NONE)
				continue; /* partial: only what changed */
			c = xmlNewChild(reg, NULL, BAD_CAST "contact", NULL);
			if (!c)
				goto out;
			snprintf(num, sizeof(num), "c%" PRIu64, b[i].id);
			xmlNewProp(c, BAD_CAST "id", BAD_CAST num);
			xmlNewProp(c, BAD_CAST "state", BAD_CAST(on ? "active" : "terminated"));
			xmlNewProp(c, BAD_CAST "event",
				   BAD_CAST(b[i].event == SCSCF_CEV_NONE
						    ? "registered"
						    : scscf_contact_event_name(b[i].event)));
			if (on) {
				snprintf(num, sizeof(num), "%lld", (long long)(b[i].expires - now));
				xmlNewProp(c, BAD_CAST "expires", BAD_CAST num);
			}
			if (b[i].q >= 0) {
				snprintf(num, sizeof(num), "%d.%03d", b[i].q / 1000, b[i].q % 1000);
				xmlNewProp(c, BAD_CAST "q", BAD_CAST num);
			}
			if (b[i].call_id.len)
				xmlNewProp(c, BAD_CAST "callid", xs(b[i].call_id, tmp, sizeof(tmp)));
			if (b[i].cseq) {
				snprintf(num, sizeof(num), "%" PRIu32, b[i].cseq);
				xmlNewProp(c, BAD_CAST "cseq", BAD_CAST num);
			}
			if (!xmlNewTextChild(c, NULL, BAD_CAST "uri", xs(b[i].uri, tmp, sizeof(tmp))))
				goto out;
			if (b[i].instance.len) {
				/* RFC 3680 §5.3 unknown-param carries +sip.instance (TS 24.229) */
				xmlNodePtr u = xmlNewTextChild(c, NULL, BAD_CAST "unknown-param",
							       xs(b[i].instance, tmp, sizeof(tmp)));
				if (u)
					xmlNewProp(u, BAD_CAST "name", BAD_CAST "+sip.instance");
			}
		}
	}
	xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	if (!mem || size <= 0)
		goto out;
	*xml = malloc((size_t)size + 1);
	if (!*xml)
		goto out;
	memcpy(*xml, mem, (size_t)size);
	(*xml)[size] = '\0';
	*len = (size_t)size;
	rc = 0;
out:
	if (mem)
		xmlFree(mem);
	xmlFreeDoc(doc);
	return rc;
}
