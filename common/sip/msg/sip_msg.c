/* Temporary: the message layer entry points, filled in by the following commits. */
#include "sip/msg/sip_msg.h"
#include "base/ims_err.h"

int sip_msg_parse(const char *buf, size_t len, ims_arena_t *a, sip_msg_t **out, sip_parse_err_t *err)
{ (void)buf; (void)len; (void)a; *out = NULL; if (err) { err->code = IMS_EPARSE; err->line = 1; err->col = 1; err->hdr = SIP_HDR_OTHER; err->reason[0] = 0; } return IMS_EPARSE; }
int sip_msg_frame(const char *buf, size_t len, size_t max, size_t *skip, size_t *msg_len)
{ (void)buf; (void)len; (void)max; *skip = 0; *msg_len = 0; return IMS_EAGAIN; }
sip_hdr_id_t sip_hdr_id_from_name(ims_str_t name) { (void)name; return SIP_HDR_OTHER; }
const char *sip_hdr_name(sip_hdr_id_t id) { (void)id; return NULL; }
sip_method_t sip_method_from_str(ims_str_t m) { (void)m; return SIP_METHOD_OTHER; }
const char *sip_method_name(sip_method_t m) { (void)m; return NULL; }
const char *sip_reason_phrase(int code) { (void)code; return "Unknown"; }
sip_hdr_t *sip_msg_hdr(const sip_msg_t *m, sip_hdr_id_t id) { (void)m; (void)id; return NULL; }
sip_hdr_t *sip_hdr_next_same(const sip_hdr_t *h) { (void)h; return NULL; }
sip_hdr_t *sip_msg_hdr_by_name(const sip_msg_t *m, ims_str_t name) { (void)m; (void)name; return NULL; }
int sip_msg_next_value(const sip_msg_t *m, sip_hdr_id_t id, sip_val_iter_t *it, ims_str_t *value) { (void)m; (void)id; (void)it; (void)value; return 0; }
int sip_hdr_next_value(const sip_hdr_t *h, sip_val_iter_t *it, ims_str_t *value) { (void)h; (void)it; (void)value; return 0; }
const sip_uri_t *sip_msg_ruri(sip_msg_t *m) { (void)m; return NULL; }
int sip_uri_parse(ims_str_t in, ims_arena_t *a, sip_uri_t *out) { (void)in; (void)a; (void)out; return IMS_EPARSE; }
int sip_nameaddr_parse(ims_str_t in, ims_arena_t *a, sip_nameaddr_t *out) { (void)in; (void)a; (void)out; return IMS_EPARSE; }
int sip_via_parse(ims_str_t in, ims_arena_t *a, sip_via_t *out) { (void)in; (void)a; (void)out; return IMS_EPARSE; }
int sip_auth_parse(ims_str_t in, ims_arena_t *a, sip_auth_t *out) { (void)in; (void)a; (void)out; return IMS_EPARSE; }
int sip_param_find(const sip_param_t *list, const char *name, ims_str_t *value) { (void)list; (void)name; (void)value; return 0; }
int sip_params_find(ims_str_t raw, const char *name, ims_str_t *value) { (void)raw; (void)name; (void)value; return 0; }
int sip_uri_equal(const sip_uri_t *a, const sip_uri_t *b) { (void)a; (void)b; return 0; }
int sip_uri_aor(const sip_uri_t *u, ims_arena_t *a, ims_str_t *out) { (void)u; (void)a; (void)out; return IMS_EINVAL; }
sip_hdr_t *sip_msg_hdr_add(sip_msg_t *m, sip_hdr_id_t id, ims_str_t name, ims_str_t value, sip_hdr_pos_t pos) { (void)m; (void)id; (void)name; (void)value; (void)pos; return NULL; }
sip_hdr_t *sip_msg_hdr_addf(sip_msg_t *m, sip_hdr_id_t id, sip_hdr_pos_t pos, const char *fmt, ...) { (void)m; (void)id; (void)pos; (void)fmt; return NULL; }
void sip_msg_hdr_remove(sip_msg_t *m, sip_hdr_t *h) { (void)m; (void)h; }
int sip_msg_hdr_remove_all(sip_msg_t *m, sip_hdr_id_t id) { (void)m; (void)id; return 0; }
int sip_msg_hdr_set_value(sip_msg_t *m, sip_hdr_t *h, ims_str_t value) { (void)m; (void)h; (void)value; return IMS_ENOMEM; }
int sip_msg_remove_first_value(sip_msg_t *m, sip_hdr_id_t id) { (void)m; (void)id; return IMS_ENOENT; }
int sip_msg_set_ruri(sip_msg_t *m, ims_str_t uri) { (void)m; (void)uri; return IMS_ENOMEM; }
int sip_msg_set_body(sip_msg_t *m, ims_str_t ct, ims_str_t body) { (void)m; (void)ct; (void)body; return IMS_ENOMEM; }
int sip_msg_print(const sip_msg_t *m, char *out, size_t cap, size_t *len) { (void)m; (void)out; (void)cap; *len = 0; return IMS_ENOSPC; }
int sip_msg_print_arena(const sip_msg_t *m, ims_arena_t *a, ims_str_t *out) { (void)m; (void)a; (void)out; return IMS_ENOMEM; }
int sip_msg_new_request(ims_arena_t *a, ims_str_t method, ims_str_t ruri, sip_msg_t **out) { (void)a; (void)method; (void)ruri; *out = NULL; return IMS_ENOMEM; }
int sip_msg_new_response(ims_arena_t *a, const sip_msg_t *req, int code, ims_str_t reason, ims_str_t to_tag, sip_msg_t **out) { (void)a; (void)req; (void)code; (void)reason; (void)to_tag; *out = NULL; return IMS_ENOMEM; }
int sip_msg_clone(const sip_msg_t *m, ims_arena_t *a, sip_msg_t **out) { (void)m; (void)a; *out = NULL; return IMS_ENOMEM; }
