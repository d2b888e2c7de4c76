/* Guards in front of freeDiameter's own message handling: right after a
 * message is framed, and before freeDiameter routes, dispatches or answers
 * it, removes the input that makes libfdproto 1.2.1 give up.
 *
 * Known shapes, all in the top-level AVPs freeDiameter itself reads when
 * it dispatches a request or builds an answer to it (even the error
 * answer to a malformed request):
 *  - a Session-Id (code 263, vendor 0) sent with the V (vendor-specific)
 *    flag: the dictionary has no such AVP, it stays without a value and
 *    fd_msg_sess_get hits ASSERT(avp_value): the process aborts;
 *  - a Session-Id holding a NUL byte: fd_sess_fromsid_msg refuses it, the
 *    dispatch thread takes that as unrecoverable and the whole Diameter
 *    stack shuts down while the daemon keeps running without Cx;
 *  - a Proxy-Info (284) whose content is no AVP list, in a request
 *    freeDiameter answers itself (e.g. R and E bits both set): copying it
 *    into the answer fails, and the Routing-IN thread ends the same way;
 *    so does a Proxy-Info with the V flag, or holding a child the
 *    dictionary does not know (nothing left to write when it is copied).
 * Any peer past the capabilities exchange could do any of these with one
 * request (found by fuzz_cx_msg). Such AVPs are unusable anyway, so the
 * guard unlinks them: freeDiameter then answers the request (a missing
 * Session-Id: DIAMETER_MISSING_AVP with Session-Id in Failed-AVP, RFC 6733
 * §7.1.5) and the daemon goes on serving. */
#ifndef CX_GUARD_H
#define CX_GUARD_H

struct msg;

/* Applies the rule above to a message as fd_msg_parse_buffer left it
 * (freeDiameter must be initialised: the Session-Id is resolved against
 * its dictionary). Returns the number of AVPs removed (0 for a sane
 * message). Thread-safe: touches only m. */
int cx_guard_fix_msg(struct msg *m);

/* Registers cx_guard_fix_msg as freeDiameter's HOOK_MESSAGE_RECEIVED
 * callback (every received message, from known peers and from clients
 * still in the capabilities exchange). Call after fd_core_initialize and
 * before fd_core_start (cx_core_start does). Each changed message is
 * logged (WARN) and counted (dia_guard_removed_total).
 * Returns 0 or IMS_EDIAMETER. */
int cx_guard_install(void);

#endif
