/*
 * log.c: the one place that writes to syslog or stderr.  Used at start-up,
 * on state changes and by alarm.c for (aggregated) alarms.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static int	 log_stderr;
static int	 log_syslog;
static int	 log_verbose;

void
log_init(const char *ident, int to_stderr, int facility)
{
	log_stderr = to_stderr;
	log_syslog = 1;
	openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_set_facility(int facility)
{
	closelog();
	openlog("sipguard", LOG_PID | LOG_NDELAY, facility);
}

void
log_set_verbose(int v)
{
	log_verbose = v;
}

void
log_set_syslog(int on)
{
	log_syslog = on;
}

static void	vlog(int, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
static void	vlog_errno(int, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

static void
vlog(int pri, const char *fmt, va_list ap)
{
	va_list	 ap2;

	if (log_stderr) {
		va_copy(ap2, ap);
		vfprintf(stderr, fmt, ap2);
		fputc('\n', stderr);
		fflush(stderr);
		va_end(ap2);
	}
	/*
	 * syslog(3) with LOG_NDELAY uses a datagram socket; without a
	 * listener (a namespace without /dev/log) it fails quietly and
	 * never blocks.
	 */
	if (log_syslog)
		vsyslog(pri, fmt, ap);
}

void
log_raw(int pri, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

static void
vlog_errno(int pri, const char *fmt, va_list ap)
{
	char	 buf[1024];
	int	 saved = errno;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_raw(pri, "%s: %s", buf, strerror(saved));
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_errno(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}
