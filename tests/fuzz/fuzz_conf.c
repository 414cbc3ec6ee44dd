/*
 * fuzz_conf.c: libFuzzer harness for the configuration loader
 * (conf.h).  The input is written to a file in the process's directory in
 * /tmp, conf_load() reads it, the file is unlinked.  An input that
 * starts with "#sets\n" is instead split into lines given as --set
 * strings ("key=value") over the defaults, with no file.
 *
 * Checked: the error buffer is NUL-terminated, its length and count
 * agree with the return value; a configuration that loads is printed
 * with conf_dump() (what `sipguard -T' shows), and that text must load
 * again and print the same: an operator may paste it into a file.
 *
 * Found by it and fixed in conf.c (test_conf's test_fuzz_findings):
 * libconfig exit()ed on an @include of a directory, and leaked strings
 * in files with a NUL byte and in --set values.
 *
 * Build and run: `make fuzz' or `make fuzz-smoke' (the fuzz section at
 * the end of the Makefile); max_len 16384.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

#define MAX_SETS	32
#define SETS_MAGIC	"#sets\n"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A file of the process's directory holding `len' bytes; its path in
 * `path'. */
static void
tmpfile_with(char *path, size_t plen, const void *data, size_t len)
{
	static unsigned	 n;

	snprintf(path, plen, "%s/conf.%u", fz_dir(), n++);
	fz_write(path, data, len);
}

static int
load(const char *path, const char *const *sets, int nsets,
    struct sg_conf *c)
{
	static struct conf_errors	 errs;
	int				 rc;

	rc = conf_load(path, sets, nsets, c, &errs);
	if (memchr(errs.buf, '\0', sizeof(errs.buf)) == NULL)
		fz_fail("errors not NUL-terminated");
	if (errs.len >= sizeof(errs.buf) || errs.len != strlen(errs.buf))
		fz_fail("errors: len %zu, text %zu", errs.len,
		    strlen(errs.buf));
	if (rc != 0 && rc != -1)
		fz_fail("conf_load returned %d", rc);
	if (rc == -1 && errs.count == 0)
		fz_fail("conf_load failed with no error");
	if (rc == 0 && errs.count != 0)
		fz_fail("conf_load succeeded with %d errors", errs.count);
	return rc;
}

/* conf_dump() of `c' in a malloc'ed string. */
static char *
dump(const struct sg_conf *c, size_t *len)
{
	char	*text = NULL;
	FILE	*fp;

	if ((fp = open_memstream(&text, len)) == NULL)
		fz_fail("open_memstream failed");
	conf_dump(c, fp);
	fclose(fp);
	return text;
}

static void
roundtrip(const struct sg_conf *c)
{
	static struct sg_conf	 c2;
	char			 path[64], *a, *b;
	size_t			 alen, blen;

	a = dump(c, &alen);
	tmpfile_with(path, sizeof(path), a, alen);
	if (load(path, NULL, 0, &c2) == -1) {
		unlink(path);
		fz_fail("the dump of a good configuration does not load:\n%s",
		    a);
	}
	unlink(path);
	b = dump(&c2, &blen);
	if (alen != blen || memcmp(a, b, alen) != 0)
		fz_fail("dump, load, dump differs:\n%s\n---\n%s", a, b);
	free(a);
	free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sg_conf	 c;
	char			 path[64];
	int			 rc;

	if (size >= strlen(SETS_MAGIC) && memcmp(data, SETS_MAGIC,
	    strlen(SETS_MAGIC)) == 0) {
		char	*text, *sets[MAX_SETS], *save = NULL;
		int	 n = 0;

		if ((text = strndup((const char *)data + strlen(SETS_MAGIC),
		    size - strlen(SETS_MAGIC))) == NULL)
			fz_fail("out of memory");
		for (char *t = strtok_r(text, "\n", &save); t != NULL &&
		    n < MAX_SETS; t = strtok_r(NULL, "\n", &save))
			sets[n++] = t;
		rc = load(NULL, (const char *const *)sets, n, &c);
		free(text);
	} else {
		tmpfile_with(path, sizeof(path), data, size);
		rc = load(path, NULL, 0, &c);
		unlink(path);
	}
	if (rc == 0)
		roundtrip(&c);
	return 0;
}
