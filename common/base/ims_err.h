/* Error codes: every function returns 0 or a negative IMS_E* value.
 * One table gives the codes and their text (ims_strerror). */
#ifndef IMS_ERR_H
#define IMS_ERR_H

#define IMS_ERRNO_MAP(X)                                   \
	X(ENOMEM, 1, "out of memory")                      \
	X(EINVAL, 2, "invalid argument or input")          \
	X(EPARSE, 3, "malformed message")                  \
	X(ENOENT, 4, "not found")                          \
	X(EEXIST, 5, "already exists")                     \
	X(ENOSPC, 6, "buffer too small")                   \
	X(EIO, 7, "input/output error")                    \
	X(ETIMEDOUT, 8, "timed out")                       \
	X(EAGAIN, 9, "try again")                          \
	X(ECONFIG, 10, "bad configuration")                \
	X(EUNREACH, 11, "destination unreachable")         \
	X(ETOOBIG, 12, "message too large")                \
	X(EAUTH, 13, "authentication failed")              \
	X(ESTATE, 14, "wrong state")                       \
	X(EDB, 15, "database error")                       \
	X(EDIAMETER, 16, "diameter error")

enum {
#define X(name, num, text) IMS_##name = -(num),
	IMS_ERRNO_MAP(X)
#undef X
};

/* Returns a static text for an IMS_E* code (or "success" for 0). */
const char *ims_strerror(int err);

#endif
