/*
 * test_ctl.c: the control socket (ctl.h), served from an epoll loop in
 * the test as the daemon serves it.  Each row is a request as bytes and
 * the exact answer: a request that starts with `json' is answered with
 * one JSON object, whatever went wrong with it; any other in text.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"
#include "sipguard.h"
#include "testlib.h"

struct fx {
	char		 dir[64], path[96];
	int		 epfd;
	struct ctl	*ctl;
	char		 line[CTL_LINE_MAX + 1];	/* as the handler saw it */
	bool		 json;
	int		 calls;
};

/* "stats" answers, anything else is unknown. */
static int
handler(void *arg, char *line, bool json, struct ctl_buf *out)
{
	struct fx	*f = arg;

	f->calls++;
	snprintf(f->line, sizeof(f->line), "%s", line);
	f->json = json;
	if (strcmp(line, "stats") == 0) {
		ctl_printf(out, json ? "{\"ok\":1}\n" : "ok\n");
		return 0;
	}
	ctl_printf(out, "error: unknown command\n");
	return -1;
}

static int
setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));
	char		 err[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sgctl.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/ctl", f->dir);
	assert_true((f->epfd = epoll_create1(EPOLL_CLOEXEC)) != -1);
	f->ctl = ctl_open(f->path, f->epfd, handler, f, err, sizeof(err));
	if (f->ctl == NULL)
		fail_msg("%s", err);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	ctl_close(f->ctl);
	close(f->epfd);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Send `len' bytes of `req', serve, return the whole answer (to EOF). */
static char *
ask(struct fx *f, const char *req, size_t len)
{
	struct sockaddr_un	 sun;
	char			 buf[8192];
	size_t			 got = 0;
	int			 fd;
	bool			 eof = false;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->path);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	assert_int_equal(write(fd, req, len), (ssize_t)len);
	for (int round = 0; round < 500 && !eof; round++) {
		struct epoll_event	 ev[4];
		struct pollfd		 p = { .fd = fd, .events = POLLIN };
		int			 n;

		n = epoll_wait(f->epfd, ev, 4, 10);
		for (int k = 0; k < n; k++)
			ctl_event(f->ctl, ev[k].data.ptr, ev[k].events);
		while (poll(&p, 1, 0) == 1) {
			ssize_t	 r = read(fd, buf + got, sizeof(buf) - 1 - got);

			if (r <= 0) {
				eof = true;
				break;
			}
			got += (size_t)r;
		}
	}
	close(fd);
	assert_true(eof);
	buf[got] = '\0';
	return strdup(buf);
}

struct row {
	const char	*name;
	const char	*req;
	size_t		 len;		/* 0: strlen(req) */
	const char	*want;
	const char	*line;		/* what the handler saw; NULL: not called */
};

#define R(name, req, want, line)	{ name, req, sizeof(req) - 1, want, line }

static const struct row rows[] = {
	R("text", "stats\n", "ok\n", "stats"),
	R("json", "json stats\n", "{\"ok\":1}\n", "stats"),
	R("json_blanks", "  json   stats\r\n", "{\"ok\":1}\n", "stats"),
	R("json_unknown", "json frob\n", "{\"error\":\"unknown command\"}\n",
	    "frob"),
	R("not_json_word", "jsonx stats\n", "error: unknown command\n",
	    "jsonx stats"),
	R("text_control", "stats\x01\n", "error: bad request\n", NULL),
	R("text_nul", "st\0ats\n", "error: bad request\n", NULL),
	/*
	 * Regression (issue 9, point 7): a `json' request with a control
	 * byte was answered "error: bad request" in text, which a client
	 * expecting JSON cannot parse.
	 */
	R("json_control", "json stats\x01\n", "{\"error\":\"bad request\"}\n",
	    NULL),
	R("json_nul", "json st\0ats\n", "{\"error\":\"bad request\"}\n", NULL),
	R("json_escape", "  json  st\x1b[0mats\r\n",
	    "{\"error\":\"bad request\"}\n", NULL),
	R("json_del", "json stats\x7f\n", "{\"error\":\"bad request\"}\n",
	    NULL),
	R("json_control_first", "json\x01stats\n",
	    "{\"error\":\"bad request\"}\n", NULL),
	R("json_nul_first", "json\0stats\n", "{\"error\":\"bad request\"}\n",
	    NULL),
	R("json_high_byte", "json stats \xc3\xa9\n",
	    "{\"error\":\"bad request\"}\n", NULL),
};

static void
test_row(void **state)
{
	const struct row	*r = *state;
	struct fx		*f;
	char			*got;
	struct ctl_stats	 st;

	assert_int_equal(setup((void **)&f), 0);
	got = ask(f, r->req, r->len);
	if (strcmp(got, r->want) != 0)
		fail_msg("got \"%s\", want \"%s\"", got, r->want);
	if (r->line == NULL)
		assert_int_equal(f->calls, 0);
	else {
		assert_int_equal(f->calls, 1);
		assert_string_equal(f->line, r->line);
	}
	ctl_stats(f->ctl, &st);
	assert_int_equal(st.requests, 1);
	free(got);
	teardown((void **)&f);
}

/* Too long, with no newline: the same rule, JSON for a JSON request. */
static void
test_too_long(void **state)
{
	struct fx	*f;
	char		 req[CTL_LINE_MAX + 8], *got;
	struct ctl_stats st;

	(void)state;
	assert_int_equal(setup((void **)&f), 0);
	memset(req, 'x', sizeof(req));
	memcpy(req, "json stats ", 11);
	got = ask(f, req, CTL_LINE_MAX);
	assert_string_equal(got, "{\"error\":\"request too long\"}\n");
	free(got);
	memcpy(req, "stats      ", 11);
	got = ask(f, req, CTL_LINE_MAX);
	assert_string_equal(got, "error: request too long\n");
	free(got);
	assert_int_equal(f->calls, 0);
	ctl_stats(f->ctl, &st);
	assert_int_equal(st.bad, 2);
	teardown((void **)&f);
}

int
main(void)
{
	TREG_ROWS("ctl", test_row, rows);
	treg_add("ctl", "too_long", test_too_long, NULL);
	return treg_run("ctl");
}
