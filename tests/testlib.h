/*
 * testlib.h: what the test programs share: a list of cmocka tests built
 * at run time for tables of cases (each row a test named "group/row"),
 * and a small deterministic PRNG.
 */
#ifndef SG_TESTLIB_H
#define SG_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sipguard.h"

/* Add one test; `st' is its initial state.  Aborts past 512 tests. */
void		 treg_add(const char *group, const char *name,
		    CMUnitTestFunction, const void *st);
/* Run every test added, as group `name'; frees the list. */
int		 treg_run(const char *name);

/* One test per row of `rows', an array of structs with a `name'. */
#define TREG_ROWS(group, fn, rows) do {					\
	for (size_t k_ = 0; k_ < nitems(rows); k_++)			\
		treg_add(group, (rows)[k_].name, fn, &(rows)[k_]);	\
} while (0)

/* xorshift64*: the same sequence for the same seed, on every machine. */
void		 rng_seed(uint64_t);
uint64_t	 rng(void);

#endif
