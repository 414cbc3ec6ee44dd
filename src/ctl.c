/*
 * ctl.c: the control socket.  Everything is non-blocking and served from
 * the main epoll loop: a client may send garbage, send nothing, or go
 * away half-way; it costs one slot of CTL_CLIENTS for CTL_TIMEOUT at most.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "ctl.h"

struct client {
	int		 fd;
	bool		 used, answering;
	uint64_t	 since;		/* monotonic ns */
	char		 in[CTL_LINE_MAX + 1];
	size_t		 inlen;
	struct ctl_buf	 out;
	size_t		 sent;
};

struct ctl {
	int		 fd, epfd;
	char		 path[108];
	ctl_handler	 handler;
	void		*arg;
	struct client	 c[CTL_CLIENTS];
	struct ctl_stats st;
};

/* ---- answers --------------------------------------------------------------- */

static void
grow(struct ctl_buf *b, size_t need)
{
	size_t	 cap = b->cap ? b->cap : 4096;
	char	*p;

	if (b->failed)
		return;
	while (cap < b->len + need + 1)
		cap *= 2;
	if (cap == b->cap)
		return;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->failed = true;
		return;
	}
	b->p = p;
	b->cap = cap;
}

void
ctl_printf(struct ctl_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	grow(b, (size_t)n);
	if (b->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
ctl_json_str(struct ctl_buf *b, const char *s)
{
	ctl_printf(b, "\"");
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			ctl_printf(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			ctl_printf(b, "\\u%04x", c);
		else
			ctl_printf(b, "%c", c);
	}
	ctl_printf(b, "\"");
}

/* ---- sockets ----------------------------------------------------------------- */

static void
client_close(struct ctl *ctl, struct client *c)
{
	if (!c->used)
		return;
	epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out.p);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

struct ctl *
ctl_open(const char *path, int epfd, ctl_handler handler, void *arg,
    char *err, size_t errlen)
{
	struct ctl		*ctl;
	struct sockaddr_un	 sun;
	struct epoll_event	 ev;
	mode_t			 old;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return NULL;
	}
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctl->epfd = epfd;
	ctl->handler = handler;
	ctl->arg = arg;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	for (int k = 0; k < CTL_CLIENTS; k++)
		ctl->c[k].fd = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		free(ctl);
		return NULL;
	}
	/* A stale socket from a crash would make bind fail: it goes. */
	unlink(path);
	old = umask(0177);
	if (bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0600) == -1 || listen(ctl->fd, 16) == -1) {
		umask(old);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(ctl->fd);
		free(ctl);
		return NULL;
	}
	umask(old);
	ev.events = EPOLLIN;
	ev.data.ptr = ctl;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, ctl->fd, &ev) == -1) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		close(ctl->fd);
		unlink(path);
		free(ctl);
		return NULL;
	}
	return ctl;
}

void
ctl_close(struct ctl *ctl)
{
	if (ctl == NULL)
		return;
	for (int k = 0; k < CTL_CLIENTS; k++)
		client_close(ctl, &ctl->c[k]);
	epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, ctl->fd, NULL);
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl);
}

bool
ctl_owns(const struct ctl *ctl, const void *ptr)
{
	return ptr == ctl || (ptr >= (const void *)&ctl->c[0] &&
	    ptr < (const void *)&ctl->c[CTL_CLIENTS]);
}

static void
accept_one(struct ctl *ctl)
{
	struct epoll_event	 ev;
	struct client		*c = NULL;
	int			 fd;

	fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return;
	for (int k = 0; k < CTL_CLIENTS; k++)
		if (!ctl->c[k].used) {
			c = &ctl->c[k];
			break;
		}
	if (c == NULL) {
		/* Busy: refuse rather than queue. */
		(void)!write(fd, "error: busy\n", 12);
		close(fd);
		ctl->st.refused++;
		return;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->used = true;
	c->since = clock_mono();
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = c;
	if (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		client_close(ctl, c);
}

static bool
printable(const char *s, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if ((s[k] < 0x20 || s[k] > 0x7e) && s[k] != '\t')
			return false;
	return true;
}

/*
 * "[json] command": does the request of `n' bytes ask for JSON?  `*at'
 * is where the command starts (past blanks, and past the word if so).
 * The word ends at a space or the end of the line, or at a control byte:
 * garbage sent as JSON is still answered in JSON.
 */
static bool
wants_json(const char *s, size_t n, size_t *at)
{
	size_t	 k = 0;

	while (k < n && (s[k] == ' ' || s[k] == '\t'))
		k++;
	*at = k;
	if (n - k < 4 || memcmp(s + k, "json", 4) != 0)
		return false;
	k += 4;
	if (k < n && s[k] != ' ' && printable(s + k, 1))
		return false;
	while (k < n && s[k] == ' ')
		k++;
	*at = k;
	return true;
}

/*
 * A JSON request gets JSON back: a plain-text answer (an error, reload,
 * help) becomes {"error": "..."} or {"message": "..."}.
 */
static void
to_json(struct ctl_buf *b)
{
	struct ctl_buf	 j = { 0 };
	size_t		 len = b->len;
	const char	*text = b->p;
	bool		 error;

	if (len > 0 && b->p[0] == '{')
		return;
	error = len >= 7 && strncmp(text, "error: ", 7) == 0;
	if (error) {
		text += 7;
		len -= 7;
	}
	while (len > 0 && text[len - 1] == '\n')
		len--;
	ctl_printf(&j, "{\"%s\":", error ? "error" : "message");
	{
		char	*t = strndup(text, len);

		if (t == NULL) {
			j.failed = true;
		} else {
			ctl_json_str(&j, t);
			free(t);
		}
	}
	ctl_printf(&j, "}\n");
	if (j.failed) {
		free(j.p);
		b->failed = true;
		return;
	}
	free(b->p);
	*b = j;
}

static void
answer(struct ctl *ctl, struct client *c)
{
	struct epoll_event	 ev;
	char			*nl;
	size_t			 at;
	bool			 json;

	ctl->st.requests++;
	nl = memchr(c->in, '\n', c->inlen);
	if (nl > c->in && nl[-1] == '\r')
		nl--;
	json = wants_json(c->in, (size_t)(nl - c->in), &at);
	/* A NUL or any control byte before the newline: garbage. */
	if (!printable(c->in, (size_t)(nl - c->in))) {
		ctl->st.bad++;
		ctl_printf(&c->out, "error: bad request\n");
	} else {
		*nl = '\0';
		if (ctl->handler(ctl->arg, c->in + at, json, &c->out) == -1)
			ctl->st.bad++;
	}
	if (json && !c->out.failed)
		to_json(&c->out);
	if (c->out.failed) {
		free(c->out.p);
		memset(&c->out, 0, sizeof(c->out));
		ctl_printf(&c->out, "error: out of memory\n");
	}
	c->answering = true;
	ev.events = EPOLLOUT;
	ev.data.ptr = c;
	epoll_ctl(ctl->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
client_event(struct ctl *ctl, struct client *c, uint32_t events)
{
	ssize_t	 n;

	if (c->answering) {
		while (c->sent < c->out.len) {
			n = write(c->fd, c->out.p + c->sent,
			    c->out.len - c->sent);
			if (n <= 0) {
				if (n == -1 && errno == EAGAIN)
					return;
				break;
			}
			c->sent += (size_t)n;
		}
		client_close(ctl, c);
		return;
	}
	if (events & (EPOLLERR | EPOLLHUP)) {
		client_close(ctl, c);
		return;
	}
	n = read(c->fd, c->in + c->inlen, CTL_LINE_MAX - c->inlen);
	if (n <= 0) {
		if (n == -1 && errno == EAGAIN)
			return;
		client_close(ctl, c);		/* gone before asking */
		return;
	}
	c->inlen += (size_t)n;
	if (memchr(c->in, '\n', c->inlen) != NULL) {
		answer(ctl, c);
		return;
	}
	if (c->inlen == CTL_LINE_MAX) {
		static const char	 text[] = "error: request too long\n";
		static const char	 json[] =
		    "{\"error\":\"request too long\"}\n";
		size_t			 at;

		ctl->st.bad++;
		if (wants_json(c->in, c->inlen, &at))
			(void)!write(c->fd, json, sizeof(json) - 1);
		else
			(void)!write(c->fd, text, sizeof(text) - 1);
		client_close(ctl, c);
	}
}

void
ctl_event(struct ctl *ctl, void *ptr, uint32_t events)
{
	if (ptr == ctl) {
		for (int k = 0; k < CTL_CLIENTS; k++)
			accept_one(ctl);
		return;
	}
	client_event(ctl, ptr, events);
}

void
ctl_tick(struct ctl *ctl, uint64_t now)
{
	for (int k = 0; k < CTL_CLIENTS; k++) {
		struct client *c = &ctl->c[k];

		if (c->used && now - c->since > (uint64_t)CTL_TIMEOUT *
		    1000000000ULL) {
			ctl->st.timeouts++;
			client_close(ctl, c);
		}
	}
}

void
ctl_stats(const struct ctl *ctl, struct ctl_stats *st)
{
	*st = ctl->st;
}
