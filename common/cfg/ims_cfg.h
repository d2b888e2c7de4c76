/* Configuration: a YAML file (libyaml) loaded into a small tree of maps,
 * lists and scalars kept in one arena. Values are read by dotted path,
 * with [i] for list items: "sip.listen[0].port".
 *
 * Every getter takes a default and (for numbers) a range. On a bad value
 * it returns IMS_ECONFIG and leaves one line naming the key in
 * ims_cfg_error(), e.g. "sip.port: 70000 is out of range 1..65535".
 *
 * Environment overrides (for containers): a scalar read at PATH is taken
 * from the variable IMS_CFG_<KEY> when it is set, KEY being PATH
 * upper-cased with '.', '[' and ']' turned into '_' and doubled '_'
 * squeezed: "sip.port" -> IMS_CFG_SIP_PORT, "sip.listen[0].addr" ->
 * IMS_CFG_SIP_LISTEN_0_ADDR. Overrides apply to scalars only.
 *
 * An unquoted empty value, "~" or "null" counts as absent (the getter's
 * default applies); write "" for an empty string.
 *
 * A loaded config is read-only and may be read from several threads,
 * except that the error text is per config (read it from the thread that
 * got the error). */
#ifndef IMS_CFG_H
#define IMS_CFG_H

#include <stddef.h>

typedef struct ims_cfg ims_cfg_t;

/* Loads a YAML file whose top level is a mapping (an empty file is an
 * empty mapping). Returns the config (free with ims_cfg_free), or NULL
 * with one line in err such as
 * "config.yaml:12: mapping values are not allowed in this context". */
ims_cfg_t *ims_cfg_load(const char *path, char *err, size_t errlen);

/* As ims_cfg_load, from memory; name is used in error lines. */
ims_cfg_t *ims_cfg_parse(const char *text, size_t len, const char *name, char *err,
			 size_t errlen);

/* An empty config (every getter returns its default). NULL on ENOMEM. */
ims_cfg_t *ims_cfg_empty(void);

void ims_cfg_free(ims_cfg_t *cfg);

/* The last error line (never NULL; "" when none). Owned by cfg. */
const char *ims_cfg_error(const ims_cfg_t *cfg);

/* The name of the file the config came from ("" for an empty config). */
const char *ims_cfg_name(const ims_cfg_t *cfg);

/* 1 when path names a node (or an env override exists), else 0. */
int ims_cfg_has(ims_cfg_t *cfg, const char *path);

/* A string scalar. Missing key: *out = def, returns 0; def NULL makes the
 * key required (IMS_ECONFIG "path: required key is missing"). A map or a
 * list at path is IMS_ECONFIG. *out is owned by cfg (or by the
 * environment, for an override). Every getter returns IMS_EINVAL for a
 * malformed path ("a..b", "a[x]"), a programming error. */
int ims_cfg_str(ims_cfg_t *cfg, const char *path, const char *def, const char **out /* out */);

/* A decimal integer in min..max. Missing key: *out = def, returns 0.
 * Not a number or out of range: IMS_ECONFIG naming the key. */
int ims_cfg_int(ims_cfg_t *cfg, const char *path, long def, long min, long max,
		long *out /* out */);

/* A number (e.g. a timeout in seconds, "1.5") in min..max. */
int ims_cfg_double(ims_cfg_t *cfg, const char *path, double def, double min, double max,
		   double *out /* out */);

/* A boolean: true/false, yes/no, on/off, 1/0 (any case). Missing: def. */
int ims_cfg_bool(ims_cfg_t *cfg, const char *path, int def, int *out /* out */);

/* Items in the list at path: 0 when the key is missing, IMS_ECONFIG
 * when it is not a list. */
int ims_cfg_list_len(ims_cfg_t *cfg, const char *path);

/* Keys of the mapping at path, in file order: ims_cfg_map_len gives the
 * count (0 when missing, IMS_ECONFIG when not a mapping), and
 * ims_cfg_map_key the i-th key (owned by cfg), or NULL when out of range.
 * For sections keyed by free names ("peers: {hss1: {...}}"). */
int ims_cfg_map_len(ims_cfg_t *cfg, const char *path);
const char *ims_cfg_map_key(ims_cfg_t *cfg, const char *path, int i);

/* Rejects keys nobody reads, so a typo does not pass silently.
 * known_paths is NULL-terminated; a list index is written "[]"
 * ("sip.listen[].port"), and a path ending in ".*" accepts anything under
 * it ("ifc.*"); a path naming a list of scalars also accepts its items
 * ("sip.domains" = "sip.domains[]"). Every leaf (scalar, empty map, empty
 * list) must match.
 * Returns 0, or IMS_ECONFIG with "file:line: unknown key sip.prot" in err
 * (and in ims_cfg_error). */
int ims_cfg_check_known(ims_cfg_t *cfg, const char *const *known_paths, char *err,
			size_t errlen);

/* Registers paths (same syntax as above, NULL-terminated, kept by
 * pointer: pass a static array) that every later ims_cfg_check_known()
 * on this config accepts as well. The shared main registers the common
 * keys (log_level, http.*) here, so a daemon's own check only lists its
 * own keys. */
void ims_cfg_also_known(ims_cfg_t *cfg, const char *const *paths);

#endif
