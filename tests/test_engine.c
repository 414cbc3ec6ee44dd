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

#include <cmocka.h>

#include "conf.h"
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
	/* sipguard -r: the request read, its fields shown. */
	engine_set_report_fields(e, true);
	outbound(e, &req, &s);
	assert_non_null(s.r.msg);
	assert_true(s.r.msg->request);
	assert_string_equal(s.r.msg->call_id, "out-1");
	engine_destroy(e);
}

int
main(void)
{
	hash_init();
	for (int k = 0; k < nscenarios; k++)
		treg_add("engine", scenarios[k].name, run, &scenarios[k]);
	TREG("engine", outbound_request_unread);
	return treg_run("engine");
}
