/* ims-pcscf: the Proxy-CSCF (TS 24.229 §5.2) on the shared main. */
#include "app/ims_app.h"
#include "context.h"

int main(int argc, char **argv)
{
	static const ims_app_desc_t d = {
		.name = "ims-pcscf",
		.summary = "IMS Proxy-CSCF (TS 24.229 5.2): the UE's first hop",
		.default_config = "/etc/ims/pcscf.yaml",
		.configure = pcscf_configure,
		.start = pcscf_start,
		.stop = pcscf_stop,
		.destroy = pcscf_destroy,
		.default_http_port = 9101,
		.known_keys = pcscf_known_keys,
	};
	return ims_app_main(argc, argv, &d);
}
