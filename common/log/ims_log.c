#include "log/ims_log.h"
#include "base/ims_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int ims_log_current_level = IMS_LOG_INFO;

static const char *names[] = { "debug", "info", "notice", "warn", "error" };
static const char *tags[] = { "DEBUG", "INFO ", "NOTE ", "WARN ", "ERROR" };

void ims_log_set_level(ims_log_level_t lvl)
{
	ims_log_current_level = (int)lvl;
}

int ims_log_set_level_name(const char *name)
{
	for (int i = 0; i < 5; i++) {
		if (strcasecmp(name, names[i]) == 0) {
			ims_log_current_level = i;
			return 0;
		}
	}
	if (strcasecmp(name, "warning") == 0) {
		ims_log_current_level = IMS_LOG_WARN;
		return 0;
	}
	return IMS_EINVAL;
}

void ims_log_write(ims_log_level_t lvl, const char *module, const char *fmt, ...)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s %s ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (int)(tv.tv_usec / 1000), tags[lvl < 0 || lvl > 4 ? 4 : lvl],
			 module ? module : "-");
	if (n < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	/* one event a line: a newline inside a field would forge a new event */
	for (size_t i = (size_t)n; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[len++] = '\n';
	ssize_t w = write(2, line, len);
	(void)w;
}
