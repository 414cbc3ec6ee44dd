/*
 * scenarios.h: the named traffic scenarios shared by test_engine (fed
 * in-process), test_replay (through `sipguard -r') and the demo.
 */
#ifndef SG_SCENARIOS_H
#define SG_SCENARIOS_H

#include "scenario.h"

struct scenario {
	const char	*name;
	const char	*what;		/* one line for the demo table */
	void		(*run)(struct scn *);
	const char *const *sets;	/* --set overrides, NULL-terminated */
	int		 demo;		/* shown by `make demo' */
};

extern const struct scenario	scenarios[];
extern const int		nscenarios;

#endif
