/*
 * test_detect.c: module II's detectors added by issue 11, driven through
 * the engine or module II directly: training ends by time whatever
 * reaches module II, the scan counter's accuracy at any threshold, brute
 * force per target identity, and the per-device rise detector.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bind.h"
#include "conf.h"
#include "engine.h"
#include "flood.h"
#include "hash.h"
#include "scenario.h"
#include "sipguard.h"
#include "testlib.h"

static const struct pg_ep PROXY = { { 2, 0, 0, 0, 0, 1 }, "192.0.2.1",
    5060 };
static const struct pg_ep EVE = { { 2, 0, 0, 0, 0, 0x66 }, "203.0.113.66",
    5060 };
static const struct pg_ep ALICE = { { 2, 0, 0, 0, 0, 0x11 },
    "198.51.100.11", 5060 };

/* ---- training ends by time ------------------------------------------- */

/*
 * 55 s in which every packet is dropped before module II (not SIP), then
 * one REGISTER: training (60 s) ends at 60 s of the engine's time, not
 * 60 s after that REGISTER.
 */
static void
test_training_wall_time(void **state)
{
	static const char *const sets[] = {
		"proxy.addresses = [\"192.0.2.1\"]",
		"startup.learn = 0",
		"training.duration = 60",
		NULL,
	};
	struct scn		 s;
	struct flood_stats	 st;
	struct pg_msg		 m;
	const char		 junk[] = "not sip at all, dropped";

	(void)state;
	assert_int_equal(scn_init(&s, "training", sets, NULL, true), 0);
	for (int k = 0; k < 55; k++) {
		scn_send_payload(&s, &EVE, &PROXY, junk, sizeof(junk) - 1,
		    NULL);
		assert_int_equal(s.verdict, SG_DROP);
		scn_wait(&s, 1);
	}
	flood_stats(engine_flood(s.e), s.now, &st);
	assert_true(st.training);
	assert_true(st.train_left > 4 && st.train_left < 6);
	memset(&m, 0, sizeof(m));
	m.method = "REGISTER";
	m.ruri = "sip:example.com";
	m.via = "198.51.100.11:5060";
	m.from = m.to = "sip:alice@example.com";
	m.call_id = "training-1";
	m.cseq = 1;
	m.contact = "<sip:alice@198.51.100.11:5060>";
	m.expires = 3600;
	scn_send(&s, &ALICE, &PROXY, &m);
	assert_int_equal(s.verdict, SG_ACCEPT);
	flood_stats(engine_flood(s.e), s.now, &st);
	assert_true(st.training && st.train_left < 6);
	/* The timer ends it, with no message to module II. */
	scn_wait(&s, 6);
	flood_stats(engine_flood(s.e), s.now, &st);
	assert_false(st.training);
	assert_true(flood_training(engine_flood(s.e), s.now) == false);
	scn_fini(&s);
}

int
main(void)
{
	TREG("detect", training_wall_time);
	return treg_run("detect");
}
