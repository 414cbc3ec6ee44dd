/*
 * sgpcap: write the project's scenarios as pcap files, and run the demo.
 *   sgpcap list
 *   sgpcap write NAME FILE.pcap      (prints the --set options it needs)
 *   sgpcap demo SIPGUARD DIR         (replay every demo scenario, table)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hash.h"
#include "scenarios.h"

#define MAX_TALLY	64

static const struct scenario *
find(const char *name)
{
	for (int k = 0; k < nscenarios; k++)
		if (strcmp(scenarios[k].name, name) == 0)
			return &scenarios[k];
	return NULL;
}

static int
write_one(const struct scenario *sc, const char *path, struct scn *s)
{
	if (scn_init(s, sc->name, sc->sets, path, false) == -1) {
		fprintf(stderr, "sgpcap: %s", s->fail);
		return -1;
	}
	s->what = sc->what;
	sc->run(s);
	pg_pcap_close(s->pcap);
	s->pcap = NULL;
	return 0;
}

static int
demo(const char *sipguard, const char *dir)
{
	struct scn_tally	 tally[MAX_TALLY];
	int			 ntally = 0, failures = 0, nsc = 0;
	uint64_t		 legit_sent = 0, legit_dropped = 0;
	uint64_t		 att_sent = 0, att_dropped = 0;
	char			 path[512];

	mkdir(dir, 0755);
	printf("\nsipguard demo: each capture below is generated in code, "
	    "replayed with\n`sipguard -r`, and every verdict is checked "
	    "against what the scenario expects.\n\n");
	for (int k = 0; k < nscenarios; k++) {
		const struct scenario	*sc = &scenarios[k];
		struct scn		 s;

		if (!sc->demo)
			continue;
		nsc++;
		snprintf(path, sizeof(path), "%s/%s.pcap", dir, sc->name);
		if (write_one(sc, path, &s) == 0)
			scn_replay_check(&s, sipguard, path, sc->sets, tally,
			    MAX_TALLY, &ntally);
		if (s.nfail > 0) {
			fputs(s.fail, stdout);
			failures += s.nfail;
		}
		scn_fini(&s);
	}
	printf("  %-44s %6s %8s  %s\n", "attack", "sent", "dropped",
	    "caught as (case)");
	printf("  %-44s %6s %8s  %s\n", "------", "----", "-------",
	    "----------------");
	for (int k = 0; k < ntally; k++) {
		if (strcmp(tally[k].tag, "legitimate") == 0) {
			legit_sent += tally[k].sent;
			legit_dropped += tally[k].dropped;
			continue;
		}
		att_sent += tally[k].sent;
		att_dropped += tally[k].dropped;
		printf("  %-44s %6llu %8llu  %s\n", tally[k].tag,
		    (unsigned long long)tally[k].sent,
		    (unsigned long long)tally[k].dropped,
		    tally[k].cases[0] ? tally[k].cases : "-");
	}
	printf("  %-44s %6llu %8llu\n", "all attacks",
	    (unsigned long long)att_sent, (unsigned long long)att_dropped);
	printf("\n  legitimate messages (registrations, calls, keep-alives, "
	    "proxy answers):\n  %llu sent, %llu dropped\n",
	    (unsigned long long)legit_sent,
	    (unsigned long long)legit_dropped);
	printf("\n  %d scenarios, captures in %s; %s\n\n", nsc, dir,
	    failures ? "SOME VERDICTS DIFFER FROM THE EXPECTED ONES" :
	    "every verdict as expected");
	return failures || legit_dropped ? 1 : 0;
}

int
main(int argc, char *argv[])
{
	const struct scenario	*sc;
	struct scn		 s;

	hash_init();
	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		for (int k = 0; k < nscenarios; k++)
			printf("%-22s %s\n", scenarios[k].name,
			    scenarios[k].what);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "write") == 0) {
		if ((sc = find(argv[2])) == NULL) {
			fprintf(stderr, "sgpcap: no scenario %s\n", argv[2]);
			return 2;
		}
		if (write_one(sc, argv[3], &s) == -1)
			return 1;
		for (int k = 0; sc->sets && sc->sets[k]; k++)
			printf("--set '%s'\n", sc->sets[k]);
		scn_fini(&s);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "demo") == 0)
		return demo(argv[2], argv[3]);
	fprintf(stderr, "usage: sgpcap list | write NAME FILE | "
	    "demo SIPGUARD DIR\n");
	return 2;
}
