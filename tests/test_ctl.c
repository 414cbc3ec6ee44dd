/*
 * test_ctl.c: the control protocol.  First the socket (ctl.h) with a
 * handler of its own: each row is a request as bytes and the exact
 * answer; a request that starts with `json' is answered with one JSON
 * object, whatever went wrong with it; any other in text.  Then the
 * commands (control.h) behind that socket, as the daemon serves them,
 * over engines made from a small configuration: each row is a few
 * requests in turn and their exact answers.  Last the same table as
 * Prometheus metrics: a validator of the text exposition format reads
 * every line, and the values agree with `json stats'.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
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

#include "bind.h"
#include "clock.h"
#include "conf.h"
#include "control.h"
#include "ctl.h"
#include "enforce.h"
#include "engine.h"
#include "hash.h"
#include "sipguard.h"
#include "pktgen.h"
#include "state.h"
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
	tl_template(f->dir, sizeof(f->dir), "/tmp/sgctl");
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

/* ---- the commands (control.h) -------------------------------------------- */

#define WORKERS_MAX	2
#define STEPS_MAX	20

static const char *const sets[] = {
	"proxy.addresses = [\"192.0.2.1\"]",
	"tables.bindings = 64",
	"tables.pending = 16",
	"tables.nonces = 16",
	"tables.sources = 16",
	"tables.streams = 16",
	"tables.stream_buffers = 1",
	"tables.fragments = 1",
	"blacklist.size = 32",
	"state.dir = \"/tmp/sgctl-state\"",
	"queue.num = 7",
	"training.duration = 900",
};

/* A service of one or two workers behind a real control socket. */
struct cx {
	struct fx		 fx;		/* the socket, as above */
	struct sg_conf		 conf;
	struct engine		*e[WORKERS_MAX];
	struct control		 c;
	int			 depth, locks;	/* nesting, calls */
	int			 reloads, saves;
	bool			 save_fails;
};

static void
cx_lock(void *arg)
{
	struct cx	*x = arg;

	assert_int_equal(x->depth, 0);
	x->depth++;
	x->locks++;
}

static void
cx_unlock(void *arg)
{
	struct cx	*x = arg;

	assert_int_equal(x->depth, 1);
	x->depth--;
}

static void
cx_lock_one(void *arg, int k, bool on)
{
	struct cx	*x = arg;

	assert_true(k >= 0 && k < x->c.nw);
	assert_int_equal(x->depth, on ? 0 : 1);
	x->depth += on ? 1 : -1;
	x->locks += on;
}

/* Each worker: 7 received, 1 ENOBUFS, 2 errors, 5 verdict messages, 3 and
 * 4 kernel drops; read with no worker held. */
static void
cx_queue(void *arg, int k, struct control_queue *q)
{
	struct cx	*x = arg;

	assert_int_equal(x->depth, 0);
	assert_true(k >= 0 && k < x->c.nw);
	*q = (struct control_queue){ 7, 1, 2, 5, 3, 4, 0, 250 + k, 40 + k };
}

static int
cx_reload(void *arg, struct ctl_buf *out)
{
	struct cx	*x = arg;

	x->reloads++;
	ctl_printf(out, "reloaded test.conf\n");
	return 0;
}

static int
cx_save(void *arg, struct state_counts *c, char *err, size_t errlen)
{
	struct cx	*x = arg;

	x->saves++;
	if (x->save_fails) {
		snprintf(err, errlen, "state: No space left on device");
		return -1;
	}
	*c = (struct state_counts){ .bindings = 2, .blacklist = 3 };
	return 0;
}

/* The runtime whitelist's own file, saved after each change. */
static int
cx_save_whitelist(void *arg, char *err, size_t errlen)
{
	struct cx	*x = arg;

	(void)err;
	(void)errlen;
	x->saves++;
	return 0;
}

/* Identity texts of several cells each, told whole (idpool.h). */
#define LONG_USER	"a123456789b123456789c123456789d123456789" \
			"e123456789f123456789g123456789"
#define LONG_D		LONG_USER "@example.com"
#define LONG_IMPI	"impi-" LONG_USER

/*
 * UE 1's binding, expiring in an hour, in every worker; its identity
 * user1@example.com, or LONG_D with LONG_IMPI.
 */
static void
learn_ue1_as(struct cx *x, bool long_id)
{
	struct sg_tuple		 t;
	const struct binding	*b;

	memset(&t, 0, sizeof(t));
	t.has_m = true;
	t.m.b[0] = 0x02;
	t.m.b[5] = 1;
	assert_int_equal(sg_addr_parse("198.51.100.1", &t.i), 0);
	t.s = t.i;
	t.sport = 5060;
	snprintf(t.d, sizeof(t.d), "%s", long_id ? LONG_D :
	    "user1@example.com");
	t.dh = hash_bytes(t.d, strlen(t.d));
	if (long_id) {
		snprintf(t.impi, sizeof(t.impi), "%s", LONG_IMPI);
		t.impih = hash_bytes(t.impi, strlen(t.impi)) | 1;
	}
	for (int k = 0; k < x->c.nw; k++)
		assert_int_equal(bind_learn(engine_bindings(x->e[k]), &t, 0,
		    clock_now() + SEC(3600), clock_now(), &b), BIND_NEW);
}

struct step {
	const char	*req;		/* NULL: the end */
	const char	*want;
};

struct crow {
	const char	*name;
	int		 nw;		/* workers; 0 means 1 */
	bool		 detect, binding, save_fails;
	bool		 long_id;	/* the binding's: LONG_D */
	struct step	 steps[STEPS_MAX];
	int		 reloads, saves;	/* callbacks expected */
};

#define BL_USAGE	"error: blacklist [list | add MAC IP [PORT] [ttl " \
			"SECONDS] | del MAC IP [PORT] | forget MAC|IP]\n"
#define BL_USAGE_JSON	"{\"error\":\"blacklist [list | add MAC IP " \
			"[PORT] [ttl SECONDS] | del MAC IP [PORT] | forget " \
			"MAC|IP]\"}\n"
#define BUSAGE		"bindings [list | show IDENTITY|IP | " \
			"import FILE [DOMAIN]]"
#define HELP		"commands: stats | " BUSAGE " | " \
			"blacklist [list | " \
			"add MAC IP [PORT] [ttl SECONDS] | del MAC IP " \
			"[PORT] | forget MAC|IP] | whitelist [list | add CIDR " \
			"[MAC] [COMMENT] | del CIDR] | cluster | reload | " \
			"save | " \
			"version | ping; help COMMAND for one; prefix json " \
			"for JSON"
#define MAC1		"02:00:00:00:00:01"
#define MAC2		"02:00:00:00:00:02"
#define ENTRY1		"mi  " MAC1 " 192.0.2.7 why=manual hits=0 " \
			"expires_in=600\n"
#define ENTRY2		"mip " MAC2 " 2001:db8::7 port=5060 why=manual " \
			"hits=0 expires_in=60\n"
#define JENTRY1		"{\"kind\":\"mi\",\"mac\":\"" MAC1 "\",\"ip\":" \
			"\"192.0.2.7\",\"port\":0,\"why\":\"manual\"," \
			"\"identity\":\"\",\"hits\":0,\"expires_in\":600}"
#define ALARMS0		"spoof=0 malformed=0 table-full=0 ss=0 ds1=0 " \
			"ds2=0 ir=0 bruteforce=0 scan=0"
#define JALARMS0	"\"spoof\":0,\"malformed\":0,\"table-full\":0," \
			"\"ss\":0,\"ds1\":0,\"ds2\":0,\"ir\":0," \
			"\"bruteforce\":0,\"scan\":0"

static const struct crow crows[] = {
	{ "help", .steps = {
		{ "help\n", HELP "\n" },
		{ "help me please\n",
		    "error: unknown command \"me\" (try help)\n" },
		{ "json help\n", "{\"message\":\"" HELP "\"}\n" },
		/* Off (the default): it says so, and nothing else. */
		{ "cluster\n", "cluster: off (cluster.enabled = false)\n" },
		{ "json cluster\n", "{\"enabled\":false}\n" },
		/* One command's forms, with what each does. */
		{ "help whitelist\n", "whitelist list\n    every entry: "
		    "prefix, MAC, where from, hits, comment\n"
		    "whitelist add CIDR [MAC] [COMMENT]\n    never judge nor "
		    "block CIDR (from MAC only, if given); kept in the state "
		    "file\nwhitelist del CIDR\n    remove an entry added with "
		    "whitelist add\n" },
		{ "help ping\n", "ping\n    is the daemon up\n" },
	} },
	{ "unknown", .steps = {
		{ "frob\n", "error: unknown command \"frob\" (try help)\n" },
		{ "json frob\n",
		    "{\"error\":\"unknown command \\\"frob\\\" "
		    "(try help)\"}\n" },
		{ "blacklistx\n",
		    "error: unknown command \"blacklistx\" (try help)\n" },
	} },
	{ "empty", .steps = {
		{ "\n", "error: empty request\n" },
		{ " \t \n", "error: empty request\n" },
		{ "json\n", "{\"error\":\"empty request\"}\n" },
	} },
	{ "words", .steps = {
		{ "help stats 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n",
		    "stats\n    counters, tables, queues, module II, "
		    "offload\n" },
		{ "help stats 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
		    "error: too many arguments\n" },
		{ "json help 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
		    "{\"error\":\"too many arguments\"}\n" },
		{ "help\tping \t 2\n", "ping\n    is the daemon up\n" },
	} },
	/* A command without subcommands and with words after it is unknown. */
	{ "extra_words", .steps = {
		{ "stats now\n",
		    "error: unknown command \"stats\" (try help)\n" },
		{ "bindings all\n", "error: " BUSAGE "\n" },
		{ "reload now\n",
		    "error: unknown command \"reload\" (try help)\n" },
		{ "save now\n",
		    "error: unknown command \"save\" (try help)\n" },
	} },
	{ "stats", .nw = 2, .steps = {
		{ "stats\n",
		    "uptime 0 s, mode prevent, 2 queue(s) from 7\n"
		    "packets 0 (inbound 0, outbound 0, transit 0): SIP 0, "
		    "keep-alives 0, not SIP 0 (SCTP 0), malformed 0\n"
		    "accepted 0:\n"
		    "dropped 0:\n"
		    "alarms: " ALARMS0 " (0 repeats suppressed in the log)\n"
		    "tables: bindings 0/128, pending 0/32 (guarded 0/16), "
		    "sources 0/32, blacklist 0/64, whitelist 0/4096, "
		    "identity cells 0/256\n"
		    "whitelisted prefixes from another MAC (judged): 0\n"
		    "accepted on lapsed bindings (bindings.grace): 0\n"
		    "guarded pending REGISTERs recycled for newer ones: 0\n"
		    "queue: received 14, ENOBUFS 2, errors 4, verdict messages 10; "
		    "kernel dropped "
		    "6 (queue full), 8 (socket full); last packet 0 s ago; "
		    "longest wait for verdicts 251 us (41 us of it for the "
		    "engine's lock)\n"
		    "module II: training, 900 s left\n"
		    "nft offload: off, 0 added, 0 removed, 0 errors, "
		    "0 batches, 0 lost to a full queue, 0 rebuilds, "
		    "0 restored after a flush, 0 bound devices sent, "
		    "admission in the kernel came on 0 times\n"
		    "event file: 0 written (0 drops), 0 drops skipped over "
		    "the rate, 0 lost to a full buffer, "
		    "0 lost to write errors\n"
		    "drops capture: 0 written, 0 skipped over the rate, "
		    "0 lost to a full buffer, 0 lost to write errors, "
		    "0 rotations\n" },
		{ "json stats\n",
		    "{\"uptime\":0,\"mode\":\"prevent\",\"queues\":2,"
		    "\"packets\":0,\"inbound\":0,\"outbound\":0,"
		    "\"transit\":0,\"sip\":0,\"keepalive\":0,\"not_sip\":0,"
		    "\"sctp\":0,"
		    "\"malformed\":0,\"accepted\":0,\"dropped\":0,"
		    "\"accept\":{},\"drop\":{},\"alarms\":{" JALARMS0 "},"
		    "\"alarms_suppressed\":0,\"alarm_cases\":[],"
		    "\"tables\":{\"bindings\":"
		    "[0,128],\"pending\":[0,32],\"pending_guarded\":[0,16],"
		    "\"sources\":[0,32],"
		    "\"blacklist\":[0,64],\"whitelist\":[0,4096],"
		    "\"identity_cells\":[0,256]},"
		    "\"whitelist_wrong_mac\":0,\"lapsed\":0,"
		    "\"pending_guarded_evicted\":0,"
		    "\"queue\":{\"received\":14,"
		    "\"enobufs\":2,\"errors\":4,\"verdict_msgs\":10,"
		    "\"kernel_dropped\":6,"
		    "\"user_dropped\":8,\"idle\":0,\"stall_us\":251,\"lock_wait_us\":41},\"module2\":{\"training\":true,"
		    "\"train_left\":900,\"tdist_avg\":0.000,"
		    "\"init_c_avg\":0.000,\"curr_c_avg\":0.000,"
		    "\"ds1\":false,\"scan_sketches_short\":0,"
		    "\"target_rows_short\":0},"
		    "\"nft\":{\"enabled\":false,"
		    "\"added\":0,\"removed\":0,\"errors\":0,"
		    "\"batches\":0,\"overflow\":0,\"resyncs\":0,"
		    "\"restored\":0,\"known\":0,\"admissions\":0},"
		    "\"events\":{\"written\":0,\"drops\":0,"
		    "\"drops_rate_skipped\":0,"
		    "\"lost\":0,\"errors\":0},\"drops_capture\":{"
		    "\"written\":0,\"rate_skipped\":0,\"lost\":0,"
		    "\"errors\":0,\"rotations\":0}}\n" },
	} },
	{ "stats_detect", .detect = true, .steps = {
		{ "json stats\n", NULL },	/* checked: "mode":"detect" */
	} },
	{ "bindings_none", .steps = {
		{ "bindings\n", "0 binding(s)\n" },
		{ "json bindings\n", "{\"bindings\":[],\"count\":0}\n" },
	} },
	/* Each worker holds the binding: listed once. */
	{ "bindings", .nw = 2, .binding = true, .steps = {
		{ "bindings\n", "user1@example.com                        "
		    MAC1 " 198.51.100.1 sip_ip=198.51.100.1 port=5060 impi=- "
		    "expires_in=3600\n1 binding(s)\n" },
		{ "json bindings\n", "{\"bindings\":[{\"mac\":\"" MAC1
		    "\",\"ip\":\"198.51.100.1\",\"sip_ip\":\"198.51.100.1\","
		    "\"port\":5060,\"nat\":false,\"identity\":"
		    "\"user1@example.com\",\"impi\":\"\",\"expires_in\":3600,\"lapsed\":false}"
		    "],\"count\":1}\n" },
		/* One subscriber's: by identity (any case) or address. */
		{ "bindings show USER1@example.com\n",
		    "user1@example.com                        "
		    MAC1 " 198.51.100.1 sip_ip=198.51.100.1 port=5060 impi=- "
		    "expires_in=3600\n1 binding(s)\n" },
		{ "bindings show 198.51.100.1\n",
		    "user1@example.com                        "
		    MAC1 " 198.51.100.1 sip_ip=198.51.100.1 port=5060 impi=- "
		    "expires_in=3600\n1 binding(s)\n" },
		{ "bindings show user2@example.com\n", "0 binding(s)\n" },
		{ "bindings show 198.51.100.2\n", "0 binding(s)\n" },
		{ "json bindings show 2001:db8::1\n",
		    "{\"bindings\":[],\"count\":0}\n" },
		{ "bindings show nonsense\n", "error: neither an address nor "
		    "an identity (user@host): nonsense\n" },
		{ "bindings show\n", "error: " BUSAGE "\n" },
	} },
	/* Identities of several cells: shown, found and given whole. */
	{ "bindings_long", .nw = 2, .binding = true, .long_id = true,
	    .steps = {
		{ "bindings\n", LONG_D " " MAC1 " 198.51.100.1 "
		    "sip_ip=198.51.100.1 port=5060 impi=" LONG_IMPI " "
		    "expires_in=3600\n1 binding(s)\n" },
		{ "json bindings\n", "{\"bindings\":[{\"mac\":\"" MAC1
		    "\",\"ip\":\"198.51.100.1\",\"sip_ip\":\"198.51.100.1\","
		    "\"port\":5060,\"nat\":false,\"identity\":"
		    "\"" LONG_D "\",\"impi\":\"" LONG_IMPI "\","
		    "\"expires_in\":3600,\"lapsed\":false}],\"count\":1}\n" },
		{ "bindings show " LONG_D "\n", LONG_D " " MAC1
		    " 198.51.100.1 sip_ip=198.51.100.1 port=5060 impi="
		    LONG_IMPI " expires_in=3600\n1 binding(s)\n" },
		{ "bindings show " LONG_USER "@example.org\n",
		    "0 binding(s)\n" },
	} },
	/* Runtime whitelist: every worker holds it, each change saved. */
	{ "whitelist", .nw = 2, .saves = 6, .steps = {
		{ "whitelist\n", "whitelist empty\n" },
		{ "whitelist add 203.0.113.0/28\n", "added 203.0.113.0/28\n"
		    "warning: not pinned to a MAC: anyone who can forge an "
		    "address in it is let through unjudged; pin it: "
		    "sipguardctl whitelist add 203.0.113.0/28 MAC\n" },
		{ "whitelist add 198.51.100.7 " MAC2 " peer proxy B\n",
		    "added 198.51.100.7, pinned to " MAC2 "\n" },
		{ "whitelist list\n", "203.0.113.0/28           any-mac"
		    "           runtime hits=0 age=0s\n198.51.100.7          "
		    "   " MAC2 " runtime hits=0 age=0s peer proxy B\n" },
		{ "json whitelist\n", "{\"whitelist\":[{\"prefix\":"
		    "\"203.0.113.0/28\",\"mac\":null,\"origin\":\"runtime\","
		    "\"age\":0,\"hits\":0,\"comment\":\"\"},{\"prefix\":"
		    "\"198.51.100.7\",\"mac\":\"" MAC2 "\",\"origin\":"
		    "\"runtime\",\"age\":0,\"hits\":0,\"comment\":"
		    "\"peer proxy B\"}],\"count\":2}\n" },
		/* The same prefix, pinned now: replaced. */
		{ "json whitelist add 203.0.113.0/28 " MAC1 "\n",
		    "{\"added\":true,\"replaced\":true,\"pinned\":true,"
		    "\"lifted\":0}\n" },
		/* Host bits set: a typo, refused rather than widened. */
		{ "whitelist add 203.0.113.9/28\n", "error: \"203.0.113.9/28\" "
		    "is not an address or CIDR prefix (host bits set, or an "
		    "IPv4-mapped address?)\n" },
		/* A mistyped MAC is an error, never a comment. */
		{ "whitelist add 192.0.2.9 02:00:5e:00:53:1 peer\n",
		    "error: \"02:00:5e:00:53:1\" is not a MAC address\n" },
		{ "json whitelist add 192.0.2.10\n", "{\"added\":true,"
		    "\"replaced\":false,\"pinned\":false,\"lifted\":0,"
		    "\"warning\":\"not pinned to a MAC: anyone who can forge "
		    "an address in it is let through unjudged\"}\n" },
		{ "whitelist del 198.51.100.7\n", "removed 198.51.100.7\n" },
		{ "whitelist del 198.51.100.7\n", "error: 198.51.100.7 is "
		    "not whitelisted (whitelist list shows the prefixes)\n" },
		{ "whitelist add 10.0.0.0/33\n", "error: \"10.0.0.0/33\" is "
		    "not an address or CIDR prefix (host bits set, or an "
		    "IPv4-mapped address?)\n" },
		{ "whitelist del 10.0.0.9/8\n", "error: \"10.0.0.9/8\" is not "
		    "an address or CIDR prefix (host bits set?)\n" },
		{ "whitelist add 10.0.0.1 x x x x x x x x x x x x\n",
		    "added 10.0.0.1\nwarning: not pinned to a MAC: anyone who "
		    "can forge an address in it is let through unjudged; pin "
		    "it: sipguardctl whitelist add 10.0.0.1 MAC\n" },
		{ "whitelist add 10.0.0.2 0123456789012345678901234567890123"
		    "4567890123456789 01234567890123456789012345678901234567"
		    "89\n", "error: comment longer than 79 characters\n" },
		{ "whitelist add\n", "error: whitelist [list | add CIDR "
		    "[MAC] [COMMENT] | del CIDR]\n" },
	} },
	{ "version_ping", .steps = {
		{ "version\n", "sipguard " SG_VERSION "\n" },
		{ "json version\n", "{\"version\":\"" SG_VERSION "\"}\n" },
		{ "ping\n", "pong\n" },
		{ "json ping\n", "{\"ping\":\"pong\"}\n" },
		{ "ping now\n", "error: unknown command \"ping\" (try help)\n" },
	} },
	{ "blacklist_empty", .steps = {
		{ "blacklist\n", "0 entries\n" },
		{ "blacklist list\n", "0 entries\n" },
		{ "blacklist list all\n", "0 entries\n" },
		{ "json blacklist\n", "{\"blacklist\":[],\"count\":0}\n" },
	} },
	{ "blacklist_usage", .steps = {
		{ "blacklist frob\n", BL_USAGE },
		{ "json blacklist frob\n", BL_USAGE_JSON },
		{ "blacklist forget\n", BL_USAGE },
		{ "blacklist forget " MAC1 " 192.0.2.7\n", BL_USAGE },
	} },
	/* Added to every worker, listed once. */
	{ "blacklist_add_list", .nw = 2, .steps = {
		{ "blacklist add " MAC1 " 192.0.2.7\n", "added\n" },
		{ "json blacklist add " MAC2 " 2001:db8::7 5060 ttl 60\n",
		    "{\"added\":true}\n" },
		{ "blacklist list\n", ENTRY1 ENTRY2 "2 entries\n" },
		{ "blacklist add " MAC1 " 192.0.2.7\n", "added\n" },
		{ "blacklist\n", ENTRY1 ENTRY2 "2 entries\n" },
		{ "json blacklist del " MAC2 " 2001:db8::7 5060\n",
		    "{\"deleted\":true}\n" },
		{ "json blacklist list\n",
		    "{\"blacklist\":[" JENTRY1 "],\"count\":1}\n" },
	} },
	{ "blacklist_add_bad", .steps = {
		{ "blacklist add\n", "error: want MAC IP [PORT]\n" },
		{ "blacklist add " MAC1 "\n", "error: want MAC IP [PORT]\n" },
		{ "blacklist add " MAC1 " 192.0.2.7 5060 5061\n",
		    "error: want MAC IP [PORT]\n" },
		{ "blacklist add 02:00:00:00:00:0g 192.0.2.7\n",
		    "error: bad MAC \"02:00:00:00:00:0g\"\n" },
		{ "blacklist add " MAC1 " 192.0.2.777\n",
		    "error: bad IP address \"192.0.2.777\"\n" },
		{ "blacklist add " MAC1 " 192.0.2.7 65536\n",
		    "error: bad port \"65536\"\n" },
		{ "json blacklist add " MAC1 " 192.0.2.7 0\n",
		    "{\"error\":\"bad port \\\"0\\\"\"}\n" },
		{ "blacklist\n", "0 entries\n" },
	} },
	{ "blacklist_add_ttl", .steps = {
		{ "blacklist add " MAC1 " 192.0.2.7 ttl 0.5\n",
		    "error: bad ttl \"0.5\"\n" },
		{ "blacklist add " MAC1 " 192.0.2.7 ttl 2592001\n",
		    "error: bad ttl \"2592001\"\n" },
		{ "blacklist add " MAC1 " 192.0.2.7 ttl nan\n",
		    "error: bad ttl \"nan\"\n" },
		{ "blacklist add " MAC1 " 192.0.2.7 ttl\n",
		    "error: bad port \"ttl\"\n" },
		{ "blacklist add " MAC1 " 192.0.2.7 ttl 2592000\n", "added\n" },
		{ "blacklist\n", "mi  " MAC1 " 192.0.2.7 why=manual hits=0 "
		    "expires_in=2592000\n1 entry\n" },
	} },
	{ "blacklist_add_detect", .detect = true, .steps = {
		{ "blacklist add " MAC1 " 192.0.2.7\n", "error: not listed "
		    "(whitelisted source, or mode = detect)\n" },
		{ "json blacklist add " MAC1 " 192.0.2.7\n",
		    "{\"error\":\"not listed (whitelisted source, or "
		    "mode = detect)\"}\n" },
	} },
	{ "blacklist_del", .steps = {
		{ "blacklist del " MAC1 " 192.0.2.7\n",
		    "error: no such entry\n" },
		{ "blacklist del " MAC1 "\n", "error: want MAC IP [PORT]\n" },
		{ "blacklist add " MAC1 " 192.0.2.7 5060\n", "added\n" },
		{ "blacklist del " MAC1 " 192.0.2.7\n",
		    "error: no such entry\n" },
		{ "blacklist del " MAC1 " 192.0.2.7 5060\n", "deleted\n" },
		{ "blacklist\n", "0 entries\n" },
	} },
	{ "blacklist_forget", .nw = 2, .steps = {
		{ "blacklist add " MAC1 " 192.0.2.7\n", "added\n" },
		{ "blacklist add " MAC1 " 192.0.2.8 5060\n", "added\n" },
		{ "blacklist add " MAC2 " 192.0.2.7\n", "added\n" },
		{ "blacklist forget " MAC1 "\n", "forgot 2 entries\n" },
		{ "json blacklist forget 192.0.2.7\n", "{\"forgotten\":1}\n" },
		{ "blacklist forget 192.0.2.7\n", "forgot 0 entries\n" },
		{ "blacklist forget nobody\n", "error: \"nobody\" is neither "
		    "a MAC nor an IP address\n" },
	} },
	{ "reload", .reloads = 2, .steps = {
		{ "reload\n", "reloaded test.conf\n" },
		{ "json reload\n", "{\"message\":\"reloaded test.conf\"}\n" },
	} },
	{ "save", .saves = 2, .steps = {
		{ "save\n", "saved 2 bindings, 3 blacklist entries to "
		    "/tmp/sgctl-state/" STATE_FILE "\n" },
		{ "json save\n",
		    "{\"saved\":true,\"bindings\":2,\"blacklist\":3}\n" },
	} },
	{ "save_fails", .save_fails = true, .saves = 2, .steps = {
		{ "save\n", "error: state: No space left on device\n" },
		{ "json save\n",
		    "{\"error\":\"state: No space left on device\"}\n" },
	} },
};

static void
cx_open(struct cx *x, const struct crow *r)
{
	const char		*all[nitems(sets) + 1];
	struct conf_errors	 errs;
	char			 err[256];
	int			 n = 0;

	for (size_t k = 0; k < nitems(sets); k++)
		all[n++] = sets[k];
	if (r->detect)
		all[n++] = "mode = \"detect\"";
	if (conf_load(NULL, all, n, &x->conf, &errs) == -1)
		fail_msg("%s", errs.buf);
	x->save_fails = r->save_fails;
	x->c = (struct control){
		.engines = x->e,
		.nw = r->nw > 0 ? r->nw : 1,
		.conf = &x->conf,
		.started = clock_now(),
		.arg = x,
		.lock = cx_lock,
		.unlock = cx_unlock,
		.lock_one = cx_lock_one,
		.queue = cx_queue,
		.reload = cx_reload,
		.save = cx_save,
		.save_whitelist = cx_save_whitelist,
	};
	for (int k = 0; k < x->c.nw; k++)
		assert_non_null(x->e[k] = engine_create(&x->conf));
	assert_non_null(x->c.alog = alarm_log_create(64, 0));
	tl_template(x->fx.dir, sizeof(x->fx.dir), "/tmp/sgctl");
	assert_non_null(mkdtemp(x->fx.dir));
	snprintf(x->fx.path, sizeof(x->fx.path), "%s/ctl", x->fx.dir);
	assert_true((x->fx.epfd = epoll_create1(EPOLL_CLOEXEC)) != -1);
	x->fx.ctl = ctl_open(x->fx.path, x->fx.epfd, control_handle, &x->c,
	    err, sizeof(err));
	if (x->fx.ctl == NULL)
		fail_msg("%s", err);
}

static void
cx_close(struct cx *x)
{
	ctl_close(x->fx.ctl);
	close(x->fx.epfd);
	rmdir(x->fx.dir);
	alarm_log_destroy(x->c.alog);
	for (int k = 0; k < x->c.nw; k++)
		engine_destroy(x->e[k]);
}

static void
test_command(void **state)
{
	const struct crow	*r = *state;
	struct cx		 x;
	struct ctl_stats	 st;
	int			 bad = 0, n = 0;

	memset(&x, 0, sizeof(x));
	cx_open(&x, r);
	if (r->binding)
		learn_ue1_as(&x, r->long_id);
	for (const struct step *s = r->steps; s < r->steps + STEPS_MAX &&
	    s->req != NULL; s++) {
		char	*got = ask(&x.fx, s->req, strlen(s->req));

		if (s->want != NULL && strcmp(got, s->want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", s->req, got,
			    s->want);
		if (s->want == NULL)
			assert_non_null(strstr(got, "\"mode\":\"detect\""));
		bad += strncmp(got, "error: ", 7) == 0 ||
		    strncmp(got, "{\"error\":", 9) == 0;
		assert_int_equal(x.depth, 0);
		free(got);
		n++;
	}
	/* Every "error:" answer is counted as a bad request. */
	ctl_stats(x.fx.ctl, &st);
	assert_int_equal(st.requests, n);
	assert_int_equal(st.bad, bad);
	assert_int_equal(x.reloads, r->reloads);
	assert_int_equal(x.saves, r->saves);
	cx_close(&x);
}

/* ---- Prometheus ---------------------------------------------------------- */

/* A metric or label name of the exposition format. */
static const char *
prom_name(const char *p, bool label)
{
	if (!(isalpha((unsigned char)*p) || *p == '_' || (!label && *p == ':')))
		return NULL;
	while (isalnum((unsigned char)*p) || *p == '_' || (!label && *p == ':'))
		p++;
	return p;
}

#define FAMILIES_MAX	128
#define SERIES_MAX	512

struct expo {
	char	 fam[FAMILIES_MAX][96];
	char	 type[FAMILIES_MAX][8];
	int	 nfam;
	char	 series[SERIES_MAX][192];
	int	 nseries;
};

/*
 * One sample line against the family announced last: name, labels
 * (name="value" with only \\ \" \n escapes), one space, a number.
 */
static void
check_sample(struct expo *x, const char *line)
{
	const char	*p = line, *e;
	char		*end;
	size_t		 n;

	assert_non_null(e = prom_name(p, false));
	n = (size_t)(e - p);
	if (x->nfam == 0 || strlen(x->fam[x->nfam - 1]) != n ||
	    strncmp(x->fam[x->nfam - 1], p, n) != 0)
		fail_msg("sample outside its family (or before HELP/TYPE): %s",
		    line);
	p = e;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			assert_non_null(e = prom_name(p, true));
			p = e;
			if (*p++ != '=' || *p++ != '"')
				fail_msg("bad label: %s", line);
			while (*p != '"') {
				if (*p == '\0' || *p == '\n')
					fail_msg("unterminated label: %s",
					    line);
				if (*p == '\\' && p[1] != '\\' && p[1] != '"' &&
				    p[1] != 'n')
					fail_msg("bad escape: %s", line);
				p += *p == '\\' ? 2 : 1;
			}
			p++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				fail_msg("bad label list: %s", line);
		}
		p++;
	}
	if (*p++ != ' ')
		fail_msg("no value: %s", line);
	(void)strtod(p, &end);
	if (end == p || *end != '\0')
		fail_msg("bad value: %s", line);
	/* A series once only. */
	n = (size_t)(p - 1 - line);
	assert_true(n < sizeof(x->series[0]));
	for (int k = 0; k < x->nseries; k++)
		if (strlen(x->series[k]) == n && strncmp(x->series[k], line,
		    n) == 0)
			fail_msg("series twice: %s", line);
	assert_true(x->nseries < SERIES_MAX);
	memcpy(x->series[x->nseries], line, n);
	x->series[x->nseries++][n] = '\0';
}

/* HELP then TYPE once per family, before its samples, never again. */
static void
check_exposition(struct expo *x, char *text)
{
	char	*save = NULL, *line;
	bool	 want_type = false;

	memset(x, 0, sizeof(*x));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		const char	*e;

		if (strncmp(line, "# HELP ", 7) == 0) {
			if (want_type)
				fail_msg("HELP without TYPE before: %s", line);
			assert_non_null(e = prom_name(line + 7, false));
			assert_true(*e == ' ' && e[1] != '\0');
			for (int k = 0; k < x->nfam; k++)
				if (strlen(x->fam[k]) == (size_t)(e - line -
				    7) && strncmp(x->fam[k], line + 7,
				    (size_t)(e - line - 7)) == 0)
					fail_msg("family twice: %s", line);
			assert_true(x->nfam < FAMILIES_MAX);
			snprintf(x->fam[x->nfam++], sizeof(x->fam[0]), "%.*s",
			    (int)(e - line - 7), line + 7);
			want_type = true;
		} else if (strncmp(line, "# TYPE ", 7) == 0) {
			const char *fam = x->fam[x->nfam - 1];
			const char *t = line + 7 + strlen(fam);

			if (!want_type || strncmp(line + 7, fam,
			    strlen(fam)) != 0 || *t != ' ')
				fail_msg("TYPE not after its HELP: %s", line);
			t++;
			if (strcmp(t, "counter") != 0 &&
			    strcmp(t, "gauge") != 0)
				fail_msg("bad type: %s", line);
			/* Counters are named _total (Prometheus practice). */
			if (strcmp(t, "counter") == 0)
				assert_non_null(strstr(fam, "_total"));
			snprintf(x->type[x->nfam - 1], sizeof(x->type[0]),
			    "%s", t);
			want_type = false;
		} else {
			if (want_type || line[0] == '#')
				fail_msg("unexpected line: %s", line);
			check_sample(x, line);
		}
	}
	assert_false(want_type);
}

/* The value of the sample `series' (name and labels exactly). */
static double
sample(const char *text, const char *series)
{
	char		 pat[256];
	const char	*p;

	snprintf(pat, sizeof(pat), "\n%s ", series);
	if ((p = strstr(text, pat)) == NULL)
		fail_msg("no sample %s", series);
	return strtod(p + strlen(pat), NULL);
}

/* A REGISTER from UE 1 through worker 0: a packet, a message, a verdict. */
static void
feed_register(struct cx *x)
{
	struct pg_ep	 ue = { { 0x02, 0, 0, 0, 0, 1 }, "198.51.100.1",
			    5060 };
	struct pg_ep	 px = { { 0x02, 0, 0, 0, 0, 0xfe }, "192.0.2.1",
			    5060 };
	struct pg_msg	 m = { .method = "REGISTER", .via = "198.51.100.1",
			    .branch = "z9hG4bK-m1", .from =
			    "sip:user1@example.com", .to =
			    "sip:user1@example.com", .from_tag = "1",
			    .call_id = "metrics-1", .cseq = 1,
			    .contact = "<sip:user1@198.51.100.1>",
			    .expires = 3600 };
	char		 sip[2048];
	uint8_t		 frame[4096];
	size_t		 n = pg_sip(sip, sizeof(sip), &m), len;

	assert_true(n > 0);
	len = pg_frame(frame, sizeof(frame), &ue, &px, sip, n, NULL);
	assert_true(len > 0);
	engine_packet(x->e[0], LINK_ETHERNET, frame, len, NULL, DIR_UNKNOWN,
	    clock_now());
}

/* Worker k gets a BYE in user1's name, from its address, another MAC. */
static enum sg_verdict
feed_forged_bye(struct cx *x, int k)
{
	struct pg_ep	 at = { { 0x02, 0, 0, 0, 0, 0x66 }, "198.51.100.1",
			    5060 };
	struct pg_ep	 px = { { 0x02, 0, 0, 0, 0, 0xfe }, "192.0.2.1",
			    5060 };
	struct pg_msg	 m = { .method = "BYE", .via = "198.51.100.1",
			    .branch = "z9hG4bK-f1", .from =
			    "sip:user1@example.com", .to =
			    "sip:user2@example.com", .from_tag = "1",
			    .to_tag = "2", .call_id = "forged-1", .cseq = 2,
			    .expires = -1 };
	char		 sip[2048];
	uint8_t		 frame[4096];
	size_t		 n = pg_sip(sip, sizeof(sip), &m), len;

	assert_true(n > 0);
	len = pg_frame(frame, sizeof(frame), &at, &px, sip, n, NULL);
	assert_true(len > 0);
	return engine_packet(x->e[k], LINK_ETHERNET, frame, len, NULL,
	    DIR_UNKNOWN, clock_now());
}

static const struct crow cases_row = { "cases", .nw = 2, .binding = true };

/*
 * Alarms by type, case and action: each worker's spoof ix alarm summed
 * into one sample of sipguard_alarm_cases_total, in `stats' text and
 * JSON too; the alarms_total family keeps its meaning (by type).
 */
static void
test_metrics_cases(void **state)
{
	struct cx	 x;
	struct ctl_buf	 b, j, t;
	struct expo	*e = calloc(1, sizeof(*e));
	char		 line[] = "stats", line2[] = "stats", *text;

	(void)state;
	assert_non_null(e);
	memset(&x, 0, sizeof(x));
	cx_open(&x, &cases_row);
	learn_ue1_as(&x, false);
	assert_int_equal(feed_forged_bye(&x, 0), SG_DROP);
	assert_int_equal(feed_forged_bye(&x, 1), SG_DROP);
	memset(&b, 0, sizeof(b));
	memset(&j, 0, sizeof(j));
	memset(&t, 0, sizeof(t));
	control_metrics(&x.c, &b);
	assert_false(b.failed);
	assert_int_equal(control_handle(&x.c, line, true, &j), 0);
	assert_int_equal(control_handle(&x.c, line2, false, &t), 0);
	assert_non_null(text = malloc(b.len + 2));
	text[0] = '\n';
	memcpy(text + 1, b.p, b.len);
	text[b.len + 1] = '\0';
	assert_non_null(strstr(text, "\n# TYPE sipguard_alarm_cases_total "
	    "counter\n"));
	assert_true(sample(text, "sipguard_alarm_cases_total{type=\"spoof\","
	    "case=\"ix\",action=\"block\"}") == 2);
	assert_true(sample(text, "sipguard_alarms_total{type=\"spoof\"}") ==
	    2);
	assert_non_null(strstr(j.p, "\"alarm_cases\":[{\"type\":\"spoof\","
	    "\"case\":\"ix\",\"action\":\"block\",\"count\":2}]"));
	assert_non_null(strstr(t.p, "\nalarms by case: spoof/ix/block=2\n"));
	check_exposition(e, text + 1);
	free(text);
	free(b.p);
	free(j.p);
	free(t.p);
	free(e);
	cx_close(&x);
}

/*
 * The table is bounded: past ENGINE_CASES combinations, by type and
 * action into "other"; a label past its bytes counts with its cut copy;
 * a clear is no alarm.
 */
static void
test_cases_table(void **state)
{
	struct engine_cases	*c = calloc(1, sizeof(*c));
	char			 k[32];

	(void)state;
	assert_non_null(c);
	for (int n = 0; n < ENGINE_CASES + 5; n++) {
		snprintf(k, sizeof(k), "c%d", n);
		engine_cases_add(c, ALARM_MALFORMED, k, ACT_DROP, 1);
		engine_cases_add(c, ALARM_MALFORMED, k, ACT_DROP, 2);
	}
	assert_int_equal(c->used, ENGINE_CASES);
	assert_int_equal(c->slot[0].n, 3);
	assert_int_equal(c->other[ALARM_MALFORMED][ACT_DROP], 15);
	memset(c, 0, sizeof(*c));
	engine_cases_add(c, ALARM_SPOOF, NULL, ACT_NOTICE, 1);
	engine_cases_add(c, ALARM_SPOOF, "", ACT_NOTICE, 1);
	engine_cases_add(c, ALARM_SPOOF, "ix", ACT_NOTICE, 1);
	engine_cases_add(c, ALARM_SPOOF, "ix", ACT_BLOCK, 1);
	engine_cases_add(c, ALARM_DS1, NULL, ACT_CLEAR, 1);
	engine_cases_add(c, ALARM_SPOOF,
	    "a-label-much-longer-than-its-slot-1", ACT_DROP, 1);
	engine_cases_add(c, ALARM_SPOOF,
	    "a-label-much-longer-than-its-slot-2", ACT_DROP, 1);
	assert_int_equal(c->used, 4);
	assert_string_equal(c->slot[0].kase, "");
	assert_int_equal(c->slot[0].n, 2);
	assert_int_equal(c->slot[3].n, 2);
	assert_int_equal(strlen(c->slot[3].kase), ENGINE_CASE_MAX - 1);
	free(c);
}

static const struct crow metrics_row = { "metrics", .nw = 2 };

static void
test_metrics(void **state)
{
	struct cx	 x;
	struct ctl_buf	 b, j;
	struct expo	*e = calloc(1, sizeof(*e));
	char		 line[] = "stats", *text, *p;
	double		 packets;

	(void)state;
	assert_non_null(e);
	memset(&x, 0, sizeof(x));
	cx_open(&x, &metrics_row);
	feed_register(&x);
	memset(&b, 0, sizeof(b));
	memset(&j, 0, sizeof(j));
	control_metrics(&x.c, &b);
	assert_false(b.failed);
	assert_int_equal(x.depth, 0);
	assert_int_equal(control_handle(&x.c, line, true, &j), 0);
	/* "\n" first, so that sample() finds the first line too. */
	assert_non_null(text = malloc(b.len + 2));
	text[0] = '\n';
	memcpy(text + 1, b.p, b.len);
	text[b.len + 1] = '\0';

	/* The counters are those of `json stats', by the same table. */
	assert_non_null(p = strstr(j.p, "\"packets\":"));
	packets = strtod(p + 10, NULL);
	assert_true(packets >= 1);
	assert_true(sample(text, "sipguard_packets_total") == packets);
	assert_true(sample(text, "sipguard_sip_messages_total") == 1);
	assert_true(sample(text,
	    "sipguard_verdicts_total{verdict=\"accept\",reason=\"x\"}") ==
	    1);
	assert_true(sample(text,
	    "sipguard_verdicts_total{verdict=\"drop\",reason=\"ix\"}") ==
	    0);
	assert_true(sample(text, "sipguard_alarms_total{type=\"spoof\"}") ==
	    0);
	assert_true(sample(text, "sipguard_mode{mode=\"prevent\"}") == 1);
	assert_true(sample(text, "sipguard_queues") == 2);
	/* Per queue, numbered from queue.num (7): each worker's own. */
	assert_true(sample(text,
	    "sipguard_queue_received_total{queue=\"7\"}") == 7);
	assert_true(sample(text,
	    "sipguard_queue_kernel_dropped_total{queue=\"8\"}") == 3);
	assert_true(sample(text,
	    "sipguard_table_capacity{table=\"bindings\"}") == 128);
	assert_true(sample(text,
	    "sipguard_table_entries{table=\"bindings\"}") == 0);
	assert_true(sample(text, "sipguard_module2_training") == 1);
	assert_true(sample(text, "sipguard_events_lost_total") == 0);

	check_exposition(e, text + 1);
	/* The two verdicts and the four tables are one family each. */
	assert_true(e->nfam > 30);
	free(text);
	free(b.p);
	free(j.p);
	free(e);
	cx_close(&x);
}

static const struct lrow {
	const char	*name, *in, *want;
} lrows[] = {
	{ "plain", "prevent", "\"prevent\"" },
	{ "empty", "", "\"\"" },
	{ "quote", "a\"b", "\"a\\\"b\"" },
	{ "backslash", "a\\b", "\"a\\\\b\"" },
	{ "newline", "a\nb", "\"a\\nb\"" },
	{ "all", "\\\"\n", "\"\\\\\\\"\\n\"" },
	/* Cut where the buffer ends, the quote closed. */
	{ "cut", "abcdefghijklmnopqrstuvwxyz", "\"abcdefghijkl\"" },
};

static void
test_prom_label(void **state)
{
	const struct lrow	*r = *state;
	char			 buf[16];
	size_t			 n;

	n = control_prom_label(buf, sizeof(buf), r->in);
	assert_string_equal(buf, r->want);
	assert_int_equal(n, strlen(r->want));
}

int
main(void)
{
	TREG_ROWS("ctl", test_row, rows);
	treg_add("ctl", "too_long", test_too_long, NULL);
	TREG_ROWS("control", test_command, crows);
	treg_add("metrics", "exposition", test_metrics, NULL);
	treg_add("metrics", "alarm_cases", test_metrics_cases, NULL);
	treg_add("metrics", "cases_table", test_cases_table, NULL);
	TREG_ROWS("prom_label", test_prom_label, lrows);
	return treg_run("ctl");
}
