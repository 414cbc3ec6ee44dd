/*
 * registry.h: a test program's list of cmocka tests built at run time,
 * for tables of cases: each row becomes a test named "group/row".
 */
#ifndef SG_TEST_REGISTRY_H
#define SG_TEST_REGISTRY_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sipguard.h"

/* Add one test; `st' is its initial state.  Aborts past 512 tests. */
void	treg_add(const char *group, const char *name, CMUnitTestFunction,
	    const void *st);
/* Run every test added, as group `name'; frees the list. */
int	treg_run(const char *name);

/* One test per row of `rows', an array of structs with a `name'. */
#define TREG_ROWS(group, fn, rows) do {					\
	for (size_t k_ = 0; k_ < nitems(rows); k_++)			\
		treg_add(group, (rows)[k_].name, fn, &(rows)[k_]);	\
} while (0)

#endif
