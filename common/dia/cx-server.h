/* Cx server side: one handler per request command (the HSS registers
 * UAR/MAR/SAR/LIR, the S-CSCF RTR/PPR).
 *
 * For each received request dia/ decodes it (cx_req_decode), answers
 * DIAMETER_MISSING_AVP / DIAMETER_INVALID_AVP_VALUE with Failed-AVP itself
 * when the request is malformed, and otherwise calls the handler, which
 * fills the answer struct; dia/ then encodes and sends the answer. Every
 * request thus gets an answer (a handler that sets no code answers
 * DIAMETER_UNABLE_TO_COMPLY, and so does a request whose answer could not
 * be built, e.g. out of memory). freeDiameter itself answers requests that
 * break the dictionary (unknown mandatory AVP: DIAMETER_AVP_UNSUPPORTED;
 * bad length: DIAMETER_INVALID_AVP_LENGTH).
 *
 * Threading: handlers run on freeDiameter's dispatch threads, several at
 * once (AppServThreads, cx_core_cfg_t.app_threads, 4 by default): they
 * must be thread-safe. A deferred answer (cx_server_defer below) is
 * encoded and sent on the thread that resumes it. */
#ifndef CX_SERVER_H
#define CX_SERVER_H

#include "dia/cx-msg.h"

/* req and every view in it live until the handler returns. Strings put in
 * ans must live until then too: allocate them in `arena` (freed after the
 * answer is sent). */
typedef void (*cx_handler_t)(void *arg, const cx_req_t *req, cx_answer_t *ans,
			     ims_arena_t *arena);

/* A handler whose answer waits for something slower (the HSS store's
 * group commit) defers it: it calls cx_server_defer(ans) and returns at
 * once, leaving the dispatch thread free; req, ans and the arena stay valid
 * until it calls cx_server_resume() with the handle, exactly once and from
 * any thread, after filling ans. dia/ then encodes and sends ans as it is.
 * Through cx_server_process (tests) the call waits for the resume.
 * cx_server_defer returns NULL when the handler was not called by dia/
 * (a unit test calling it directly): the handler answers at once then. */
typedef struct cx_deferred cx_deferred_t;
cx_deferred_t *cx_server_defer(cx_answer_t *ans);
void cx_server_resume(cx_deferred_t *d);

/* Registers fn for the request command cmd (CX_CMD_UAR ...). Call after
 * cx_core_start (or before: freeDiameter queues nothing until started).
 * Returns 0, IMS_EINVAL (unknown command), IMS_EEXIST (already
 * registered), IMS_EDIAMETER. */
int cx_server_register(uint32_t cmd, cx_handler_t fn, void *arg);

/* Unregisters every handler (call before cx_core_stop). */
void cx_server_unregister_all(void);

/* Runs the server path on a request in memory, without the network:
 * decodes *req_msg, calls the registered handler, and replaces *req_msg by
 * the answer (the caller frees it). Used by tests and by the dispatcher.
 * Returns 0 or IMS_EINVAL (no handler) / IMS_ENOMEM / IMS_EDIAMETER. */
int cx_server_process(struct msg **req_msg);

#endif
