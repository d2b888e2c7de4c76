#include "sip/tp/sip_tp_cfg.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/ims_err.h"

int sip_tp_listen_from_cfg(ims_cfg_t *cfg, sip_tp_listen_t *out, size_t max, size_t *n_out,
			   long def_port, char *err, size_t errlen)
{
	char key[64];
	size_t n = 0;
	int nl = ims_cfg_list_len(cfg, "sip.listen");
	if (nl < 0)
		goto bad;
	for (int i = 0; i < (nl ? nl : 1); i++) {
		const char *addr = "127.0.0.1", *proto = "both", *adv = "";
		long port = def_port;
		if (nl) {
			snprintf(key, sizeof(key), "sip.listen[%d].addr", i);
			if (ims_cfg_str(cfg, key, "127.0.0.1", &addr) != 0)
				goto bad;
			snprintf(key, sizeof(key), "sip.listen[%d].port", i);
			if (ims_cfg_int(cfg, key, def_port, 1, 65535, &port) != 0)
				goto bad;
			snprintf(key, sizeof(key), "sip.listen[%d].advertise", i);
			if (ims_cfg_str(cfg, key, "", &adv) != 0)
				goto bad;
			snprintf(key, sizeof(key), "sip.listen[%d].proto", i);
			if (ims_cfg_str(cfg, key, "both", &proto) != 0)
				goto bad;
		}
		int udp = !strcasecmp(proto, "udp") || !strcasecmp(proto, "both");
		int tcp = !strcasecmp(proto, "tcp") || !strcasecmp(proto, "both");
		if (!udp && !tcp) {
			snprintf(err, errlen, "%s: \"%s\" is not udp, tcp or both", key, proto);
			return IMS_ECONFIG;
		}
		for (int t = 0; t < 2; t++) {
			if (!(t == 0 ? udp : tcp))
				continue;
			if (n >= max) {
				snprintf(err, errlen, "sip.listen: at most %zu listeners", max);
				return IMS_ECONFIG;
			}
			sip_tp_listen_t *l = &out[n++];
			memset(l, 0, sizeof(*l));
			if (snprintf(l->host, sizeof(l->host), "%s", addr) >= (int)sizeof(l->host)) {
				snprintf(err, errlen, "sip.listen[%d].addr: too long", i);
				return IMS_ECONFIG;
			}
			snprintf(l->advertise, sizeof(l->advertise), "%s", adv);
			l->port = (uint16_t)port;
			l->proto = t == 0 ? SIP_TP_UDP : SIP_TP_TCP;
		}
	}
	*n_out = n;
	return 0;
bad:
	snprintf(err, errlen, "%s", ims_cfg_error(cfg));
	return IMS_ECONFIG;
}
