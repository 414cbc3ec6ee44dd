/*
 * fuzz_state.c: libFuzzer harness for the state file loader (state.h):
 * the input is written as the state file of a private directory under
 * /tmp, then read as the daemon does at start: state_load_key() (which
 * installs the file's hash key), then state_restore() into a fresh
 * engine with small tables.
 *
 * Checked: a file that restores is saved again with state_save(), and
 * the loader must take its own writer's file back, with the same counts
 * (bindings and blacklist entries written = restored).  A corrupt file
 * must be refused with a reason (state.h: reported, never half applied,
 * never a crash).
 *
 * Build and run: `make fuzz' or `make fuzz-smoke' (the fuzz section at
 * the end of the Makefile); max_len 16384.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "state.h"

/* Within the life of the scenarios' bindings (their capture time). */
#define NOW	(FZ_T0 + 1800 * NS_PER_SEC)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			 in[128], out[128], path[160], err[512];
	struct engine		*e, *e2;
	struct state_counts	 c, saved, again;
	int			 rc;

	snprintf(in, sizeof(in), "%s/in", fz_dir());
	snprintf(out, sizeof(out), "%s/out", fz_dir());
	mkdir(in, 0700);
	mkdir(out, 0700);
	snprintf(path, sizeof(path), "%s/%s", in, STATE_FILE);
	fz_write(path, data, size);

	err[0] = '\0';
	rc = state_load_key(in, err, sizeof(err));
	if (rc != 0 && rc != 1 && rc != -1)
		fz_fail("state_load_key returned %d", rc);
	if (memchr(err, '\0', sizeof(err)) == NULL)
		fz_fail("state_load_key: err not NUL-terminated");

	e = fz_small_engine();
	rc = state_restore(in, &e, 1, NOW, &c, err, sizeof(err));
	if (rc == -1 && err[0] == '\0')
		fz_fail("state_restore failed with no reason");
	if (rc == 1)
		fz_fail("state_restore: no file, but there is one");
	if (rc == 0) {
		if (state_save(out, &e, 1, NOW, NULL, NULL, &saved, err, sizeof(err)) ==
		    -1)
			fz_fail("state_save: %s", err);
		e2 = fz_small_engine();
		if (state_restore(out, &e2, 1, NOW, &again, err,
		    sizeof(err)) != 0)
			fz_fail("state_restore refuses what state_save "
			    "wrote: %s", err);
		if (again.bindings != saved.bindings ||
		    again.blacklist != saved.blacklist)
			fz_fail("saved %u bindings, %u entries; restored %u, "
			    "%u", saved.bindings, saved.blacklist,
			    again.bindings, again.blacklist);
		engine_destroy(e2);
	}
	engine_destroy(e);
	return 0;
}
