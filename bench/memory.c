/*
 * memory.c: the engine's resident memory once engine_create() has
 * allocated and touched every table (README, "Memory at 1,048,576
 * bindings"): tables.bindings as given, every other table at its default.
 *
 *   build/bench/memory [bindings ['key = value' ...]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "conf.h"
#include "engine.h"
#include "hash.h"

/* VmRSS of this process, kB; -1 if /proc cannot tell. */
static long
rss_kb(void)
{
	FILE	*fp;
	char	 line[256];
	long	 kb = -1;

	if ((fp = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atol(line + 6);
	fclose(fp);
	return kb;
}

int
main(int argc, char *argv[])
{
	struct sg_conf		 conf;
	struct conf_errors	 errs;
	struct engine		*e;
	struct bind_stats	 bs;
	char			 set[64];
	const char		*sets[16] = { set };
	int			 nsets = 1;
	long			 before, after;

	snprintf(set, sizeof(set), "tables.bindings = %s",
	    argc > 1 ? argv[1] : "1048576");
	for (int k = 2; k < argc && nsets < 16; k++)
		sets[nsets++] = argv[k];
	hash_init();
	if (conf_load(NULL, sets, nsets, &conf, &errs) == -1) {
		fputs(errs.buf, stderr);
		return 1;
	}
	before = rss_kb();
	if ((e = engine_create(&conf)) == NULL) {
		fputs("memory: engine_create failed\n", stderr);
		return 1;
	}
	after = rss_kb();
	bind_stats(engine_bindings(e), &bs);
	printf("%d bindings: %.1f MiB resident after engine_create() "
	    "(%.1f MiB before it)\n", conf.tab_bindings, after / 1024.0,
	    before / 1024.0);
	printf("binding table: %zu bytes, %.0f per binding\n", bs.memory,
	    (double)bs.memory / bs.capacity);
	engine_destroy(e);
	return 0;
}
