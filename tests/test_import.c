/*
 * test_import.c: the proxy's registrations as bindings (import.h) and the
 * MAC pinned on the first message (bind_import(), bind_pin()).  Dumps of
 * both formats are written to files here and read back; field mapping,
 * the NAT received address, expiry from the dump's time, bad records and
 * bad files, a table too small; then, through the engine, a phone whose
 * binding was imported calls (accepted once unpinned, then vii), a forger
 * at its address with another MAC is dropped as ix, and a forger who
 * speaks first takes the pin (what the import trusts, shown); and the
 * control command, as sipguardctl sends it.
 */
#include <sys/stat.h>

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
#include "conf.h"
#include "control.h"
#include "ctl.h"
#include "engine.h"
#include "hash.h"
#include "import.h"
#include "scenario.h"
#include "sipguard.h"
#include "testlib.h"

#define T0	SEC(1700000000)

struct fx {
	struct sg_conf		 conf;
	struct bind_table	*bt;
	char			 path[64];
};

static int
setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));
	int		 fd;

	assert_non_null(f);
	conf_defaults(&f->conf);
	f->conf.tab_bindings = 64;
	f->bt = bind_create(&f->conf);
	assert_non_null(f->bt);
	tl_template(f->path, sizeof(f->path), "/tmp/sgimport");
	assert_true((fd = mkstemp(f->path)) >= 0);
	close(fd);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	if (f != NULL) {
		unlink(f->path);
		bind_destroy(f->bt);
		free(f);
	}
	return 0;
}

static void
put_file(const char *path, const char *text)
{
	FILE	*fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Write `text', read it back as the daemon does, import at `now'. */
static int
import_text(struct fx *f, const char *text, const char *domain,
    uint64_t dumped, uint64_t now, struct import_result *r, char *err,
    size_t errlen)
{
	char		*buf;
	size_t		 len;
	uint64_t	 mtime;
	int		 rc;

	put_file(f->path, text);
	assert_int_equal(import_read(f->path, &buf, &len, UINT64_MAX, &mtime,
	    err, errlen), 0);
	assert_int_equal(len, strlen(text));
	rc = import_buf(buf, len, domain, &f->bt, 1, dumped, now, NULL, NULL,
	    r, err, errlen);
	free(buf);
	return rc;
}

/* The one live binding of identity `d' (NULL if none). */
static const struct binding *
binding_of(struct fx *f, const char *d)
{
	for (uint32_t s = 0; s < bind_capacity(f->bt); s++) {
		const struct binding *b = bind_at(f->bt, s);
		char		 buf[SG_ID_MAX];

		if (b != NULL && strcmp(bind_d(f->bt, b, buf), d) == 0)
			return b;
	}
	return NULL;
}

static void
assert_addr(const struct sg_addr *a, const char *ip)
{
	char	 buf[64];

	sg_addr_str(a, buf, sizeof(buf));
	assert_string_equal(buf, ip);
}

/* As `kamctl rpc ul.dump' prints it through jsonrpcs (Kamailio 5.x). */
static const char KAMAILIO[] =
    "{\"jsonrpc\":\"2.0\",\"result\":{\"Domains\":[{\"Domain\":{"
    "\"Domain\":\"location\",\"Size\":1024,\"AoRs\":["
    "{\"Info\":{\"AoR\":\"Alice@Example.COM\",\"HashID\":1,\"Contacts\":["
    "{\"Contact\":{\"Address\":\"sip:alice@10.0.0.10:5060;transport=udp\","
    "\"Expires\":3600,\"Q\":-1,\"Call-ID\":\"c1\",\"CSeq\":2,"
    "\"User-Agent\":\"phone\",\"Received\":\"[not set]\","
    "\"Path\":\"[not set]\",\"State\":\"CS_NEW\",\"Flags\":0,"
    "\"CFlags\":0,\"Socket\":\"udp:192.0.2.1:5060\",\"Methods\":8191,"
    "\"Ruid\":\"r1\",\"Instance\":\"[not set]\",\"Reg-Id\":0}}]}},"
    "{\"Info\":{\"AoR\":\"bob\",\"HashID\":2,\"Contacts\":["
    "{\"Contact\":{\"Address\":\"sip:bob@192.168.1.20:5062\","
    "\"Expires\":120,\"Received\":\"sip:203.0.113.5:40000\","
    "\"Socket\":\"udp:192.0.2.1:5060\"}}]}}],"
    "\"Stats\":{\"Records\":2,\"Max-Slots\":1}}}]},\"id\":1}\n";

/* As `opensips-cli -x mi ul_dump' prints it (OpenSIPS 3.x). */
static const char OPENSIPS[] =
    "{\"Domains\":[{\"name\":\"location\",\"hash_size\":512,\"AORs\":["
    "{\"AOR\":\"carol@example.com\",\"Contacts\":["
    "{\"Contact\":\"sip:carol@10.0.0.30\",\"ContactID\":\"1\","
    "\"Expires\":600,\"Q\":\"\",\"Callid\":\"x\",\"Cseq\":1,"
    "\"User-agent\":\"phone\",\"State\":\"CS_NEW\",\"Flags\":0,"
    "\"Cflags\":\"\",\"Socket\":\"udp:192.0.2.1:5060\",\"Methods\":1},"
    "{\"Contact\":\"sip:carol@192.168.7.7:5060\",\"Expires\":\"300\","
    "\"Received\":\"sip:[2001:db8::7]:5060\"}]}]}]}\n";

static void
test_kamailio(void **st)
{
	struct fx		*f = *st;
	struct import_result	 r;
	const struct binding	*b;
	char			 err[256];

	assert_int_equal(import_text(f, KAMAILIO, "example.com", T0, T0, &r,
	    err, sizeof(err)), 0);
	assert_string_equal(r.format, "kamailio");
	assert_int_equal(r.records, 2);
	assert_int_equal(r.contacts, 2);
	assert_int_equal(r.imported, 2);
	assert_int_equal(r.malformed + r.refused + r.expired + r.known, 0);
	/* d lower-cased as the packet parser makes it; no MAC yet. */
	assert_non_null(b = binding_of(f, "alice@example.com"));
	assert_true(b->pin);
	assert_false(b->has_m);
	assert_false(b->nat);
	assert_addr(&b->i, "10.0.0.10");
	assert_addr(&b->s, "10.0.0.10");
	assert_true(b->expires == T0 + SEC(3600));
	/* user-only AoR (use_domain = 0): the domain given; NAT. */
	assert_non_null(b = binding_of(f, "bob@example.com"));
	assert_addr(&b->i, "203.0.113.5");
	assert_addr(&b->s, "192.168.1.20");
	assert_true(b->nat);
	assert_int_equal(b->port, 40000);
	assert_true(b->expires == T0 + SEC(120));
	/* Again: both known, nothing added. */
	assert_int_equal(import_text(f, KAMAILIO, "example.com", T0, T0, &r,
	    err, sizeof(err)), 0);
	assert_int_equal(r.known, 2);
	assert_int_equal(r.imported, 0);
}

static void
test_opensips(void **st)
{
	struct fx		*f = *st;
	struct import_result	 r;
	struct bind_stats	 bs;
	char			 err[256];

	/* The dump is 100 s old: Expires count from it. */
	assert_int_equal(import_text(f, OPENSIPS, NULL, T0, T0 + SEC(100),
	    &r, err, sizeof(err)), 0);
	assert_string_equal(r.format, "opensips");
	assert_int_equal(r.contacts, 2);
	assert_int_equal(r.imported, 2);
	bind_stats(f->bt, &bs);
	assert_int_equal(bs.pending, 2);
	for (uint32_t s = 0; s < bind_capacity(f->bt); s++) {
		const struct binding *b = bind_at(f->bt, s);
		char	 ip[64], buf[SG_ID_MAX];

		if (b == NULL)
			continue;
		assert_string_equal(bind_d(f->bt, b, buf),
		    "carol@example.com");
		sg_addr_str(&b->i, ip, sizeof(ip));
		if (strcmp(ip, "10.0.0.30") == 0)
			assert_true(b->expires == T0 + SEC(600));
		else {
			assert_string_equal(ip, "2001:db8::7");
			assert_addr(&b->s, "192.168.7.7");
			assert_true(b->expires == T0 + SEC(300));
		}
	}
}

/* Expires as OpenSIPS's MI may print a number: 300.0; 300.5 is not. */
static void
test_real_expires(void **st)
{
	struct fx		*f = *st;
	struct import_result	 r;
	const struct binding	*b;
	char			 err[256];

	assert_int_equal(import_text(f, "{\"AORs\":[{\"AOR\":\"d@x.org\","
	    "\"Contacts\":[{\"Contact\":\"sip:d@10.4.4.4\",\"Expires\":"
	    "300.0},{\"Contact\":\"sip:d@10.4.4.5\",\"Expires\":300.5}]}]}",
	    NULL, T0, T0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.imported, 1);
	assert_int_equal(r.malformed, 1);
	assert_non_null(b = binding_of(f, "d@x.org"));
	assert_true(b->expires == T0 + SEC(300));
}

/* A user-only AoR with no domain configured cannot name d. */
static void
test_no_domain(void **st)
{
	struct fx		*f = *st;
	struct import_result	 r;
	char			 err[256];

	assert_int_equal(import_text(f, KAMAILIO, "", T0, T0, &r, err,
	    sizeof(err)), 0);
	assert_int_equal(r.imported, 1);
	assert_int_equal(r.malformed, 1);
}

static void
test_expiry(void **st)
{
	struct fx		*f = *st;
	struct import_result	 r;
	char			 err[256];

	/* 200 s after the dump: bob's 120 s are over, alice's are not. */
	assert_int_equal(import_text(f, KAMAILIO, "example.com", T0,
	    T0 + SEC(200), &r, err, sizeof(err)), 0);
	assert_int_equal(r.imported, 1);
	assert_int_equal(r.expired, 1);
	assert_non_null(binding_of(f, "alice@example.com"));
	assert_null(binding_of(f, "bob@example.com"));
	/* The imported binding expires like any other. */
	bind_expire(f->bt, T0 + SEC(3601), bind_capacity(f->bt));
	assert_null(binding_of(f, "alice@example.com"));
}

/* Records with a bad field are skipped and counted; the rest imported. */
static void
test_bad_records(void **st)
{
	static const char text[] =
	    "{\"result\":{\"AoRs\":["
	    "{\"Info\":{\"AoR\":\"a@x.org\",\"Contacts\":["
	    "{\"Contact\":{\"Expires\":60}},"			/* no Address */
	    "{\"Contact\":{\"Address\":\"sip:a@10.1.1.1\",\"Expires\":"
	    "\"soon\"}},"					/* bad Expires */
	    "{\"Contact\":{\"Address\":\"sip:a@10.1.1.1\",\"Expires\":60,"
	    "\"Received\":\"sip:not-an-ip:5060\"}},"		/* bad Received */
	    "{\"Contact\":{\"Address\":\"sip:a@phone.example\","
	    "\"Expires\":60}},"					/* no IP at all */
	    "{\"Contact\":{\"Address\":\"sip:a@10.1.1.1>\\r\\nX: y\","
	    "\"Expires\":60}},"					/* injection */
	    "{\"Contact\":{\"Address\":\"sip:a@10.1.1.1\",\"Expires\":-5}},"
	    "{\"Contact\":{\"Address\":\"sip:a@10.1.1.1\",\"Expires\":"
	    "\"permanent\"}},"					/* no end */
	    "{\"Contact\":{\"Address\":\"sip:a@10.1.1.1\",\"Expires\":"
	    "\"expired\"}},"
	    "7,"						/* not an object */
	    "{\"Contact\":{\"Address\":\"sip:a@10.1.1.2\",\"Expires\":60}}"
	    "]}},"
	    "{\"Info\":{\"Contacts\":[{\"Contact\":{\"Address\":"
	    "\"sip:b@10.1.1.3\",\"Expires\":60}}]}},"		/* no AoR */
	    "{\"Info\":{\"AoR\":\"c@x.org\",\"Contacts\":{}}}"	/* not array */
	    "]}}";
	struct fx		*f = *st;
	struct import_result	 r;
	char			 err[256];

	assert_int_equal(import_text(f, text, "x.org", T0, T0, &r, err,
	    sizeof(err)), 0);
	assert_int_equal(r.records, 3);
	assert_int_equal(r.contacts, 11);
	assert_int_equal(r.imported, 1);
	assert_int_equal(r.expired, 2);
	assert_int_equal(r.malformed, 9);
	assert_non_null(binding_of(f, "a@x.org"));
}

/* A file that is no dump at all: one clear error, nothing imported. */
static const struct bad_file {
	const char	*name;
	const char	*text;
	const char	*err;		/* a part of the message */
} bad_files[] = {
	{ "kamcmd_text", "{\n\tDomains: {\n\t\tDomain: {\n", "not JSON" },
	{ "truncated", "{\"result\":{\"AoRs\":[", "not JSON" },
	{ "empty", "", "not JSON" },
	{ "no_aors", "{\"jsonrpc\":\"2.0\",\"result\":{}}",
	    "no registrations" },
	{ "rpc_error", "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":500,"
	    "\"message\":\"command ul.dump not found\"}}",
	    "command ul.dump not found" },
	{ "duplicate_key", "{\"AoRs\":[],\"AoRs\":[]}", "duplicate" },
	{ "binary", "\x01\x02\xff\xfe", "not JSON" },
};

static void
test_bad_file(void **st)
{
	const struct bad_file	*row = *st;
	struct fx		 f;
	struct import_result	 r;
	char			 err[256];
	void			*fs = &f;

	setup(&fs);
	assert_int_equal(import_text(fs, row->text, NULL, T0, T0, &r, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, row->err));
	assert_null(bind_at(((struct fx *)fs)->bt, 0));
	teardown(&fs);
}

/* An empty table dump is no error. */
static void
test_empty_dump(void **st)
{
	struct fx		*f = *st;
	struct import_result	 r;
	char			 err[256];

	assert_int_equal(import_text(f, "{\"Domains\":[{\"Domain\":{\"AoRs\":"
	    "[]}}]}", NULL, T0, T0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.contacts, 0);
	assert_string_equal(r.format, "empty");
}

static void
test_missing_file(void **st)
{
	struct fx		*f = *st;
	char			*buf;
	size_t			 len;
	uint64_t		 dumped;
	char			 err[256];

	unlink(f->path);
	assert_int_equal(import_read(f->path, &buf, &len, T0, &dumped, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, f->path));
	assert_int_equal(import_read("/tmp", &buf, &len, T0, &dumped, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
}

/* More contacts than free rows: what fits, the rest counted as refused. */
static void
test_table_full(void **st)
{
	struct fx		*f = *st;
	struct import_result	 r;
	char			*text, err[256];
	size_t			 sz = 1 << 16, o = 0;

	assert_non_null(text = malloc(sz));
	o += (size_t)snprintf(text + o, sz - o, "{\"AORs\":[");
	for (int k = 0; k < 100; k++)
		o += (size_t)snprintf(text + o, sz - o, "%s{\"AOR\":"
		    "\"u%d@x.org\",\"Contacts\":[{\"Contact\":"
		    "\"sip:u%d@10.2.%d.%d\",\"Expires\":60}]}", k ? "," : "",
		    k, k, k / 200, k % 200 + 1);
	snprintf(text + o, sz - o, "]}");
	assert_int_equal(import_text(f, text, NULL, T0, T0, &r, err,
	    sizeof(err)), 0);
	assert_int_equal(r.contacts, 100);
	assert_int_equal(r.imported, 64);
	assert_int_equal(r.refused, 36);
	free(text);
}

/* Never pushes out a binding sipguard learned, nor one of its identity. */
static void
test_known_kept(void **st)
{
	struct fx		*f = *st;
	struct import_result	 r;
	struct sg_tuple		 t;
	const struct binding	*b;
	char			 err[256];

	/* alice learned from a REGISTER's 200 at 10.0.0.10, MAC known. */
	assert_int_equal(import_text(f, KAMAILIO, "example.com", T0, T0, &r,
	    err, sizeof(err)), 0);
	b = binding_of(f, "alice@example.com");
	memset(&t, 0, sizeof(t));
	t.has_m = true;
	t.m.b[0] = 0x02;
	t.m.b[5] = 0x0a;
	t.i = b->i;
	t.s = b->s;
	t.dh = b->dh;
	snprintf(t.d, sizeof(t.d), "alice@example.com");
	/* The learned binding replaces the unpinned one of d at i. */
	assert_int_equal(bind_learn(f->bt, &t, 0, T0 + SEC(60), T0, &b),
	    BIND_NEW);
	assert_false(b->pin);
	assert_int_equal(import_text(f, KAMAILIO, "example.com", T0, T0, &r,
	    err, sizeof(err)), 0);
	assert_int_equal(r.known, 2);
	b = binding_of(f, "alice@example.com");
	assert_false(b->pin);
	assert_true(b->has_m);
}

/*
 * A restart before the phone spoke: the state file kept the unpinned
 * binding with MAC "none"; the import at start makes it wait again.
 */
static void
test_restored_unpinned(void **st)
{
	struct fx		*f = *st;
	struct import_result	 r;
	struct binding		 saved;
	struct bind_table	*bt2;
	const struct binding	*b;
	char			 err[256];

	assert_int_equal(import_text(f, KAMAILIO, "example.com", T0, T0, &r,
	    err, sizeof(err)), 0);
	saved = *binding_of(f, "alice@example.com");
	saved.pin = false;		/* what state.c writes and reads */
	assert_non_null(bt2 = bind_create(&f->conf));
	assert_int_equal(bind_restore(bt2, &saved, "alice@example.com", "",
	    T0 + SEC(10)), 1);
	bind_destroy(f->bt);
	f->bt = bt2;
	b = binding_of(f, "alice@example.com");
	assert_false(b->pin);
	assert_false(b->has_m);
	assert_int_equal(import_text(f, KAMAILIO, "example.com", T0,
	    T0 + SEC(10), &r, err, sizeof(err)), 0);
	assert_int_equal(r.imported, 2);
	b = binding_of(f, "alice@example.com");
	assert_true(b->pin);
	assert_true(b->expires == T0 + SEC(3600));
}

/* ---- sipguardctl bindings import ----------------------------------------- */

static int	nlocked;

static void
lock(void *arg)
{
	(void)arg;
	nlocked++;
}

static void
unlock(void *arg)
{
	(void)arg;
	nlocked--;
}

static void
lock_one(void *arg, int k, bool on)
{
	(void)arg;
	assert_true(k >= 0 && k < 2);
	nlocked += on ? 1 : -1;
}

/* One request to control_handle(); the answer (caller frees). */
static char *
ask(struct control *c, const char *req, bool json, int *rc)
{
	struct ctl_buf	 o = { NULL, 0, 0, false };
	char		 line[512];

	snprintf(line, sizeof(line), "%s", req);
	*rc = control_handle(c, line, json, &o);
	assert_int_equal(nlocked, 0);
	assert_non_null(o.p);
	return o.p;
}

static void
test_command(void **st)
{
	struct fx		*f = *st;
	struct engine		*e[2];
	struct control		 c;
	char			 req[256], *got;
	int			 rc;

	f->conf.tab_bindings = 64;
	e[0] = engine_create(&f->conf);
	e[1] = engine_create(&f->conf);
	assert_non_null(e[0]);
	assert_non_null(e[1]);
	memset(&c, 0, sizeof(c));
	c.engines = e;
	c.nw = 2;
	c.conf = &f->conf;
	c.lock = lock;
	c.unlock = unlock;
	c.lock_one = lock_one;
	put_file(f->path, KAMAILIO);

	got = ask(&c, "bindings import relative.json", false, &rc);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(got, "not an absolute path"));
	free(got);
	/* bob's AoR has no domain and none is given: malformed. */
	snprintf(req, sizeof(req), "bindings import %s", f->path);
	got = ask(&c, req, false, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(got, "imported 1 of 2 contacts (kamailio): 0 "
	    "known, 0 expired, 0 refused (table full or quota), 1 "
	    "malformed\n");
	free(got);
	snprintf(req, sizeof(req), "bindings import %s example.com", f->path);
	got = ask(&c, req, true, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(got, "{\"format\":\"kamailio\",\"records\":2,"
	    "\"contacts\":2,\"imported\":1,\"known\":1,\"expired\":0,"
	    "\"refused\":0,\"malformed\":0}\n");
	free(got);
	/* Every worker holds them. */
	for (int k = 0; k < 2; k++) {
		struct bind_stats	 bs;

		bind_stats(engine_bindings(e[k]), &bs);
		assert_int_equal(bs.pending, 2);
	}
	put_file(f->path, "{\n\tDomains: {\n");
	got = ask(&c, req, false, &rc);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(got, f->path));
	assert_non_null(strstr(got, "not JSON"));
	free(got);
	/* The listing shows the MAC as none until pinned. */
	got = ask(&c, "bindings", false, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(got, "alice@example.com"));
	assert_non_null(strstr(got, " none 10.0.0.10 "));
	free(got);
	engine_destroy(e[0]);
	engine_destroy(e[1]);
}

/* ---- through the engine -------------------------------------------------- */

static const char *const SETS[] = {
	"proxy.addresses = [\"192.0.2.1\"]",
	"startup.learn = 0",
	NULL,
};

static const struct pg_ep PROXY = { { 0x02, 0, 0, 0, 0, 0x01 }, "192.0.2.1",
	5060 };
static const struct pg_ep ALICE = { { 0x02, 0, 0, 0, 0, 0x0a },
	"10.0.0.10", 5060 };
static const struct pg_ep EVE_AT_ALICE = { { 0x02, 0, 0, 0, 0, 0xee },
	"10.0.0.10", 5060 };
static const struct pg_ep BOB_NAT = { { 0x02, 0, 0, 0, 0, 0x0b },
	"203.0.113.5", 40000 };

static void
send_from(struct scn *s, const struct pg_ep *src, const char *via,
    const char *from, const char *method)
{
	char		 cid[64], a[80], c[120];
	struct pg_msg	 m;

	scn_token(s, cid, sizeof(cid));
	snprintf(a, sizeof(a), "sip:%s@example.com", from);
	snprintf(c, sizeof(c), "<sip:%s@%s>", from, via);
	memset(&m, 0, sizeof(m));
	m.method = method;
	m.via = via;
	m.from = a;
	m.to = "sip:carol@example.com";
	m.call_id = cid;
	m.cseq = 1;
	m.contact = c;
	m.expires = -1;
	scn_send(s, src, &PROXY, &m);
}

static enum sg_reason
reason(const struct scn *s)
{
	assert_true(s->seen.nres >= 1);
	return s->seen.res[0].r;
}

static void
engine_import(struct scn *s)
{
	struct bind_table	*bt = engine_bindings(s->e);
	struct import_result	 r;
	char			 err[256];

	assert_int_equal(import_buf(KAMAILIO, strlen(KAMAILIO), "example.com",
	    &bt, 1, s->now, s->now, NULL, NULL, &r, err, sizeof(err)), 0);
	assert_int_equal(r.imported, 2);
}

static void
test_engine_pin(void **st)
{
	struct scn		 s;
	struct bind_stats	 bs;

	(void)st;
	assert_int_equal(scn_init(&s, "import_pin", SETS, NULL, true), 0);
	/* Without the import: alice has no binding, case b, dropped. */
	send_from(&s, &ALICE, "10.0.0.10", "alice", "MESSAGE");
	assert_int_equal(s.verdict, SG_DROP);
	assert_int_equal(reason(&s), SG_R_CASE_B);
	scn_fini(&s);

	assert_int_equal(scn_init(&s, "import_pin", SETS, NULL, true), 0);
	engine_import(&s);
	/* Her first message pins her MAC: accepted, vii. */
	send_from(&s, &ALICE, "10.0.0.10", "alice", "INVITE");
	assert_int_equal(s.verdict, SG_ACCEPT);
	assert_int_equal(reason(&s), SG_R_CASE_VII);
	bind_stats(engine_bindings(s.e), &bs);
	assert_int_equal(bs.pinned, 1);
	assert_int_equal(bs.pending, 1);
	send_from(&s, &ALICE, "10.0.0.10", "alice", "MESSAGE");
	assert_int_equal(s.verdict, SG_ACCEPT);
	/* Another MAC at her address, her identity: ix, dropped. */
	send_from(&s, &EVE_AT_ALICE, "10.0.0.10", "alice", "BYE");
	assert_int_equal(s.verdict, SG_DROP);
	assert_int_equal(reason(&s), SG_R_CASE_IX);
	/* bob behind NAT: from his received address, his private Via. */
	send_from(&s, &BOB_NAT, "192.168.1.20", "bob", "INVITE");
	assert_int_equal(s.verdict, SG_ACCEPT);
	assert_int_equal(reason(&s), SG_R_CASE_VII);
	/* Unpinned bob at his address but another Via: not pinned. */
	bind_stats(engine_bindings(s.e), &bs);
	assert_int_equal(bs.pending, 0);
	assert_int_equal(bs.pinned, 2);
	scn_fini(&s);
}

/* What the import trusts: the first MAC at the address, whoever's. */
static void
test_engine_first_wins(void **st)
{
	struct scn	 s;

	(void)st;
	assert_int_equal(scn_init(&s, "import_first", SETS, NULL, true), 0);
	engine_import(&s);
	/* A wrong Via (s) or a wrong identity pins nothing. */
	send_from(&s, &EVE_AT_ALICE, "10.9.9.9", "alice", "MESSAGE");
	assert_int_equal(s.verdict, SG_DROP);
	send_from(&s, &EVE_AT_ALICE, "10.0.0.10", "mallory", "MESSAGE");
	assert_int_equal(s.verdict, SG_DROP);
	/* The forger on her address speaks first and takes the pin ... */
	send_from(&s, &EVE_AT_ALICE, "10.0.0.10", "alice", "MESSAGE");
	assert_int_equal(s.verdict, SG_ACCEPT);
	/* ... so alice herself is ix until she re-registers. */
	send_from(&s, &ALICE, "10.0.0.10", "alice", "INVITE");
	assert_int_equal(s.verdict, SG_DROP);
	assert_int_equal(reason(&s), SG_R_CASE_IX);
	scn_fini(&s);
}

/* The tables held around an import, and let go every few dozen contacts. */
struct holds {
	int	 depth, takes;
};

static void
count_hold(void *arg, bool on)
{
	struct holds	*h = arg;

	assert_int_equal(h->depth, on ? 0 : 1);
	h->depth += on ? 1 : -1;
	h->takes += on;
}

static void
test_held(void **st)
{
	struct fx		*f = *st;
	struct import_result	 r;
	struct holds		 h = { 0, 0 };
	char			*buf, err[256];
	size_t			 len = 0, cap = 200 * 160;

	bind_destroy(f->bt);
	f->conf.tab_bindings = 256;
	assert_non_null(f->bt = bind_create(&f->conf));
	assert_non_null(buf = malloc(cap));
	len += (size_t)snprintf(buf, cap, "{\"result\":{\"AoRs\":[");
	for (int k = 0; k < 130; k++)
		len += (size_t)snprintf(buf + len, cap - len, "%s{\"Info\":{"
		    "\"AoR\":\"u%d@example.com\",\"Contacts\":[{\"Contact\":"
		    "{\"Address\":\"sip:u%d@10.0.%d.%d\",\"Expires\":600}}]}}",
		    k ? "," : "", k, k, k / 200, k % 200 + 1);
	len += (size_t)snprintf(buf + len, cap - len, "]}}");
	assert_int_equal(import_buf(buf, len, NULL, &f->bt, 1, T0, T0,
	    count_hold, &h, &r, err, sizeof(err)), 0);
	free(buf);
	assert_int_equal(r.imported, 130);
	/* Taken at the start, then again after the 64th and the 128th. */
	assert_int_equal(h.depth, 0);
	assert_int_equal(h.takes, 3);
}

int
main(void)
{
	if (hash_init() == -1)
		return 1;
	treg_fixture(setup, teardown);
	TREG("import", kamailio);
	TREG("import", opensips);
	TREG("import", no_domain);
	TREG("import", real_expires);
	TREG("import", expiry);
	TREG("import", bad_records);
	TREG("import", empty_dump);
	TREG("import", missing_file);
	TREG("import", table_full);
	TREG("import", known_kept);
	TREG("import", restored_unpinned);
	TREG("import", command);
	TREG("import", held);
	treg_fixture(NULL, NULL);
	TREG_ROWS("import", test_bad_file, bad_files);
	TREG("import", engine_pin);
	TREG("import", engine_first_wins);
	return treg_run("import");
}
