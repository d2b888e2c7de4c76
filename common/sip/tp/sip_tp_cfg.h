/* The `sip.listen` key every CSCF reads, turned into transport listeners. */
#ifndef SIP_TP_CFG_H
#define SIP_TP_CFG_H

#include <stddef.h>

#include "cfg/ims_cfg.h"
#include "sip/tp/sip_tp.h"

/* Reads `sip.listen`: a list of {addr, port, proto: udp|tcp|both,
 * advertise} (docs/configuration.md); "both" gives two listeners. Without
 * the key: 127.0.0.1:<def_port>, both. Fills out[0..*n_out). Returns 0, or
 * IMS_ECONFIG with one line in err naming the key. */
int sip_tp_listen_from_cfg(ims_cfg_t *cfg, sip_tp_listen_t *out, size_t max, size_t *n_out,
			   long def_port, char *err, size_t errlen);

#endif
