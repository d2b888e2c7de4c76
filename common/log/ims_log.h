/* Logging: one event per line on stderr:
 *   2026-11-25T03:10:00.123Z INFO  scscf register.ok impu=sip:... call_id=...
 * Level names: debug, info, notice, warn, error. */
#ifndef IMS_LOG_H
#define IMS_LOG_H

typedef enum {
	IMS_LOG_DEBUG = 0,
	IMS_LOG_INFO,
	IMS_LOG_NOTICE,
	IMS_LOG_WARN,
	IMS_LOG_ERROR,
} ims_log_level_t;

extern int ims_log_current_level;

/* Sets the level; returns 0 or IMS_EINVAL for an unknown name. */
int ims_log_set_level_name(const char *name);
void ims_log_set_level(ims_log_level_t lvl);

/* Writes one line: time, level, module, then the formatted event and
 * key=value fields. Thread-safe (a single write(2) per line). */
void ims_log_write(ims_log_level_t lvl, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define IMS_LOG(lvl, mod, ...)                                  \
	do {                                                    \
		if ((int)(lvl) >= ims_log_current_level)        \
			ims_log_write((lvl), (mod), __VA_ARGS__); \
	} while (0)

#define LOG_DEBUG(mod, ...) IMS_LOG(IMS_LOG_DEBUG, mod, __VA_ARGS__)
#define LOG_INFO(mod, ...) IMS_LOG(IMS_LOG_INFO, mod, __VA_ARGS__)
#define LOG_NOTICE(mod, ...) IMS_LOG(IMS_LOG_NOTICE, mod, __VA_ARGS__)
#define LOG_WARN(mod, ...) IMS_LOG(IMS_LOG_WARN, mod, __VA_ARGS__)
#define LOG_ERROR(mod, ...) IMS_LOG(IMS_LOG_ERROR, mod, __VA_ARGS__)

#endif
