/* libFuzzer target: the P-CSCF's reading of reg-event NOTIFY bodies
 * (pcscf_reginfo_parse, RFC 3680 application/reginfo+xml from the
 * S-CSCF). The body comes from a peer: any bytes must end in a count or
 * IMS_EPARSE, never a crash, an entity expansion or a network fetch.
 *
 * Invariants (abort on failure): the result is IMS_EPARSE or the number
 * of callbacks made; every callback gets non-empty views of aor and state
 * that lie inside one NUL-terminated string. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "base/ims_err.h"
#include "log/ims_log.h"
#include "regevent-parse.h"

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

static void on_reg(void *ud, ims_str_t aor, ims_str_t state)
{
	int *calls = ud;
	(*calls)++;
	CHECK(aor.s && state.s);
	/* the views are C strings from libxml2: their length must agree */
	CHECK(strlen(aor.s) == aor.len && strlen(state.s) == state.len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ims_log_set_level(IMS_LOG_ERROR);
	xmlInitParser();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int calls = 0;
	int n = pcscf_reginfo_parse((const char *)data, size, on_reg, &calls);
	CHECK(n == IMS_EPARSE || (n >= 0 && n == calls));
	return 0;
}
