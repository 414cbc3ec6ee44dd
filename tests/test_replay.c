/*
 * test_replay.c: every scenario written to a pcap with pcap_dump and
 * replayed through the real command, `sipguard -r'; the JSON Lines it
 * prints must match the scenario's expectations frame by frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "hash.h"
#include "scenarios.h"

static const char	*sipguard = "build/sipguard";
static char		 tmpdir[] = "/tmp/sgtest.XXXXXX";

static void
run(void **state)
{
	const struct scenario	*sc = *state;
	struct scn		 s;
	char			 path[256];

	snprintf(path, sizeof(path), "%s/%s.pcap", tmpdir, sc->name);
	if (scn_init(&s, sc->name, sc->sets, path, false) == 0) {
		s.what = sc->what;
		sc->run(&s);
		pg_pcap_close(s.pcap);
		s.pcap = NULL;
		scn_replay_check(&s, sipguard, path, sc->sets, NULL, 0, NULL);
	}
	if (s.nfail > 0)
		print_message("%s", s.fail);
	assert_true(s.nexp > 0);
	assert_int_equal(s.nfail, 0);
	scn_fini(&s);
	unlink(path);
}

int
main(void)
{
	struct CMUnitTest	*t;
	int			 rc;

	if (getenv("SIPGUARD") != NULL)
		sipguard = getenv("SIPGUARD");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	hash_init();
	t = calloc((size_t)nscenarios, sizeof(*t));
	for (int k = 0; k < nscenarios; k++) {
		t[k].name = scenarios[k].name;
		t[k].test_func = run;
		t[k].initial_state = (void *)&scenarios[k];
	}
	rc = _cmocka_run_group_tests("replay", t, (size_t)nscenarios, NULL,
	    NULL);
	free(t);
	rmdir(tmpdir);
	return rc;
}
