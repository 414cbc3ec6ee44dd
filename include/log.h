/*
 * log.h: daemon logging in the OpenBSD manner.  Messages go to syslog;
 * with log_init(..., 1) they also go to stderr (foreground, tests).
 * Nothing here is called per packet: decoders count, they do not log.
 * log_fields() is log_raw() with structured fields for the journal
 * ("SIPGUARD_ALARM=spoof"): sent natively when journald's socket exists,
 * else the same line through syslog, the fields left out.
 */
#ifndef SG_LOG_H
#define SG_LOG_H

#include <stdarg.h>

#define LOGF(a, b)	__attribute__((format(printf, a, b)))

void	log_init(const char *ident, int to_stderr, int facility);
void	log_set_facility(int facility);
void	log_set_verbose(int);
void	log_set_syslog(int);
void	log_warn(const char *, ...) LOGF(1, 2);
void	log_warnx(const char *, ...) LOGF(1, 2);
void	log_info(const char *, ...) LOGF(1, 2);
void	log_debug(const char *, ...) LOGF(1, 2);
void	log_raw(int pri, const char *, ...) LOGF(2, 3);
void	log_fields(int pri, const char *const *fields, int nfields,
	    const char *, ...) LOGF(4, 5);
/* Is the journal used for log_fields()?  (Decided at log_init.) */
int	log_journal(void);

#endif
