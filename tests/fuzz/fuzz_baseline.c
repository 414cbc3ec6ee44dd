/*
 * fuzz_baseline.c: libFuzzer harness for the module II baseline loader,
 * state_baseline_load() (state.h), on arbitrary file contents written
 * to a private directory under /tmp; a fresh engine with small tables
 * per input.
 *
 * Checked: a file that loads is saved again with state_baseline_save()
 * and that file must load too (the loader takes its writer's output);
 * a refused file comes with a reason.
 *
 * Build and run: `make fuzz' or `make fuzz-smoke' (the fuzz section at
 * the end of the Makefile); max_len 16384.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "state.h"

#define NOW	(FZ_T0 + 1800 * NS_PER_SEC)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 in[128], out[128], err[512], text[4096];
	struct engine	*e, *e2;
	FILE		*fp;
	size_t		 n;

	snprintf(in, sizeof(in), "%s/baseline.in", fz_dir());
	snprintf(out, sizeof(out), "%s/baseline.out", fz_dir());
	fz_write(in, data, size);
	e = fz_small_engine();
	err[0] = '\0';
	if (state_baseline_load(e, in, err, sizeof(err)) == 0) {
		if (state_baseline_save(e, out, NOW, NULL, NULL, err, sizeof(err)) == -1)
			fz_fail("state_baseline_save: %s", err);
		e2 = fz_small_engine();
		if (state_baseline_load(e2, out, err, sizeof(err)) == -1) {
			text[0] = '\0';
			if ((fp = fopen(out, "r")) != NULL) {
				n = fread(text, 1, sizeof(text) - 1, fp);
				text[n] = '\0';
				fclose(fp);
			}
			fz_fail("state_baseline_load refuses what "
			    "state_baseline_save wrote: %s\n%s", err, text);
		}
		engine_destroy(e2);
	} else if (err[0] == '\0')
		fz_fail("state_baseline_load failed with no reason");
	engine_destroy(e);
	return 0;
}
