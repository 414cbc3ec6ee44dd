/*
 * fuzz_util.c: helpers every harness of tests/fuzz links (fuzz.h).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static volatile uint8_t	 sink;
static char		 dir[64];

void
fz_fail(const char *fmt, ...)
{
	va_list	 ap;

	fputs("fuzz: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void
fz_touch(const void *p, size_t len)
{
	const uint8_t	*b = p;
	uint8_t		 x = 0;

	if (len > 0 && p == NULL)
		fz_fail("NULL pointer with length %zu", len);
	for (size_t k = 0; k < len; k++)
		x ^= b[k];
	sink ^= x;
}

uint8_t *
fz_copy(const void *data, size_t len)
{
	uint8_t	*p;

	/* malloc(0) may give NULL: keep a valid pointer for len 0. */
	if ((p = malloc(len ? len : 1)) == NULL)
		fz_fail("out of memory");
	if (len > 0)
		memcpy(p, data, len);
	return p;
}

void
fz_write(const char *path, const void *data, size_t len)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		fz_fail("%s: cannot create", path);
	if (len > 0 && write(fd, data, len) != (ssize_t)len)
		fz_fail("%s: short write", path);
	close(fd);
}

static void
cleanup(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[512];

	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

const char *
fz_dir(void)
{
	if (dir[0] != '\0')
		return dir;
	/* mkdtemp()'s template: the prefix, then six letters it replaces. */
	snprintf(dir, sizeof(dir), "/tmp/sipguard-fuzz.");
	memset(dir + strlen(dir), 'X', 6);
	if (mkdtemp(dir) == NULL)
		fz_fail("mkdtemp failed");
	atexit(cleanup);
	return dir;
}

/* The smallest tables: full and recycled within a few inputs. */
static const char *const small[] = {
	"tables.bindings = 64",
	"tables.pending = 16",
	"tables.nonces = 16",
	"tables.sources = 16",
	"tables.streams = 16",
	"tables.stream_buffers = 1",
	"tables.fragments = 1",
	"blacklist.size = 32",
};

void
fz_small_conf(const char *const *extra, int nextra, struct sg_conf *c)
{
	const char		*sets[32];
	struct conf_errors	 errs;
	int			 n = 0;

	for (size_t k = 0; k < sizeof(small) / sizeof(small[0]); k++)
		sets[n++] = small[k];
	for (int k = 0; k < nextra && n < (int)(sizeof(sets) /
	    sizeof(sets[0])); k++)
		sets[n++] = extra[k];
	if (conf_load(NULL, sets, n, c, &errs) == -1)
		fz_fail("config: %s", errs.buf);
}

struct engine *
fz_small_engine(void)
{
	static struct sg_conf	 conf;
	static bool		 loaded;
	struct engine		*e;

	if (!loaded) {
		fz_small_conf(NULL, 0, &conf);
		loaded = true;
	}
	if ((e = engine_create(&conf)) == NULL)
		fz_fail("engine_create failed");
	return e;
}
