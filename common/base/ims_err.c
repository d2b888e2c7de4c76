#include "base/ims_err.h"

const char *ims_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
#define X(name, num, text) \
	case IMS_##name:   \
		return text;
		IMS_ERRNO_MAP(X)
#undef X
	default:
		return "unknown error";
	}
}
