/* The TS 29.228 Annex D / CxDataType_Rel7.xsd IMSSubscription document the
 * HSS sends as User-Data in SAA and PPR. */
#ifndef HSS_USERDATA_BUILD_H
#define HSS_USERDATA_BUILD_H

#include "hss-store.h"

/* Builds the IMSSubscription XML for `sub`: PrivateID and one
 * ServiceProfile with every public identity of the implicit registration
 * set (BarringIndication, Identity) and the iFCs by priority.
 * impu_requested (may be NULL) is the identity the S-CSCF asked about; it
 * must belong to sub. A subscriber with sequential hunting also gets
 * <Extension><HuntingPolicy>sequential</HuntingPolicy></Extension> at the
 * end of IMSSubscription (our extension, docs/hss.md). *xml_out is a NUL-terminated UTF-8 document the
 * caller frees with free().
 * Errors: IMS_ENOENT (impu_requested is not one of sub's identities),
 * IMS_EINVAL (sub has no identity), IMS_ENOMEM. */
int hss_userdata_build(const hss_sub_t *sub, const char *impu_requested, char **xml_out /* out */);

#endif
