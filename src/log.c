/*
 * log.c: the one place that writes to syslog, the journal or stderr.
 * Used at start-up, on state changes and by alarm.c for (aggregated)
 * alarms, whose lines carry journal fields.
 */
#include <sys/uio.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "log.h"

#define JOURNAL_SOCKET	"/run/systemd/journal/socket"
#define FIELDS_MAX	16
#define MSG_MAX		2048

static int	 log_stderr;
static int	 log_syslog;
static int	 log_verbose;
static int	 log_use_journal;
static int	 log_fac = LOG_DAEMON;
static char	 log_ident[32] = "sipguard";

void
log_init(const char *ident, int to_stderr, int facility)
{
	log_stderr = to_stderr;
	log_syslog = 1;
	log_fac = facility;
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	/* journald listens: alarm lines go to it with their fields. */
	log_use_journal = access(JOURNAL_SOCKET, F_OK) == 0;
	openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_set_facility(int facility)
{
	log_fac = facility;
	closelog();
	openlog("sipguard", LOG_PID | LOG_NDELAY, facility);
}

int
log_journal(void)
{
	return log_syslog && log_use_journal;
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

/*
 * One entry, natively: MESSAGE= the syslog line as it would have been,
 * the priority, facility and identifier syslog would have given it, then
 * the caller's fields.  0, or -1 (the caller falls back to syslog).
 */
static int
journal_send(int pri, const char *msg, const char *const *fields, int n)
{
	struct iovec	 iov[FIELDS_MAX + 4];
	char		 m[MSG_MAX + 16], p[32], f[32], id[64];
	int		 k = 0;

	snprintf(m, sizeof(m), "MESSAGE=%s", msg);
	snprintf(p, sizeof(p), "PRIORITY=%d", LOG_PRI(pri));
	snprintf(f, sizeof(f), "SYSLOG_FACILITY=%d", LOG_FAC(log_fac));
	snprintf(id, sizeof(id), "SYSLOG_IDENTIFIER=%s", log_ident);
	iov[k++] = (struct iovec){ m, strlen(m) };
	iov[k++] = (struct iovec){ p, strlen(p) };
	iov[k++] = (struct iovec){ f, strlen(f) };
	iov[k++] = (struct iovec){ id, strlen(id) };
	for (int j = 0; j < n && j < FIELDS_MAX; j++)
		iov[k++] = (struct iovec){ (void *)(uintptr_t)fields[j],
		    strlen(fields[j]) };
	return sd_journal_sendv(iov, k) < 0 ? -1 : 0;
}

void
log_fields(int pri, const char *const *fields, int n, const char *fmt, ...)
{
	char	 msg[MSG_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_stderr) {
		fprintf(stderr, "%s\n", msg);
		fflush(stderr);
	}
	if (!log_syslog)
		return;
	if (log_use_journal && journal_send(pri, msg, fields, n) == 0)
		return;
	syslog(pri, "%s", msg);
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
