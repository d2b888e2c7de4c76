/* ims-icscf: the Interrogating-CSCF (TS 24.229 §5.3) on the shared main. */
#include "app/ims_app.h"
#include "context.h"

int main(int argc, char **argv)
{
	static const ims_app_desc_t d = {
		.name = "ims-icscf",
		.summary = "IMS Interrogating-CSCF (TS 24.229 5.3): the home network's entry, Cx client",
		.default_config = "/etc/ims/icscf.yaml",
		.configure = icscf_configure,
		.start = icscf_start,
		.stop = icscf_stop,
		.destroy = icscf_destroy,
		.default_http_port = 9102,
		.ready = icscf_ready,
		.known_keys = icscf_known_keys,
	};
	return ims_app_main(argc, argv, &d);
}
