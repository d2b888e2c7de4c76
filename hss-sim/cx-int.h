/* Shared between the HSS's cx-*.c files only. */
#ifndef HSS_CX_INT_H
#define HSS_CX_INT_H

#include <pthread.h>

#include "base/ims_str.h"

typedef struct hss_cx_host {
	struct hss_cx_host *next; /* same bucket */
	char impi[256];
	char host[256]; /* Origin-Host of the serving S-CSCF's SAR */
} hss_cx_host_t;

/* ctx->cx */
typedef struct hss_cx {
	pthread_mutex_t mu; /* guards hosts */
	hss_cx_host_t **hosts;   /* hash buckets by IMPI: one lookup per SAR/RTR */
	unsigned n_hosts, cap_hosts; /* entries, buckets (a power of two) */
	char default_scscf[256]; /* offered in Server-Capabilities */
	unsigned timeout_ms;     /* RTR/PPR answer timeout */
	int started;
} hss_cx_t;

int hss_cx__host_set(hss_cx_t *cx, const char *impi, ims_str_t host);
void hss_cx__host_forget(hss_cx_t *cx, const char *impi);
/* Frees every entry and the buckets (at stop). */
void hss_cx__hosts_free(hss_cx_t *cx);

#endif
