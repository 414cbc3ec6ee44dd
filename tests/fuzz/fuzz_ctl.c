/*
 * fuzz_ctl.c: libFuzzer harness for the control socket (ctl.h), served
 * for real: ctl_open() on a socket in a private directory under /tmp,
 * with our own epoll set; per input a client connects, sends the
 * request and reads the answer, and the harness turns the epoll loop
 * (ctl_event()) as the daemon does, then ctl_tick() clears what is left.
 * All of src/ctl.c runs: the request framing (one line, CTL_LINE_MAX,
 * CR LF, NUL and control bytes, partial reads), "json" detection, the
 * JSON wrapping of text answers, ctl_printf() and ctl_json_str().
 *
 * Behind the socket is the daemon's own dispatcher, control_handle() of
 * src/control.c, over two engines (so the merging of the workers'
 * bindings and blacklists runs too): stats, bindings, blacklist
 * list|add|del|forget, help, every argument check.  What only the
 * service can do is stubbed as struct control lets a caller: locking
 * (one thread here), the queue counters (fixed), reload and save (an
 * answer, no file).
 *
 * Input: the first byte is the size of the pieces the request is written
 * in (0: all at once), so requests arrive over several reads; the rest
 * is the bytes the client sends.  Checked: a non-empty answer ends with
 * a newline, and a request that asks for JSON gets a JSON object.
 *
 * Build and run: `make fuzz' or `make fuzz-smoke' (the fuzz section at
 * the end of the Makefile); max_len 4096.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alarm.h"
#include "clock.h"
#include "conf.h"
#include "control.h"
#include "ctl.h"
#include "engine.h"
#include "fuzz.h"
#include "state.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const sets[] = {
	"proxy.addresses = [\"192.0.2.1\", \"2001:db8::1\"]",
};	/* over fz_small_conf()'s small tables */

static struct engine	*engines[2];
static struct control	 control;

/* ---- what the daemon would do --------------------------------------- */

static void
no_lock(void *arg)
{
	(void)arg;
}

static void
no_lock_one(void *arg, int k, bool on)
{
	(void)arg;
	(void)k;
	(void)on;
}

static void
queue_counts(void *arg, int k, struct control_queue *q)
{
	(void)arg;
	(void)k;
	*q = (struct control_queue){ 1, 2, 3, 6, 4, 5, 0, 0, 0 };
}

static int
reload(void *arg, struct ctl_buf *out)
{
	(void)arg;
	ctl_printf(out, "reloaded -\n");
	return 0;
}

static int
save(void *arg, struct state_counts *c, char *err, size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	memset(c, 0, sizeof(*c));
	return 0;
}

/* ---- the socket ------------------------------------------------------ */

static struct ctl	*ctl;
static int		 epfd = -1;
static char		 sock[128];

static void
setup(void)
{
	static struct sg_conf	 conf;
	char			 err[256];

	fz_small_conf(sets, (int)nitems(sets), &conf);
	for (size_t k = 0; k < nitems(engines); k++)
		if ((engines[k] = engine_create(&conf)) == NULL)
			fz_fail("engine_create failed");
	control = (struct control){
		.engines = engines,
		.nw = (int)nitems(engines),
		.conf = &conf,
		.alog = alarm_log_create(64, conf.log_aggregate),
		.started = clock_now(),
		.lock = no_lock,
		.unlock = no_lock,
		.lock_one = no_lock_one,
		.queue = queue_counts,
		.reload = reload,
		.save = save,
	};
	if (control.alog == NULL)
		fz_fail("alarm_log_create failed");
	snprintf(sock, sizeof(sock), "%s/control", fz_dir());
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fz_fail("epoll_create1: %s", strerror(errno));
	if ((ctl = ctl_open(sock, epfd, control_handle, &control, err,
	    sizeof(err))) == NULL)
		fz_fail("ctl_open: %s", err);
}

/* Serve every pending event, as the daemon's loop would. */
static void
pump(void)
{
	struct epoll_event	 ev[CTL_CLIENTS + 1];
	int			 n;

	for (int round = 0; round < 64; round++) {
		if ((n = epoll_wait(epfd, ev, (int)nitems(ev), 0)) <= 0)
			return;
		for (int k = 0; k < n; k++) {
			if (!ctl_owns(ctl, ev[k].data.ptr))
				fz_fail("an event ctl does not own");
			ctl_event(ctl, ev[k].data.ptr, ev[k].events);
		}
	}
}

/* Does the request ask for JSON ("[json] command", ctl.h)? */
static bool
asks_json(const uint8_t *p, size_t n)
{
	size_t	 k = 0;

	while (k < n && (p[k] == ' ' || p[k] == '\t'))
		k++;
	if (n - k < 4 || memcmp(p + k, "json", 4) != 0)
		return false;
	k += 4;
	/*
	 * Ended by a space, the end of the line or a control byte other
	 * than TAB: src/ctl.c counts TAB as printable (see the report of
	 * issue 9: "json<TAB>stats" is answered in text).
	 */
	return k == n || p[k] == ' ' || (p[k] < 0x20 && p[k] != '\t') ||
	    p[k] > 0x7e;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un	 sun;
	char			 ans[65536];
	size_t			 alen = 0, o = 0, piece, first;
	const uint8_t		*nl;
	ssize_t			 n;
	int			 fd;

	if (ctl == NULL)
		setup();
	if (size < 1)
		return 0;
	piece = data[0] ? data[0] : size;
	data++;
	size--;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock, strlen(sock));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		fz_fail("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fz_fail("connect: %s", strerror(errno));
	pump();
	while (o < size) {
		size_t	 len = size - o < piece ? size - o : piece;

		if ((n = send(fd, data + o, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EAGAIN) {
				pump();
				continue;
			}
			break;	/* closed by the server: answered */
		}
		o += (size_t)n;
		pump();
	}
	shutdown(fd, SHUT_WR);
	pump();
	while (alen < sizeof(ans) && (n = read(fd, ans + alen,
	    sizeof(ans) - alen)) > 0)
		alen += (size_t)n;
	close(fd);
	pump();
	ctl_tick(ctl, clock_mono() + 2 * CTL_TIMEOUT * NS_PER_SEC);

	if (alen == 0)
		return 0;
	if (ans[alen - 1] != '\n')
		fz_fail("answer without a final newline: %.*s", (int)alen,
		    ans);
	/* The line the server looked at: up to the newline or the limit. */
	nl = memchr(data, '\n', size < CTL_LINE_MAX ? size : CTL_LINE_MAX);
	first = nl != NULL ? (size_t)(nl - data) : size < CTL_LINE_MAX ?
	    size : CTL_LINE_MAX;
	if (nl != NULL && first > 0 && data[first - 1] == '\r')
		first--;
	if (asks_json(data, first) && ans[0] != '{')
		fz_fail("a JSON request answered in text: %.*s", (int)alen,
		    ans);
	return 0;
}
