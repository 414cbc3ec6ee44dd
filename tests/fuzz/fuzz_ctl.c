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
 * The dispatcher of the daemon, handle() in src/daemon.c, is static and
 * needs the whole struct daemon: it cannot be called here.  The handler
 * below is a faithful copy of its parsing (strtok_r into at most 8
 * words; stats, bindings, blacklist list|add|del|forget, reload, save,
 * help), run against one engine through the same public calls
 * (sg_mac_parse, sg_addr_parse, enf_add, enf_del, enf_forget,
 * enf_foreach, bind_at, engine_stats); reload and save answer a fixed
 * text.
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
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bind.h"
#include "clock.h"
#include "ctl.h"
#include "enforce.h"
#include "fuzz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const sets[] = {
	"proxy.addresses = [\"192.0.2.1\", \"2001:db8::1\"]",
	"tables.bindings = 64",
	"tables.pending = 16",
	"tables.nonces = 16",
	"tables.sources = 16",
	"tables.streams = 16",
	"tables.stream_buffers = 1",
	"tables.fragments = 1",
	"blacklist.size = 32",
};

static struct engine	*eng;
static uint64_t		 now = FZ_T0;

/* ---- a copy of the daemon's handler (src/daemon.c, one worker) ------- */

static void
cmd_stats(bool json, struct ctl_buf *o)
{
	struct engine_stats	 s;
	struct engine_tables	 tb;

	engine_stats(eng, &s);
	engine_tables(eng, now, &tb);
	if (json) {
		ctl_printf(o, "{\"packets\":%" PRIu64 ",\"accept\":{",
		    s.packets);
		for (int r = 0; r < SG_R__COUNT; r++)
			ctl_printf(o, "%s\"%s\":%" PRIu64, r ? "," : "",
			    sg_reason_str((enum sg_reason)r), s.accept[r]);
		ctl_printf(o, "},\"tables\":{\"bindings\":[%u,%u],"
		    "\"blacklist\":[%u,%u]}}\n", tb.bindings, tb.bindings_cap,
		    tb.blacklist, tb.blacklist_cap);
		return;
	}
	ctl_printf(o, "packets %" PRIu64 "\naccepted %" PRIu64 ":",
	    s.packets, s.verdict[SG_ACCEPT]);
	for (int r = 0; r < SG_R__COUNT; r++)
		if (s.accept[r])
			ctl_printf(o, " %s=%" PRIu64,
			    sg_reason_str((enum sg_reason)r), s.accept[r]);
	ctl_printf(o, "\ntables: bindings %u/%u, blacklist %u/%u\n",
	    tb.bindings, tb.bindings_cap, tb.blacklist, tb.blacklist_cap);
}

static void
cmd_bindings(bool json, struct ctl_buf *o)
{
	struct bind_table	*bt = engine_bindings(eng);
	int			 n = 0;

	if (json)
		ctl_printf(o, "{\"bindings\":[");
	for (uint32_t s = 0; s < bind_capacity(bt); s++) {
		const struct binding	*b = bind_at(bt, s);
		char			 mac[SG_MACSTRLEN];
		char			 ip[SG_ADDRSTRLEN];

		if (b == NULL || b->expires <= now)
			continue;
		sg_mac_str(&b->m, b->has_m, mac, sizeof(mac));
		sg_addr_str(&b->i, ip, sizeof(ip));
		if (json) {
			ctl_printf(o, "%s{\"mac\":\"%s\",\"ip\":\"%s\","
			    "\"identity\":", n ? "," : "", mac, ip);
			ctl_json_str(o, b->d);
			ctl_printf(o, "}");
		} else
			ctl_printf(o, "%-40s %s %s\n", b->d, mac, ip);
		n++;
	}
	if (json)
		ctl_printf(o, "],\"count\":%d}\n", n);
	else
		ctl_printf(o, "%d binding(s)\n", n);
}

struct listing {
	struct ctl_buf	*o;
	bool		 json;
	int		 n;
};

static int
list_one(void *arg, const struct bl_entry *b)
{
	struct listing	*l = arg;
	char		 mac[SG_MACSTRLEN], ip[SG_ADDRSTRLEN];

	sg_mac_str((const struct sg_mac *)b->key.m, b->key.has_m, mac,
	    sizeof(mac));
	sg_addr_str(&b->key.i, ip, sizeof(ip));
	if (l->json) {
		ctl_printf(l->o, "%s{\"mac\":\"%s\",\"ip\":\"%s\",\"port\":%u,"
		    "\"why\":", l->n ? "," : "", mac, ip, b->key.port);
		ctl_json_str(l->o, b->why);
		ctl_printf(l->o, ",\"identity\":");
		ctl_json_str(l->o, b->d);
		ctl_printf(l->o, ",\"expires_in\":%.0f}",
		    (double)(b->expires - now) / 1e9);
	} else
		ctl_printf(l->o, "%s %s port=%u why=%s expires_in=%.0f\n",
		    mac, ip, b->key.port, b->why,
		    (double)(b->expires - now) / 1e9);
	l->n++;
	return 0;
}

static int
parse_key(char **args, int nargs, struct bl_key *k, char *why, size_t wlen)
{
	struct sg_tuple	 t;
	char		*end;
	long		 port;

	memset(&t, 0, sizeof(t));
	if (nargs < 2 || nargs > 3) {
		snprintf(why, wlen, "want MAC IP [PORT]");
		return -1;
	}
	if (sg_mac_parse(args[0], &t.m) == -1) {
		snprintf(why, wlen, "bad MAC \"%s\"", args[0]);
		return -1;
	}
	t.has_m = true;
	if (sg_addr_parse(args[1], &t.i) == -1) {
		snprintf(why, wlen, "bad IP address \"%s\"", args[1]);
		return -1;
	}
	if (nargs == 3) {
		port = strtol(args[2], &end, 10);
		if (*end != '\0' || port < 1 || port > 65535) {
			snprintf(why, wlen, "bad port \"%s\"", args[2]);
			return -1;
		}
		t.sport = (uint16_t)port;
		enf_key_mip(k, &t);
	} else
		enf_key_mi(k, &t);
	return 0;
}

static int
cmd_blacklist(char **args, int nargs, bool json, struct ctl_buf *o)
{
	struct enforcer	*enf = engine_enforcer(eng);
	struct bl_key	 k;
	char		 why[128];
	uint64_t	 ttl = 0;

	if (nargs == 0 || strcmp(args[0], "list") == 0) {
		struct listing	 l = { .o = o, .json = json };

		if (json)
			ctl_printf(o, "{\"blacklist\":[");
		enf_foreach(enf, now, list_one, &l);
		if (json)
			ctl_printf(o, "],\"count\":%d}\n", l.n);
		else
			ctl_printf(o, "%d entr%s\n", l.n, l.n == 1 ? "y" :
			    "ies");
		return 0;
	}
	if (strcmp(args[0], "add") == 0) {
		int	 kn = nargs - 1;

		if (kn >= 3 && strcmp(args[nargs - 2], "ttl") == 0) {
			char	*end;
			double	 secs = strtod(args[nargs - 1], &end);

			if (*end != '\0' || !(secs >= 1) || secs > 86400 * 30) {
				ctl_printf(o, "error: bad ttl \"%s\"\n",
				    args[nargs - 1]);
				return -1;
			}
			ttl = (uint64_t)(secs * 1e9);
			kn -= 2;
		}
		if (parse_key(args + 1, kn, &k, why, sizeof(why)) == -1) {
			ctl_printf(o, "error: %s\n", why);
			return -1;
		}
		if (enf_add(enf, &k, "manual", NULL, ttl, now) != ACT_BLOCK) {
			ctl_printf(o, "error: not listed (whitelisted source, "
			    "or mode = detect)\n");
			return -1;
		}
		ctl_printf(o, json ? "{\"added\":true}\n" : "added\n");
		return 0;
	}
	if (strcmp(args[0], "del") == 0) {
		if (parse_key(args + 1, nargs - 1, &k, why, sizeof(why)) ==
		    -1) {
			ctl_printf(o, "error: %s\n", why);
			return -1;
		}
		if (enf_del(enf, &k) == 0) {
			ctl_printf(o, "error: no such entry\n");
			return -1;
		}
		ctl_printf(o, json ? "{\"deleted\":true}\n" : "deleted\n");
		return 0;
	}
	if (strcmp(args[0], "forget") == 0 && nargs == 2) {
		struct sg_mac	 m;
		struct sg_addr	 i;
		bool		 is_mac = sg_mac_parse(args[1], &m) == 0;
		int		 n;

		if (!is_mac && sg_addr_parse(args[1], &i) == -1) {
			ctl_printf(o, "error: \"%.64s\" is neither a MAC nor "
			    "an IP address\n", args[1]);
			return -1;
		}
		n = enf_forget(enf, is_mac ? &m : NULL, is_mac ? NULL : &i,
		    NULL);
		if (json)
			ctl_printf(o, "{\"forgotten\":%d}\n", n);
		else
			ctl_printf(o, "forgot %d entr%s\n", n, n == 1 ? "y" :
			    "ies");
		return 0;
	}
	ctl_printf(o, "error: blacklist [list | add MAC IP [PORT] [ttl "
	    "SECONDS] | del MAC IP [PORT] | forget MAC|IP]\n");
	return -1;
}

static int
handle(void *arg, char *line, bool json, struct ctl_buf *o)
{
	char	*args[8], *save = NULL;
	int	 n = 0;

	(void)arg;
	for (char *t = strtok_r(line, " \t", &save); t != NULL; t = strtok_r(
	    NULL, " \t", &save)) {
		if (n == (int)nitems(args)) {
			ctl_printf(o, "error: too many arguments\n");
			return -1;
		}
		args[n++] = t;
	}
	if (n == 0) {
		ctl_printf(o, "error: empty request\n");
		return -1;
	}
	if (strcmp(args[0], "stats") == 0 && n == 1) {
		cmd_stats(json, o);
		return 0;
	}
	if (strcmp(args[0], "bindings") == 0 && n == 1) {
		cmd_bindings(json, o);
		return 0;
	}
	if (strcmp(args[0], "blacklist") == 0)
		return cmd_blacklist(args + 1, n - 1, json, o);
	if (strcmp(args[0], "reload") == 0 && n == 1) {
		ctl_printf(o, "reloaded -\n");
		return 0;
	}
	if (strcmp(args[0], "save") == 0 && n == 1) {
		ctl_printf(o, json ? "{\"saved\":true,\"bindings\":0,"
		    "\"blacklist\":0}\n" : "saved 0 bindings\n");
		return 0;
	}
	if (strcmp(args[0], "help") == 0) {
		ctl_printf(o, "commands: stats | bindings | blacklist [list | "
		    "add MAC IP [PORT] [ttl SECONDS] | del MAC IP [PORT] | "
		    "forget MAC|IP] | reload | save; prefix json for JSON\n");
		return 0;
	}
	ctl_printf(o, "error: unknown command \"%.64s\" (try help)\n",
	    args[0]);
	return -1;
}

/* ---- the socket ------------------------------------------------------ */

static struct ctl	*ctl;
static int		 epfd = -1;
static char		 sock[128];

static void
setup(void)
{
	struct conf_errors	 errs;
	static struct sg_conf	 conf;
	char			 err[256];

	if (conf_load(NULL, sets, (int)nitems(sets), &conf, &errs) == -1)
		fz_fail("config: %s", errs.buf);
	if ((eng = engine_create(&conf)) == NULL)
		fz_fail("engine_create failed");
	snprintf(sock, sizeof(sock), "%s/control", fz_dir());
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fz_fail("epoll_create1: %s", strerror(errno));
	if ((ctl = ctl_open(sock, epfd, handle, NULL, err, sizeof(err))) ==
	    NULL)
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
	now += NS_PER_SEC;
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
