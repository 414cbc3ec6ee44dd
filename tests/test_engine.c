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

#include <cmocka.h>

#include "hash.h"
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

int
main(void)
{
	hash_init();
	for (int k = 0; k < nscenarios; k++)
		treg_add("engine", scenarios[k].name, run, &scenarios[k]);
	return treg_run("engine");
}
