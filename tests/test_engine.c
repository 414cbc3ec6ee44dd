/*
 * test_engine.c: every scenario of scenarios.c fed straight into an
 * engine; each expectation (verdict, case, alarm) is checked as stated.
 * The decision-table rows and REGISTER rules are scenarios of their own,
 * so each is a named test here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "daemon.h"
#include "engine.h"
#include "hash.h"
#include "pktgen.h"
#include "scenarios.h"
#include "testlib.h"

static void
run(void **state)
{
	const struct scenario	*sc = *state;
	struct scn		 s;

	if (scn_init(&s, sc->name, sc->sets, NULL, true) == 0) {
		s.what = sc->what;
		sc->run(&s);
	}
	if (s.nfail > 0)
		print_message("%s", s.fail);
	assert_true(s.nexp > 0);
	assert_int_equal(s.nfail, 0);
	scn_fini(&s);
}

/* The last result the engine showed. */
struct seen {
	int			 n;
	struct sg_result	 r;
};

static void
on_seen(void *arg, const struct sg_result *r)
{
	struct seen	*s = arg;

	s->n++;
	s->r = *r;
}

/* The proxy sends `m' (OUTPUT): what the observer is shown. */
static void
outbound(struct engine *e, const struct pg_msg *m, struct seen *s)
{
	static const struct pg_ep proxy = { { 2, 0, 0, 0, 0, 1 }, "192.0.2.1",
	    5060 };
	static const struct pg_ep ue = { { 2, 0, 0, 0, 0, 7 }, "192.0.2.7",
	    5060 };
	char		 text[1400];
	uint8_t		 f[1600];
	size_t		 len;
	uint64_t	 now = 1764547200ULL * 1000000000ULL;

	len = pg_frame(f, sizeof(f), &proxy, &ue, text, pg_sip(text,
	    sizeof(text), m), NULL);
	assert_true(len > 0);
	s->n = 0;
	assert_int_equal(engine_packet(e, LINK_ETHERNET, f, len, NULL,
	    DIR_OUT, now), SG_ACCEPT);
	assert_int_equal(s->n, 1);
}

/*
 * SPEC 3: the proxy's requests teach nothing, so the live engine leaves
 * them unread (counted as SIP, no message shown); a report reads them;
 * its answers are always read (a 2xx to a REGISTER teaches a binding).
 */
static void
test_outbound_request_unread(void **state)
{
	const char		*sets[] = { "proxy.addresses = [\"192.0.2.1\"]" };
	struct pg_msg		 req = { .method = "INVITE", .via =
				    "192.0.2.1:5060", .branch = "z9hG4bK-o1",
				    .from = "sip:bob@example.com", .to =
				    "sip:alice@example.com", .from_tag = "f",
				    .call_id = "out-1", .cseq = 1,
				    .expires = -1 };
	struct pg_msg		 ring = req;
	struct conf_errors	 errs;
	struct sg_conf		 c;
	struct engine		*e;
	struct engine_stats	 st;
	struct seen		 s;

	(void)state;
	ring.method = NULL;
	ring.status = 180;
	ring.cseq_method = "INVITE";
	ring.to_tag = "t";
	assert_int_equal(conf_load(NULL, sets, 1, &c, &errs), 0);
	assert_non_null(e = engine_create(&c));
	engine_set_observer(e, on_seen, &s);
	outbound(e, &req, &s);
	assert_int_equal(s.r.kind, SIPM_K_SIP);
	assert_int_equal(s.r.reason, SG_R_OUTBOUND);
	assert_null(s.r.msg);
	outbound(e, &ring, &s);
	assert_non_null(s.r.msg);
	assert_int_equal(s.r.msg->status, 180);
	engine_stats(e, &st);
	assert_int_equal(st.sip, 2);
	assert_int_equal(st.accept[SG_R_OUTBOUND], 2);
	/*
	 * What the proxy sends that only starts like a request (a capital
	 * letter) is no SIP: let out, not counted as SIP.
	 */
	{
		static const struct pg_ep proxy = { { 2, 0, 0, 0, 0, 1 },
		    "192.0.2.1", 5060 };
		static const struct pg_ep ue = { { 2, 0, 0, 0, 0, 7 },
		    "192.0.2.7", 5060 };
		static const char *junk[] = { "HELLO WORLD\r\n",
		    "PING\r\n", "OPTIONS sip:a@b SIP/2.\r\n", "ABCD" };
		uint8_t		 f[256];

		for (size_t k = 0; k < sizeof(junk) / sizeof(junk[0]); k++) {
			size_t	 len = pg_frame(f, sizeof(f), &proxy, &ue,
				    junk[k], strlen(junk[k]), NULL);

			assert_int_equal(engine_packet(e, LINK_ETHERNET, f,
			    len, NULL, DIR_OUT, 1764547200ULL * 1000000000ULL),
			    SG_ACCEPT);
		}
		engine_stats(e, &st);
		assert_int_equal(st.sip, 2);
	}
	/* sipguard -r: the request read, its fields shown. */
	engine_set_report_fields(e, true);
	outbound(e, &req, &s);
	assert_non_null(s.r.msg);
	assert_true(s.r.msg->request);
	assert_string_equal(s.r.msg->call_id, "out-1");
	engine_destroy(e);
}

/* An SCTP packet from `src' to `dst' whose one DATA chunk holds `sip'. */
static size_t
sctp_frame(uint8_t *f, size_t sz, const struct pg_ep *src,
    const struct pg_ep *dst, const char *sip)
{
	struct pg_frame_opt	 o = { .raw_l4 = true, .proto = 132 };
	uint8_t			 l4[1400];
	size_t			 n = strlen(sip), clen = 16 + n;

	memset(l4, 0, 28);
	l4[0] = (uint8_t)(src->port >> 8);
	l4[1] = (uint8_t)src->port;
	l4[2] = (uint8_t)(dst->port >> 8);
	l4[3] = (uint8_t)dst->port;
	l4[12] = 0;			/* DATA */
	l4[13] = 0x03;			/* B and E: the whole message */
	l4[14] = (uint8_t)(clen >> 8);
	l4[15] = (uint8_t)clen;
	memcpy(l4 + 28, sip, n);
	return pg_frame(f, sz, src, dst, l4, 28 + ((n + 3) & ~(size_t)3), &o);
}

/*
 * SIP over SCTP is not read: towards the proxy it is dropped with an
 * alarm (not_sip), unless the source is whitelisted or not_sip =
 * accept; the proxy's own is let out; other protocols (ICMP) pass.
 */
static void
test_sctp_unread(void **state)
{
	static const struct pg_ep proxy = { { 2, 0, 0, 0, 0, 1 }, "192.0.2.1",
	    5060 };
	static const struct pg_ep ue = { { 2, 0, 0, 0, 0, 7 }, "192.0.2.7",
	    5060 };
	static const struct pg_ep peer = { { 2, 0, 0, 0, 0, 9 }, "192.0.2.9",
	    5060 };
	const char	*sets[][2] = {
		{ "proxy.addresses = [\"192.0.2.1\"]",
		    "whitelist = [\"192.0.2.9\"]" },
		{ "proxy.addresses = [\"192.0.2.1\"]", "not_sip = \"accept\"" },
	};
	const char	*bye = "BYE sip:bob@192.0.2.1 SIP/2.0\r\n"
			    "Via: SIP/2.0/SCTP 192.0.2.7;branch=z9hG4bK-s\r\n"
			    "From: <sip:alice@example.com>;tag=a\r\n"
			    "To: <sip:bob@example.com>;tag=b\r\n"
			    "Call-ID: sctp-1\r\nCSeq: 2 BYE\r\n"
			    "Content-Length: 0\r\n\r\n";
	struct pg_frame_opt icmp = { .raw_l4 = true, .proto = 1 };
	uint8_t		 f[1600], echo[8] = { 8, 0, 0xf7, 0xff, 0, 0, 0, 0 };
	size_t		 len;
	struct conf_errors errs;
	struct sg_conf	 c;
	struct engine	*e;
	struct engine_stats st;
	uint64_t	 now = 1764547200ULL * 1000000000ULL;

	(void)state;
	assert_int_equal(conf_load(NULL, sets[0], 2, &c, &errs), 0);
	assert_non_null(e = engine_create(&c));
	len = sctp_frame(f, sizeof(f), &ue, &proxy, bye);
	assert_true(len > 0);
	assert_int_equal(engine_packet(e, LINK_ETHERNET, f, len, NULL,
	    DIR_IN, now), SG_DROP);
	len = sctp_frame(f, sizeof(f), &peer, &proxy, bye);
	assert_int_equal(engine_packet(e, LINK_ETHERNET, f, len, NULL,
	    DIR_IN, now), SG_ACCEPT);
	len = sctp_frame(f, sizeof(f), &proxy, &ue, bye);
	assert_int_equal(engine_packet(e, LINK_ETHERNET, f, len, NULL,
	    DIR_OUT, now), SG_ACCEPT);
	len = pg_frame(f, sizeof(f), &ue, &proxy, echo, sizeof(echo), &icmp);
	assert_int_equal(engine_packet(e, LINK_ETHERNET, f, len, NULL,
	    DIR_IN, now), SG_ACCEPT);
	engine_stats(e, &st);
	assert_int_equal(st.sctp, 1);
	assert_int_equal(st.drop[SG_R_NOT_SIP], 1);
	assert_int_equal(st.accept[SG_R_WHITELISTED], 1);
	assert_int_equal(st.alarms[ALARM_MALFORMED], 1);
	engine_destroy(e);

	assert_int_equal(conf_load(NULL, sets[1], 2, &c, &errs), 0);
	assert_non_null(e = engine_create(&c));
	len = sctp_frame(f, sizeof(f), &ue, &proxy, bye);
	assert_int_equal(engine_packet(e, LINK_ETHERNET, f, len, NULL,
	    DIR_IN, now), SG_ACCEPT);
	engine_destroy(e);
}

/* The daemon's start-up notice reads /proc/net/sctp/eps's form. */
static void
test_sctp_endpoints(void **state)
{
	char		 path[64];
	unsigned	 port = 0;
	FILE		*f;

	(void)state;
	assert_int_equal(daemon_sctp_endpoints("/nonexistent/eps", &port),
	    -1);
	tl_template(path, sizeof(path), "eps");
	assert_non_null(f = fdopen(mkstemp(path), "w"));
	fputs(" ENDPT     SOCK   STY SST HBKT LPORT   UID INODE LADDRS\n", f);
	fflush(f);
	assert_int_equal(daemon_sctp_endpoints(path, &port), 0);
	fputs("0000000000000000 0000000000000000 2   10  4    5060      0 "
	    "31042 192.0.2.1\n", f);
	fputs("0000000000000000 0000000000000000 2   10  5    5061      0 "
	    "31043 192.0.2.1\n", f);
	fclose(f);
	assert_int_equal(daemon_sctp_endpoints(path, &port), 2);
	assert_int_equal(port, 5060);
	unlink(path);
}

int
main(void)
{
	hash_init();
	for (int k = 0; k < nscenarios; k++)
		treg_add("engine", scenarios[k].name, run, &scenarios[k]);
	TREG("engine", outbound_request_unread);
	TREG("engine", sctp_unread);
	TREG("engine", sctp_endpoints);
	return treg_run("engine");
}
