/* The P-CSCF's own reg-event subscriptions (RFC 6665 §4.1.3, RFC 3680):
 * the dialogs it created with SUBSCRIBE, by Call-ID. A NOTIFY is only
 * believed when it belongs to one of them; anything else gets 481, so a
 * UE cannot forge a "terminated" NOTIFY to de-register someone else.
 * Thread-safe (one mutex). Time is passed in (monotonic seconds). */
#ifndef PCSCF_REGEVENT_SUBS_H
#define PCSCF_REGEVENT_SUBS_H

#include <stdint.h>

#include "base/ims_str.h"

typedef struct pcscf_subs pcscf_subs_t;

/* Creates an empty table; NULL on out-of-memory. */
pcscf_subs_t *pcscf_subs_create(void);
/* Frees the table. NULL is fine. */
void pcscf_subs_destroy(pcscf_subs_t *s);

/* Records a subscription dialog (call_id and impu are copied). A Call-ID
 * already present is refreshed. Returns 0, IMS_EINVAL (empty or too long),
 * IMS_ENOMEM. */
int pcscf_subs_add(pcscf_subs_t *s, ims_str_t call_id, ims_str_t impu, int64_t expires_at);

/* 1 when the Call-ID is a live subscription of ours (expires_at > now). */
int pcscf_subs_has(pcscf_subs_t *s, ims_str_t call_id, int64_t now);

/* Forgets one subscription. Returns 0 or IMS_ENOENT. */
int pcscf_subs_remove(pcscf_subs_t *s, ims_str_t call_id);

/* Forgets the subscriptions with expires_at <= now; returns how many. */
int pcscf_subs_expire(pcscf_subs_t *s, int64_t now);

/* 1 when a live subscription exists for this public identity (compared
 * as written, case-insensitively: we wrote it ourselves). */
int pcscf_subs_has_impu(pcscf_subs_t *s, ims_str_t impu, int64_t now);

/* Sets a subscription's expiry (e.g. to what the notifier granted).
 * Returns 0 or IMS_ENOENT. */
int pcscf_subs_set_expiry(pcscf_subs_t *s, ims_str_t call_id, int64_t expires_at);

/* Number of subscriptions held. */
unsigned pcscf_subs_count(pcscf_subs_t *s);

#endif
