/*
 * ctl.h: the control socket sipguardctl talks to (SPEC 7).  A UNIX
 * stream socket, mode 0600.  A request is one line of printable ASCII,
 * at most CTL_LINE_MAX bytes: "[json] command [args...]"; the answer is
 * text (or one JSON object) and the connection is closed.  A client that
 * sends garbage, too much, or nothing for CTL_TIMEOUT seconds is
 * answered "error: ..." ({"error": "..."} if it began with "json"), or
 * simply dropped, and cannot stall the daemon: every socket is
 * non-blocking and served from the main loop.  What a request does is
 * the handler's business: the daemon's is control_handle() (control.h).
 */
#ifndef SG_CTL_H
#define SG_CTL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_LINE_MAX	1024
#define CTL_CLIENTS	16
#define CTL_TIMEOUT	5	/* seconds */

/* A growing answer buffer (the control path may allocate). */
struct ctl_buf {
	char		*p;
	size_t		 len, cap;
	bool		 failed;	/* out of memory: answer truncated */
};

void	ctl_printf(struct ctl_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* A JSON string literal of `s' (quotes included). */
void	ctl_json_str(struct ctl_buf *, const char *);

/* Fill `out' for one request; return 0, or -1 (an "error:" answer). */
typedef int	(*ctl_handler)(void *, char *line, bool json,
		    struct ctl_buf *out);

struct ctl;

/* Bind `path' (replacing a stale socket), mode 0600, register with epfd. */
struct ctl	*ctl_open(const char *path, int epfd, ctl_handler, void *,
		    char *err, size_t errlen);
void		 ctl_close(struct ctl *);
/* An epoll event whose data.ptr came from ctl: serve it. */
bool		 ctl_owns(const struct ctl *, const void *ptr);
void		 ctl_event(struct ctl *, void *ptr, uint32_t events);
/* Drop clients silent for CTL_TIMEOUT (call each second). */
void		 ctl_tick(struct ctl *, uint64_t mono_ns);

struct ctl_stats {
	uint64_t	 requests, bad, timeouts, refused;
};
void		 ctl_stats(const struct ctl *, struct ctl_stats *);

#endif
