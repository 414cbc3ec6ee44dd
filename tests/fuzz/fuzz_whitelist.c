/*
 * fuzz_whitelist.c: libFuzzer harness for the whitelist's two readers
 * (whitelist.h, state.h): the input is written as a whitelist_file and
 * read with wl_read_file(), and as the runtime whitelist of a private
 * state directory and read with state_whitelist_restore().
 *
 * Checked: a file either reads whole or is refused with "path: line N:
 * reason", never half (no entry counted on a refusal); what it gives fits
 * an engine and every entry is then found by its own prefix; a runtime
 * whitelist that restores is saved again and read back to the same
 * count; a corrupt one is refused with a reason, nothing applied.
 *
 * Build and run: `make fuzz' or `make fuzz-smoke'; max_len 16384.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fuzz.h"
#include "state.h"
#include "whitelist.h"

#define MAX	64

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
copy(void *arg, const struct wl_entry *x)
{
	struct wl_entry	**p = arg;

	**p = *x;
	(*p)++;
	return 0;
}

static void
file(const uint8_t *data, size_t size)
{
	static struct wl_entry	 x[MAX];
	char			 path[160], err[600];
	uint32_t		 n = 7;
	struct engine		*e;

	snprintf(path, sizeof(path), "%s/list", fz_dir());
	fz_write(path, data, size);
	err[0] = '\0';
	if (wl_read_file(path, x, MAX, &n, err, sizeof(err)) == -1) {
		if (n != 0)
			fz_fail("refused, yet %u entries counted", n);
		if (strncmp(err, path, strlen(path)) != 0)
			fz_fail("a refusal without the file's name: %s", err);
		return;
	}
	e = fz_small_engine();
	engine_whitelist_file(e, x, n);
	for (uint32_t k = 0; k < n; k++) {
		const struct wl_entry	*y = wl_find(engine_whitelist(e),
					    &x[k].spec.net);

		if (y == NULL || y->spec.pinned != x[k].spec.pinned)
			fz_fail("entry %u of the file not held as read", k);
	}
	engine_destroy(e);
}

static void
runtime(const uint8_t *data, size_t size)
{
	static struct wl_entry	 x[4096];
	char			 in[128], out[128], path[160], err[600];
	struct wl_entry		*p = x;
	struct engine		*e, *e2;
	uint32_t		 n, saved, again;
	int			 rc;

	snprintf(in, sizeof(in), "%s/in", fz_dir());
	snprintf(out, sizeof(out), "%s/out", fz_dir());
	mkdir(in, 0700);
	mkdir(out, 0700);
	snprintf(path, sizeof(path), "%s/%s", in, WHITELIST_FILE);
	fz_write(path, data, size);
	e = fz_small_engine();
	err[0] = '\0';
	rc = state_whitelist_restore(in, &e, 1, &n, err, sizeof(err));
	if (rc == -1 && err[0] == '\0')
		fz_fail("restore failed with no reason");
	if (rc == -1 && wl_count(engine_whitelist(e)) != 0)
		fz_fail("a refused file was half applied");
	if (rc == 0) {
		if (wl_count(engine_whitelist(e)) > 4096)
			fz_fail("more entries than the table");
		wl_foreach(engine_whitelist(e), copy, &p);
		if (state_whitelist_save(out, x, (uint32_t)(p - x), &saved,
		    err, sizeof(err)) == -1)
			fz_fail("save: %s", err);
		e2 = fz_small_engine();
		if (state_whitelist_restore(out, &e2, 1, &again, err,
		    sizeof(err)) != 0)
			fz_fail("what the save wrote is refused: %s", err);
		if (again != saved)
			fz_fail("saved %u, restored %u", saved, again);
		engine_destroy(e2);
	}
	engine_destroy(e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	file(data, size);
	runtime(data, size);
	return 0;
}
