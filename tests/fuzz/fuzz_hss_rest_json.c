/* libFuzzer target: the HSS REST subscriber JSON validation
 * (hss_json_sub_parse). Whatever parses must dump, parse again and dump
 * to the same JSON, and build a User-Data document. Touches no disk. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hss-store.h"
#include "json-sub.h"
#include "userdata-build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[300];
	hss_sub_t *sub = NULL, *again = NULL;
	if (hss_json_sub_parse((const char *)data, size, &sub, err, sizeof(err)) != 0)
		return 0;
	json_t *j1 = hss_json_sub_dump(sub, 1);
	if (j1 == NULL)
		abort();
	char *text = json_dumps(j1, JSON_COMPACT);
	if (text == NULL || hss_json_sub_parse(text, strlen(text), &again, err, sizeof(err)) != 0)
		abort(); /* our own output must be valid input */
	json_t *j2 = hss_json_sub_dump(again, 1);
	if (!json_equal(j1, j2))
		abort();
	/* the public view never carries keys */
	json_t *pub = hss_json_sub_dump(sub, 0);
	json_t *auth = json_object_get(pub, "auth");
	if (json_object_get(auth, "k") || json_object_get(auth, "opc") || json_object_get(auth, "password"))
		abort();
	char *xml = NULL;
	if (hss_userdata_build(sub, sub->impus[0].uri, &xml) != 0)
		abort();
	free(xml);
	json_decref(pub);
	json_decref(j2);
	json_decref(j1);
	free(text);
	hss_sub_free(again);
	hss_sub_free(sub);
	return 0;
}
