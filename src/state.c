/*
 * state.c: the state file.  Text, one record a line, so an operator can
 * read it and a torn write shows:
 *   sipguard-state 1
 *   key <32 hex>                      the hash key of every stored hash
 *   b <mac> <ip> <s> <nat> <port> <dh> <impih> <cidh> <created>
 *     <refreshed> <expires> <d> <impi>          a binding
 *   l <kind> <mac> <ip> <port> <s> <dh> <added> <expires> <why> <d>
 *                                               a blacklist entry
 *   end
 * Addresses as <family>/<32 hex>, strings %-escaped, times in ns.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bind.h"
#include "enforce.h"
#include "engine.h"
#include "flood.h"
#include "hash.h"
#include "state.h"
#include "whitelist.h"

#define LINE_MAX_STATE	2048

/* ---- encoding -------------------------------------------------------------- */

static void
put_hex(FILE *fp, const uint8_t *p, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 buf[64];

	/* One write for what fprintf("%02x") wrote a byte at a time. */
	while (n > 0) {
		size_t	 m = n > sizeof(buf) / 2 ? sizeof(buf) / 2 : n;

		for (size_t k = 0; k < m; k++) {
			buf[2 * k] = hex[p[k] >> 4];
			buf[2 * k + 1] = hex[p[k] & 15];
		}
		fwrite(buf, 1, 2 * m, fp);
		p += m;
		n -= m;
	}
}

static int
get_hex(const char *s, uint8_t *p, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t k = 0; k < n; k++) {
		unsigned int	 v;

		if (!isxdigit((unsigned char)s[2 * k]) ||
		    !isxdigit((unsigned char)s[2 * k + 1]) ||
		    sscanf(s + 2 * k, "%2x", &v) != 1)
			return -1;
		p[k] = (uint8_t)v;
	}
	return 0;
}

static void
put_addr(FILE *fp, const struct sg_addr *a)
{
	fprintf(fp, " %u/", a->family);
	put_hex(fp, a->a, sizeof(a->a));
}

static int
get_addr(const char *s, struct sg_addr *a)
{
	unsigned int	 fam;
	const char	*slash = strchr(s, '/');

	memset(a, 0, sizeof(*a));
	if (slash == NULL || sscanf(s, "%u/", &fam) != 1 ||
	    (fam != SG_AF_NONE && fam != SG_AF_INET && fam != SG_AF_INET6 &&
	    fam != SG_AF_HOST))
		return -1;
	a->family = (uint8_t)fam;
	return get_hex(slash + 1, a->a, sizeof(a->a));
}

static void
put_mac(FILE *fp, const uint8_t m[6], bool has_m)
{
	char	 buf[SG_MACSTRLEN];

	fprintf(fp, " %s", sg_mac_str((const struct sg_mac *)m, has_m, buf,
	    sizeof(buf)));
}

static int
get_mac(const char *s, struct sg_mac *m, bool *has_m)
{
	memset(m, 0, sizeof(*m));
	*has_m = strcmp(s, "none") != 0;
	return *has_m ? sg_mac_parse(s, m) : 0;
}

/* A string with blanks, '%' and control bytes %-escaped; "-" if empty. */
static void
put_str(FILE *fp, const char *s)
{
	fputc(' ', fp);
	if (*s == '\0' || strcmp(s, "-") == 0) {
		/* "-" stands for empty, so a lone dash is escaped. */
		fputs(*s == '\0' ? "-" : "%2d", fp);
		return;
	}
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == '%' || c >= 0x7f)
			fprintf(fp, "%%%02x", c);
		else
			fputc(c, fp);
	}
}

static int
get_str(const char *s, char *out, size_t len)
{
	size_t	 o = 0;

	if (strcmp(s, "-") == 0) {
		out[0] = '\0';
		return 0;
	}
	for (; *s != '\0'; s++) {
		unsigned int	 v;
		char		 c = *s;

		if (c == '%') {
			if (!isxdigit((unsigned char)s[1]) ||
			    !isxdigit((unsigned char)s[2]) ||
			    sscanf(s + 1, "%2x", &v) != 1)
				return -1;
			c = (char)v;
			s += 2;
		}
		if (o + 1 >= len)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* ---- atomic write -------------------------------------------------------------- */

/*
 * The one way sipguard replaces a file: a temporary file beside it (mode
 * 0600: both files name subscribers, the state file holds the hash key),
 * written, fsync'ed, renamed over the old one, and the directory
 * fsync'ed so the rename itself survives a crash.  A reader sees the old
 * file or the new one, never a torn one.
 */
int
state_write_atomic(const char *path, int (*fill)(void *, FILE *), void *arg,
    char *err, size_t errlen)
{
	char	 tmp[520], dir[512];
	char	*slash;
	FILE	*fp;
	int	 fd, dfd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1 || (fp = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	errno = 0;
	rc = fill(arg, fp);
	if (fflush(fp) != 0 || fsync(fd) != 0)
		rc = -1;
	if (fclose(fp) != 0)
		rc = -1;
	if (rc == -1 || rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) :
		    "write failed");
		unlink(tmp);
		return -1;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* ---- the baseline ----------------------------------------------------------- */

int
state_baseline_load(struct engine *e, const char *path, char *err,
    size_t errlen)
{
	FILE	*fp = fopen(path, "r");
	char	 why[128];
	int	 rc;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((rc = flood_load_baseline(engine_flood(e), fp, why, sizeof(why)))
	    == -1)
		snprintf(err, errlen, "%s: %s", path, why);
	fclose(fp);
	return rc;
}

/*
 * A save reads a worker's tables a page of SAVE_PAGE slots at a time,
 * holding them (sg_hold_fn) only while it formats that page's lines
 * into memory; the page goes to the file once they are released, and
 * fsync() runs with nothing held.  Formatting 60,000 bindings took 130
 * ms, all of it with every worker waiting, when the save held them
 * throughout.
 */
#define SAVE_PAGE	256

struct pager {
	FILE		*mem;		/* open_memstream() */
	char		*buf;
	size_t		 len;
	FILE		*out;
	sg_hold_fn	 hold;
	void		*arg;
	int		 w;		/* held while a page is formatted */
};

static int
pager_open(struct pager *pg, FILE *out, sg_hold_fn hold, void *arg)
{
	memset(pg, 0, sizeof(*pg));
	pg->out = out;
	pg->hold = hold;
	pg->arg = arg;
	pg->mem = open_memstream(&pg->buf, &pg->len);
	return pg->mem == NULL ? -1 : 0;
}

/* Hold worker w: the page's lines go to the stream returned. */
static FILE *
page_begin(struct pager *pg, int w)
{
	pg->w = w;
	if (pg->hold != NULL)
		pg->hold(pg->arg, w, true);
	return pg->mem;
}

/* Release the worker, then write what the page formatted. */
static int
page_end(struct pager *pg)
{
	int	 rc = 0;

	if (pg->hold != NULL)
		pg->hold(pg->arg, pg->w, false);
	if (fflush(pg->mem) != 0 || (pg->len > 0 && fwrite(pg->buf, 1,
	    pg->len, pg->out) != pg->len))
		rc = -1;
	rewind(pg->mem);
	return rc;
}

static void
pager_close(struct pager *pg)
{
	if (pg->mem != NULL)
		fclose(pg->mem);
	free(pg->buf);
}

struct baseline_saver {
	struct flood	*f;
	uint64_t	 now;
	sg_hold_fn	 hold;
	void		*arg;
};

static int
fill_baseline(void *arg, FILE *fp)
{
	struct baseline_saver	*bs = arg;
	struct pager		 pg;
	uint32_t		 k = 0, end = flood_baseline_rows_end(bs->f);
	int			 rc;

	if (pager_open(&pg, fp, bs->hold, bs->arg) == -1)
		return -1;
	/* Training ends (if it has not) with worker 0 held. */
	flood_finish_training(bs->f, bs->now);
	flood_baseline_head(bs->f, page_begin(&pg, 0));
	do {
		k = flood_baseline_rows(bs->f, pg.mem, k, SAVE_PAGE);
		rc = page_end(&pg);
	} while (rc == 0 && k < end && page_begin(&pg, 0) != NULL);
	pager_close(&pg);
	return rc == 0 ? flood_baseline_tail(fp) : -1;
}

int
state_baseline_save(struct engine *e, const char *path, uint64_t now,
    sg_hold_fn hold, void *arg, char *err, size_t errlen)
{
	struct baseline_saver	 bs = { engine_flood(e), now, hold, arg };

	return state_write_atomic(path, fill_baseline, &bs, err, errlen);
}

/* ---- save ----------------------------------------------------------------------- */

struct saver {
	struct engine	**e;
	int		 n;
	uint64_t	 now;
	struct state_counts *c;
	sg_hold_fn	 hold;
	void		*arg;
	/* what was written, to merge the workers' copies (n > 1) */
	struct sg_keyset seen;
};

static void
put_blacklist(struct saver *sv, FILE *fp, const struct bl_entry *b)
{
	if (sv->n > 1 && !sg_keyset_add(&sv->seen,
	    hash_bytes(&b->key, sizeof(b->key))))
		return;
	sv->c->blacklist++;
	fprintf(fp, "l %u", b->key.kind);
	put_mac(fp, b->key.m, b->key.has_m);
	put_addr(fp, &b->key.i);
	fprintf(fp, " %u", b->key.port);
	put_addr(fp, &b->key.s);
	fprintf(fp, " %016" PRIx64 " %" PRIu64 " %" PRIu64, b->key.dh,
	    b->added, b->expires);
	put_str(fp, b->why);
	put_str(fp, b->d);
	fputc('\n', fp);
}

/* Slot s of a binding table, if it holds a binding to keep. */
static void
put_binding(struct saver *sv, FILE *fp, struct bind_table *bt, uint32_t s)
{
	const struct binding	*b = bind_at(bt, s);
	char			 d[SG_ID_MAX], impi[SG_ID_MAX];

	if (b == NULL || !bind_held(bt, b, sv->now) || (sv->n > 1 &&
	    !sg_keyset_add(&sv->seen, bind_row_key(b))))
		return;
	fprintf(fp, "b");
	put_mac(fp, b->m.b, b->has_m);
	put_addr(fp, &b->i);
	put_addr(fp, &b->s);
	fprintf(fp, " %d %u %016" PRIx64 " %016" PRIx64 " %016" PRIx64
	    " %" PRIu64 " %" PRIu64 " %" PRIu64, b->nat, b->port, b->dh,
	    b->impih, b->contact_idh, b->created, b->refreshed, b->expires);
	put_str(fp, bind_d(bt, b, d));
	put_str(fp, bind_impi(bt, b, impi));
	fputc('\n', fp);
	sv->c->bindings++;
}

/* Slot s of worker w's bindings, or of its blacklist, as lines. */
static void
put_binding_slot(struct saver *sv, FILE *fp, int w, uint32_t s)
{
	put_binding(sv, fp, engine_bindings(sv->e[w]), s);
}

static void
put_blacklist_slot(struct saver *sv, FILE *fp, int w, uint32_t s)
{
	const struct bl_entry	*b = enf_at(engine_enforcer(sv->e[w]), s,
				    sv->now);

	if (b != NULL)
		put_blacklist(sv, fp, b);
}

/* Worker w's `cap' slots, SAVE_PAGE under each hold.  0 or -1. */
static int
put_pages(struct saver *sv, struct pager *pg, int w, uint32_t cap,
    void (*put)(struct saver *, FILE *, int, uint32_t))
{
	int	 rc = 0;

	for (uint32_t s = 0; s < cap && rc == 0; ) {
		FILE	*mp = page_begin(pg, w);

		for (uint32_t end = s + SAVE_PAGE; s < cap && s < end; s++)
			put(sv, mp, w, s);
		rc = page_end(pg);
	}
	return rc;
}

static int
fill_state(void *arg, FILE *fp)
{
	struct saver	*sv = arg;
	struct pager	 pg;
	uint8_t		 key[16];
	int		 rc = 0;

	if (pager_open(&pg, fp, sv->hold, sv->arg) == -1)
		return -1;
	hash_get_key(key);
	fprintf(fp, "sipguard-state 1\nkey ");
	put_hex(fp, key, sizeof(key));
	fputc('\n', fp);
	for (int w = 0; w < sv->n && rc == 0; w++)
		rc = put_pages(sv, &pg, w, bind_capacity(engine_bindings(
		    sv->e[w])), put_binding_slot);
	/*
	 * Each worker lists the offenders of its own queue (the kernel
	 * spreads sources over queues by address); manual entries are in
	 * all of them.  Written slot by slot (a page at a time), so the file
	 * lists them in the table's order, not the order they were added.
	 */
	sg_keyset_free(&sv->seen);
	if (sv->n > 1) {
		size_t	 cap = 0;

		/* By capacity: entries added between pages find room. */
		for (int w = 0; w < sv->n; w++)
			cap += enf_capacity(engine_enforcer(sv->e[w]));
		sg_keyset_init(&sv->seen, cap);
	}
	for (int w = 0; w < sv->n && rc == 0; w++)
		rc = put_pages(sv, &pg, w, enf_capacity(engine_enforcer(
		    sv->e[w])), put_blacklist_slot);
	pager_close(&pg);
	if (rc == -1)
		return -1;
	fprintf(fp, "end\n");
	return ferror(fp) ? -1 : 0;
}

int
state_save(const char *dir, struct engine **e, int n, uint64_t now,
    sg_hold_fn hold, void *arg, struct state_counts *c, char *err,
    size_t errlen)
{
	struct saver	 sv = { .e = e, .n = n, .now = now, .c = c,
			    .hold = hold, .arg = arg };
	char		 path[512];
	int		 rc;

	memset(c, 0, sizeof(*c));
	if (n > 1) {
		size_t	 cap = 0;

		for (int w = 0; w < n; w++)
			cap += bind_capacity(engine_bindings(e[w]));
		sg_keyset_init(&sv.seen, cap);
	}
	if (snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	rc = state_write_atomic(path, fill_state, &sv, err, errlen);
	sg_keyset_free(&sv.seen);
	return rc;
}

/* ---- load ------------------------------------------------------------------------ */

static FILE *
open_state(const char *dir, char *path, size_t plen, char *err, size_t errlen)
{
	FILE	*fp;
	char	 line[64];

	snprintf(path, plen, "%s/%s", dir, STATE_FILE);
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fgets(line, sizeof(line), fp) == NULL ||
	    strcmp(line, "sipguard-state 1\n") != 0) {
		snprintf(err, errlen, "%s: line 1: not a sipguard state file",
		    path);
		fclose(fp);
		return NULL;
	}
	return fp;
}

int
state_load_key(const char *dir, char *err, size_t errlen)
{
	char	 path[512], line[LINE_MAX_STATE], hex[64];
	uint8_t	 key[16];
	FILE	*fp;
	int	 rc = 1;

	err[0] = '\0';
	if ((fp = open_state(dir, path, sizeof(path), err, errlen)) == NULL)
		return err[0] ? -1 : 1;
	if (fgets(line, sizeof(line), fp) != NULL &&
	    sscanf(line, "key %63s", hex) == 1 &&
	    get_hex(hex, key, sizeof(key)) == 0) {
		hash_set_key(key);
		rc = 0;
	} else
		snprintf(err, errlen, "%s: line 2: no key", path);
	fclose(fp);
	return rc;
}

/* A binding record: the row, and its texts d and impi (SG_ID_MAX). */
static int
parse_binding(char *line, struct binding *b, char *d, char *impi)
{
	char		*f[16], *save = NULL;
	int		 n = 0, nat;
	unsigned int	 port;

	for (char *t = strtok_r(line, " \n", &save); t != NULL && n < 16;
	    t = strtok_r(NULL, " \n", &save))
		f[n++] = t;
	if (n != 14 || strcmp(f[0], "b") != 0)
		return -1;
	memset(b, 0, sizeof(*b));
	if (get_mac(f[1], &b->m, &b->has_m) == -1 || get_addr(f[2], &b->i) ==
	    -1 || get_addr(f[3], &b->s) == -1 || sscanf(f[4], "%d", &nat) !=
	    1 || sscanf(f[5], "%u", &port) != 1 || port > 65535 ||
	    sscanf(f[6], "%" SCNx64, &b->dh) != 1 ||
	    sscanf(f[7], "%" SCNx64, &b->impih) != 1 ||
	    sscanf(f[8], "%" SCNx64, &b->contact_idh) != 1 ||
	    sscanf(f[9], "%" SCNu64, &b->created) != 1 ||
	    sscanf(f[10], "%" SCNu64, &b->refreshed) != 1 ||
	    sscanf(f[11], "%" SCNu64, &b->expires) != 1 ||
	    get_str(f[12], d, SG_ID_MAX) == -1 ||
	    get_str(f[13], impi, SG_ID_MAX) == -1 ||
	    !sg_addr_is_ip(&b->i) || b->dh == 0)
		return -1;
	b->nat = nat != 0;
	b->port = (uint16_t)port;
	return 0;
}

static int
parse_listed(char *line, struct bl_entry *x)
{
	char		*f[12], *save = NULL;
	int		 n = 0;
	unsigned int	 kind, port;
	bool		 has_m;
	struct sg_mac	 m;

	for (char *t = strtok_r(line, " \n", &save); t != NULL && n < 12;
	    t = strtok_r(NULL, " \n", &save))
		f[n++] = t;
	if (n != 11 || strcmp(f[0], "l") != 0)
		return -1;
	memset(x, 0, sizeof(*x));
	if (sscanf(f[1], "%u", &kind) != 1 || kind < BL_K || kind > BL_MIP ||
	    get_mac(f[2], &m, &has_m) == -1 ||
	    get_addr(f[3], &x->key.i) == -1 ||
	    sscanf(f[4], "%u", &port) != 1 || port > 65535 ||
	    get_addr(f[5], &x->key.s) == -1 ||
	    sscanf(f[6], "%" SCNx64, &x->key.dh) != 1 ||
	    sscanf(f[7], "%" SCNu64, &x->added) != 1 ||
	    sscanf(f[8], "%" SCNu64, &x->expires) != 1 ||
	    get_str(f[9], x->why, sizeof(x->why)) == -1 ||
	    get_str(f[10], x->d, sizeof(x->d)) == -1 ||
	    !sg_addr_is_ip(&x->key.i))
		return -1;
	x->key.kind = (uint8_t)kind;
	x->key.has_m = has_m;
	memcpy(x->key.m, m.b, 6);
	x->key.port = (uint16_t)port;
	return 0;
}

static int
parse_whitelisted(char *line, struct wl_entry *x)
{
	char		*f[8], *save = NULL;
	int		 n = 0;
	unsigned int	 len;
	bool		 has_m;

	for (char *t = strtok_r(line, " \n", &save); t != NULL && n < 8;
	    t = strtok_r(NULL, " \n", &save))
		f[n++] = t;
	if (n != 6 || strcmp(f[0], "w") != 0)
		return -1;
	memset(x, 0, sizeof(*x));
	x->origin = WL_RUNTIME;
	if (get_addr(f[1], &x->spec.net.net) == -1 ||
	    !sg_addr_is_ip(&x->spec.net.net) ||
	    sscanf(f[2], "%u", &len) != 1 ||
	    len > (x->spec.net.net.family == SG_AF_INET ? 32u : 128u) ||
	    get_mac(f[3], &x->spec.mac, &has_m) == -1 ||
	    sscanf(f[4], "%" SCNu64, &x->added) != 1 ||
	    get_str(f[5], x->comment, sizeof(x->comment)) == -1)
		return -1;
	x->spec.net.len = (uint8_t)len;
	x->spec.pinned = has_m;
	/* What a save never writes: a comment the control socket (printable
	 * ASCII) could not have given. */
	for (const char *p = x->comment; *p != '\0'; p++)
		if (*p < ' ' || *p > '~')
			return -1;
	/* A prefix with host bits set was not written by a save. */
	for (unsigned bit = len; bit < 128; bit++)
		if (x->spec.net.net.a[bit / 8] & (0x80 >> (bit % 8)))
			return -1;
	return 0;
}

static bool
blank(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}

/*
 * Check the whole file first: a corrupt or truncated one is reported and
 * ignored as a whole, never half applied.  state_save() writes `end'
 * last, and the file is replaced by a rename, so a record after it was
 * not written by a save: an edit gone wrong, two files run together.
 * Applying the part before `end' would silently drop the operator's
 * lines, applying all would restore lines never checked: the file is
 * refused with the line, like any other corrupt file.  Blank lines after
 * `end' (an editor's) are not records and are let be.
 */
static int
check_state(FILE *fp, const char *path, char *err, size_t errlen)
{
	char		 line[LINE_MAX_STATE];
	int		 lineno = 1;
	bool		 ended = false;

	while (fgets(line, sizeof(line), fp) != NULL) {
		struct binding	 b;
		struct bl_entry	 x;
		char		 d[SG_ID_MAX], impi[SG_ID_MAX];

		lineno++;
		if (ended) {
			if (blank(line))
				continue;
			snprintf(err, errlen, "%s: line %d: record after the "
			    "end line", path, lineno);
			return -1;
		}
		if (lineno == 2 && strncmp(line, "key ", 4) == 0)
			continue;
		if (strcmp(line, "end\n") == 0) {
			ended = true;
			continue;
		}
		if ((line[0] == 'b' && parse_binding(line, &b, d, impi) == 0) ||
		    (line[0] == 'l' && parse_listed(line, &x) == 0))
			continue;
		snprintf(err, errlen, "%s: line %d: unreadable record", path,
		    lineno);
		return -1;
	}
	if (!ended) {
		snprintf(err, errlen, "%s: truncated (no end line)", path);
		return -1;
	}
	return 0;
}

int
state_restore(const char *dir, struct engine **e, int n, uint64_t now,
    struct state_counts *c, char *err, size_t errlen)
{
	char		 path[512], line[LINE_MAX_STATE];
	FILE		*fp;

	memset(c, 0, sizeof(*c));
	err[0] = '\0';
	if ((fp = open_state(dir, path, sizeof(path), err, errlen)) == NULL)
		return err[0] ? -1 : 1;
	if (check_state(fp, path, err, errlen) == -1) {
		fclose(fp);
		return -1;
	}
	rewind(fp);
	if (fgets(line, sizeof(line), fp) == NULL) {
		fclose(fp);
		return -1;
	}
	/* Checked above; apply up to `end', never past it. */
	while (fgets(line, sizeof(line), fp) != NULL &&
	    strcmp(line, "end\n") != 0) {
		struct binding	 b;
		struct bl_entry	 x;
		char		 d[SG_ID_MAX], impi[SG_ID_MAX];

		if (line[0] == 'b' && parse_binding(line, &b, d, impi) == 0) {
			if (b.expires + bind_grace(engine_bindings(e[0])) <=
			    now) {
				c->expired++;
				continue;
			}
			for (int w = 0; w < n; w++)
				bind_restore(engine_bindings(e[w]), &b, d, impi,
				    now);
			c->bindings++;
		} else if (line[0] == 'l' && parse_listed(line, &x) == 0) {
			if (x.expires <= now) {
				c->expired++;
				continue;
			}
			for (int w = 0; w < n; w++)
				enf_add(engine_enforcer(e[w]), &x.key, x.why,
				    x.d, x.expires - now, now);
			c->blacklist++;
		}
	}
	fclose(fp);
	return 0;
}

/* ---- the runtime whitelist ------------------------------------------------------ */

struct wsaver {
	const struct wl_entry	*x;
	uint32_t		 nx;
	FILE			*fp;
	uint32_t		 n;
};

/* A runtime whitelist entry: w ADDR LEN MAC ADDED COMMENT. */
static int
put_whitelisted(void *arg, const struct wl_entry *x)
{
	struct wsaver	*sv = arg;

	if (x->origin != WL_RUNTIME)
		return 0;
	fprintf(sv->fp, "w");
	put_addr(sv->fp, &x->spec.net.net);
	fprintf(sv->fp, " %u", x->spec.net.len);
	put_mac(sv->fp, x->spec.mac.b, x->spec.pinned);
	fprintf(sv->fp, " %" PRIu64, x->added);
	put_str(sv->fp, x->comment);
	fputc('\n', sv->fp);
	sv->n++;
	return 0;
}

static int
fill_whitelist(void *arg, FILE *fp)
{
	struct wsaver	*sv = arg;

	sv->fp = fp;
	fprintf(fp, "sipguard-whitelist 1\n");
	for (uint32_t k = 0; k < sv->nx; k++)
		put_whitelisted(sv, &sv->x[k]);
	fprintf(fp, "end\n");
	return ferror(fp) ? -1 : 0;
}

int
state_whitelist_save(const char *dir, const struct wl_entry *x, uint32_t nx,
    uint32_t *count, char *err, size_t errlen)
{
	struct wsaver	 sv = { .x = x, .nx = nx };
	char		 path[512];
	int		 rc;

	if (snprintf(path, sizeof(path), "%s/%s", dir, WHITELIST_FILE) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	rc = state_write_atomic(path, fill_whitelist, &sv, err, errlen);
	*count = sv.n;
	return rc;
}

int
state_whitelist_restore(const char *dir, struct engine **e, int n,
    uint32_t *count, char *err, size_t errlen)
{
	char		 path[512], line[LINE_MAX_STATE];
	struct wl_entry	*x;
	uint32_t	 nx = 0, cap;
	int		 lineno = 1;
	bool		 ended = false;
	FILE		*fp;

	*count = 0;
	err[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, WHITELIST_FILE);
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	cap = wl_capacity(engine_whitelist(e[0]));
	if ((x = calloc(cap, sizeof(*x))) == NULL) {
		fclose(fp);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if (fgets(line, sizeof(line), fp) == NULL ||
	    strcmp(line, "sipguard-whitelist 1\n") != 0)
		snprintf(err, errlen, "%s: line 1: not a sipguard whitelist "
		    "file", path);
	/* Whole first, as the state file: never half applied. */
	while (err[0] == '\0' && fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (ended && !blank(line))
			snprintf(err, errlen, "%s: line %d: record after the "
			    "end line", path, lineno);
		else if (ended)
			continue;
		else if (strcmp(line, "end\n") == 0)
			ended = true;
		else if (nx == cap)
			snprintf(err, errlen, "%s: line %d: more entries than "
			    "tables.whitelist", path, lineno);
		else if (parse_whitelisted(line, &x[nx]) == -1)
			snprintf(err, errlen, "%s: line %d: unreadable record",
			    path, lineno);
		else
			nx++;
	}
	if (err[0] == '\0' && !ended)
		snprintf(err, errlen, "%s: truncated (no end line)", path);
	fclose(fp);
	if (err[0] != '\0') {
		free(x);
		return -1;
	}
	for (uint32_t k = 0; k < nx; k++) {
		int	 was, rc = 0;

		/* A prefix the configuration or the file holds stays
		 * theirs; a full table keeps what it has. */
		for (int w = 0; w < n; w++)
			rc = wl_add(engine_whitelist(e[w]), &x[k], &was);
		if (rc >= 0)
			(*count)++;
	}
	free(x);
	return 0;
}
