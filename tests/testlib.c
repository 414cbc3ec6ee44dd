/*
 * testlib.c: see testlib.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define MAXTESTS	512

static struct CMUnitTest	 tests[MAXTESTS];
static char			*names[MAXTESTS];
static size_t			 ntests;
static CMFixtureFunction	 cur_setup, cur_teardown;

void
treg_fixture(CMFixtureFunction setup, CMFixtureFunction teardown)
{
	cur_setup = setup;
	cur_teardown = teardown;
}

void
treg_add(const char *group, const char *name, CMUnitTestFunction fn,
    const void *st)
{
	if (ntests == MAXTESTS ||
	    asprintf(&names[ntests], "%s/%s", group, name) < 0)
		abort();
	tests[ntests].name = names[ntests];
	tests[ntests].test_func = fn;
	tests[ntests].setup_func = cur_setup;
	tests[ntests].teardown_func = cur_teardown;
	tests[ntests].initial_state = (void *)(uintptr_t)st;
	ntests++;
}

int
treg_run(const char *name)
{
	int	 rc;

	rc = _cmocka_run_group_tests(name, tests, ntests, NULL, NULL);

	for (size_t k = 0; k < ntests; k++)
		free(names[k]);
	ntests = 0;
	treg_fixture(NULL, NULL);
	return rc;
}

static uint64_t	 rng_state = 1;

void
rng_seed(uint64_t seed)
{
	rng_state = seed != 0 ? seed : 1;
}

uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

char *
tl_template(char *buf, size_t len, const char *prefix)
{
	int	 n = snprintf(buf, len, "%s.", prefix);

	assert_true(n > 0 && (size_t)n + 7 <= len);
	memset(buf + n, 'X', 6);
	buf[n + 6] = '\0';
	return buf;
}
