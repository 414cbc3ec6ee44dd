/*
 * testlib.h: what the test programs share.  Every program registers its
 * tests here, in the order they are to run, and runs them with
 * treg_run(): a plain test with TREG(), a table of cases with TREG_ROWS()
 * (one test per row), anything else with treg_add(); each test is named
 * "group/name".  Also a small deterministic PRNG.
 */
#ifndef SG_TESTLIB_H
#define SG_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sipguard.h"

/*
 * Setup and teardown (either may be NULL) for every test added after this
 * call, until the next call or treg_run().
 */
void		 treg_fixture(CMFixtureFunction setup,
		    CMFixtureFunction teardown);
/* Add one test; `st' is its initial state.  Aborts past 512 tests. */
void		 treg_add(const char *group, const char *name,
		    CMUnitTestFunction, const void *st);
/* Run every test added, in order, as group `name'; empties the list. */
int		 treg_run(const char *name);
/*
 * A mkstemp()/mkdtemp() template in buf: `prefix', a dot and the six
 * letters they replace.
 */
char		*tl_template(char *buf, size_t len, const char *prefix);

/* A plain test, the function test_<name>. */
#define TREG(group, name)	treg_add(group, #name, test_##name, NULL)

/* One test per row of `rows', an array of structs with a `name'. */
#define TREG_ROWS(group, fn, rows) do {					\
	for (size_t k_ = 0; k_ < nitems(rows); k_++)			\
		treg_add(group, (rows)[k_].name, fn, &(rows)[k_]);	\
} while (0)

/* xorshift64*: the same sequence for the same seed, on every machine. */
void		 rng_seed(uint64_t);
uint64_t	 rng(void);

#endif
