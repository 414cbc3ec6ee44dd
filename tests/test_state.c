/*
 * test_state.c: the state file (state.h).  What state_save() writes,
 * state_restore() puts back; a file that is not whole (truncated, a bad
 * record, records after its end line) is refused as a whole, so nothing
 * of it is applied.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bind.h"
#include "conf.h"
#include "enforce.h"
#include "engine.h"
#include "hash.h"
#include "sipguard.h"
#include "state.h"
#include "testlib.h"
#include "whitelist.h"

#define T0	SEC(1700000000)
#define LATER	(T0 + SEC(3600))

struct fx {
	struct sg_conf	 conf;
	char		 dir[64], other[64];
	struct engine	*e;
};

static int
setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	conf_defaults(&f->conf);
	f->conf.tab_bindings = 64;
	f->conf.tab_sources = 64;
	f->conf.blacklist_size = 64;
	tl_template(f->dir, sizeof(f->dir), "/tmp/sgstate");
	tl_template(f->other, sizeof(f->other), "/tmp/sgstate");
	assert_non_null(mkdtemp(f->dir));
	assert_non_null(mkdtemp(f->other));
	*state = f;
	return 0;
}

static void
rm_state(const char *dir)
{
	char	 path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	unlink(path);
	rmdir(dir);
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	engine_destroy(f->e);
	rm_state(f->dir);
	rm_state(f->other);
	free(f);
	return 0;
}

/* UE `n': MAC 02:00:00:00:00:n, 198.51.100.n, user<n>@example.com. */
static void
tup(struct sg_tuple *t, unsigned n)
{
	char	 ip[32];

	memset(t, 0, sizeof(*t));
	t->has_m = true;
	t->m.b[0] = 0x02;
	t->m.b[5] = (uint8_t)n;
	snprintf(ip, sizeof(ip), "198.51.100.%u", n);
	assert_int_equal(sg_addr_parse(ip, &t->i), 0);
	t->s = t->i;
	t->sport = 5060;
	snprintf(t->d, sizeof(t->d), "user%u@example.com", n);
	t->dh = hash_bytes(t->d, strlen(t->d));
}

/* An engine holding UE `n''s binding and its (m, i) blacklisted. */
static struct engine *
engine_with(struct fx *f, unsigned n)
{
	struct engine		*e = engine_create(&f->conf);
	struct sg_tuple		 t;
	struct bl_key		 k;
	const struct binding	*b;

	assert_non_null(e);
	tup(&t, n);
	assert_int_equal(bind_learn(engine_bindings(e), &t, 0, LATER, T0, &b),
	    BIND_NEW);
	enf_key_mi(&k, &t);
	assert_int_equal(enf_add(engine_enforcer(e), &k, "ss", NULL, SEC(600),
	    T0), ACT_BLOCK);
	return e;
}

static void
save(struct fx *f, const char *dir, unsigned n)
{
	struct engine		*e = engine_with(f, n);
	struct state_counts	 c;
	char			 err[256];

	if (state_save(dir, &e, 1, T0, NULL, NULL, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.bindings, 1);
	assert_int_equal(c.blacklist, 1);
	engine_destroy(e);
}

/* A file's text. */
static char *
slurp_path(const char *path)
{
	char	*buf;
	FILE	*fp;
	long	 len;

	assert_non_null(fp = fopen(path, "r"));
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	rewind(fp);
	assert_non_null(buf = calloc(1, (size_t)len + 1));
	assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	return buf;
}

/* The state file's text. */
static char *
slurp(const char *dir)
{
	char	 path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	return slurp_path(path);
}

static void
append(const char *dir, const char *text)
{
	char	 path[128];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	assert_non_null(fp = fopen(path, "a"));
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* Restore into a fresh engine; what it holds afterwards. */
static int
restore(struct fx *f, struct state_counts *c, char *err, size_t errlen,
    uint32_t *live, uint32_t *listed)
{
	struct bind_stats	 bs;
	struct enf_stats	 es;
	int			 rc;

	engine_destroy(f->e);
	f->e = engine_create(&f->conf);
	assert_non_null(f->e);
	rc = state_restore(f->dir, &f->e, 1, T0 + SEC(1), c, err, errlen);
	bind_stats(engine_bindings(f->e), &bs);
	enf_stats(engine_enforcer(f->e), &es);
	*live = bs.live;
	*listed = es.entries;
	return rc;
}

static void
test_round_trip(void **state)
{
	struct fx		*f = *state;
	struct state_counts	 c;
	char			 err[256];
	uint32_t		 live, listed;
	struct sg_tuple		 t;

	save(f, f->dir, 1);
	if (restore(f, &c, err, sizeof(err), &live, &listed) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.bindings, 1);
	assert_int_equal(c.blacklist, 1);
	assert_int_equal(live, 1);
	assert_int_equal(listed, 1);
	tup(&t, 1);
	assert_true(enf_check_l3(engine_enforcer(f->e), &t, T0 + SEC(1)));
	assert_non_null(bind_find(engine_bindings(f->e), &t, T0 + SEC(1)));
}

/*
 * A binding lapsed when the state is saved (past its expiry, within
 * bindings.grace) is saved and comes back lapsed; one past its grace is
 * neither.
 */
static void
test_lapsed(void **state)
{
	struct fx		*f = *state;
	struct engine		*e;
	struct state_counts	 c;
	struct sg_tuple		 t;
	char			 err[256];
	const struct binding	*b;

	e = engine_create(&f->conf);
	assert_non_null(e);
	tup(&t, 1);
	assert_int_equal(bind_learn(engine_bindings(e), &t, 0, T0 - SEC(60),
	    T0 - SEC(3600), &b), BIND_NEW);
	tup(&t, 2);
	assert_int_equal(bind_learn(engine_bindings(e), &t, 0,
	    T0 - f->conf.bind_grace, T0 - SEC(7200), &b), BIND_NEW);
	if (state_save(f->dir, &e, 1, T0, NULL, NULL, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.bindings, 1);
	engine_destroy(e);
	engine_destroy(f->e);
	f->e = engine_create(&f->conf);
	assert_non_null(f->e);
	if (state_restore(f->dir, &f->e, 1, T0 + SEC(1), &c, err,
	    sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.bindings, 1);
	tup(&t, 1);
	assert_non_null(b = bind_find(engine_bindings(f->e), &t, T0 + SEC(1)));
	assert_true(b->expires <= T0 + SEC(1));
	tup(&t, 2);
	assert_null(bind_find(engine_bindings(f->e), &t, T0 + SEC(1)));
}

/*
 * Regression (issue 9, point 7): the file was checked up to its `end'
 * line, then applied to its last line, so records after `end' (never
 * written by state_save, never checked) were restored.  The file is
 * refused, as a truncated or corrupt one is: nothing of it applied.
 */
static void
test_records_after_end(void **state)
{
	struct fx		*f = *state;
	struct state_counts	 c;
	char			 err[256], *other, *rec, *end;
	uint32_t		 live, listed;

	save(f, f->dir, 1);
	/* UE 2's records, whole and valid, after UE 1's end line. */
	save(f, f->other, 2);
	other = slurp(f->other);
	assert_non_null(rec = strstr(other, "\nb "));
	assert_non_null(end = strstr(other, "\nend\n"));
	end[1] = '\0';
	append(f->dir, rec + 1);
	free(other);

	assert_int_equal(restore(f, &c, err, sizeof(err), &live, &listed),
	    -1);
	assert_non_null(strstr(err, ": line 6: record after the end line"));
	assert_int_equal(live, 0);
	assert_int_equal(listed, 0);
	assert_int_equal(c.bindings, 0);
	assert_int_equal(c.blacklist, 0);
}

/* Not even a line of text: anything but blank lines after `end'. */
static void
test_garbage_after_end(void **state)
{
	struct fx		*f = *state;
	struct state_counts	 c;
	char			 err[256];
	uint32_t		 live, listed;

	save(f, f->dir, 1);
	append(f->dir, "\nend\n# a comment\n");
	assert_int_equal(restore(f, &c, err, sizeof(err), &live, &listed),
	    -1);
	assert_non_null(strstr(err, ": line 7: record after the end line"));
	assert_int_equal(live + listed, 0);
}

/* Blank lines after `end' (an editor's) are no records: restored. */
static void
test_blank_after_end(void **state)
{
	struct fx		*f = *state;
	struct state_counts	 c;
	char			 err[256];
	uint32_t		 live, listed;

	save(f, f->dir, 1);
	append(f->dir, "\n \t\n");
	if (restore(f, &c, err, sizeof(err), &live, &listed) != 0)
		fail_msg("%s", err);
	assert_int_equal(live, 1);
	assert_int_equal(listed, 1);
}

/* Truncated, or a bad record before `end': refused, nothing applied. */
static void
test_not_whole(void **state)
{
	struct fx		*f = *state;
	struct state_counts	 c;
	char			 err[256], path[128], *text;
	uint32_t		 live, listed;
	FILE			*fp;

	save(f, f->dir, 1);
	text = slurp(f->dir);
	snprintf(path, sizeof(path), "%s/%s", f->dir, STATE_FILE);
	/* Without its end line. */
	assert_non_null(fp = fopen(path, "w"));
	fwrite(text, 1, strlen(text) - 4, fp);
	fclose(fp);
	assert_int_equal(restore(f, &c, err, sizeof(err), &live, &listed),
	    -1);
	assert_non_null(strstr(err, "truncated"));
	assert_int_equal(live + listed, 0);
	/* A bad record after good ones. */
	assert_non_null(fp = fopen(path, "w"));
	fwrite(text, 1, strlen(text) - 4, fp);
	fputs("l 9\nend\n", fp);
	fclose(fp);
	assert_int_equal(restore(f, &c, err, sizeof(err), &live, &listed),
	    -1);
	assert_non_null(strstr(err, ": line 5: unreadable record"));
	assert_int_equal(live + listed, 0);
	free(text);
}

static int
fill_text(void *arg, FILE *fp)
{
	fputs(arg, fp);
	return 0;
}

static int
fill_fail(void *arg, FILE *fp)
{
	fputs(arg, fp);
	return -1;
}

/*
 * The one writer of the state file and the baseline: the new content
 * whole, mode 0600 (the hash key, subscribers' addresses); a failed
 * write leaves the old file as it was and no temporary file behind.
 */
/* The entries of `e''s whitelist as an array, as the daemon copies them. */
static uint32_t
entries_of(struct engine *e, struct wl_entry *x, uint32_t max)
{
	struct whitelist	*w = engine_whitelist(e);
	struct sg_cidr		 c;
	uint32_t		 n = 0;
	static const char *const all[] = { "2001:db8:5::/48", "192.0.2.0/24",
				    "203.0.113.1" };

	for (size_t k = 0; k < nitems(all) && n < max; k++) {
		const struct wl_entry	*y;

		assert_int_equal(sg_cidr_parse(all[k], &c), 0);
		if ((y = wl_find(w, &c)) != NULL)
			x[n++] = *y;
	}
	return n;
}

static void
unlink_whitelist(const char *dir)
{
	char	 path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, WHITELIST_FILE);
	unlink(path);
}

/*
 * Runtime whitelist entries survive a restart, comment and MAC pin
 * included, in a file of their own; the configuration's are not written
 * (it gives them back), and a prefix the configuration now holds stays
 * the configuration's.
 */
static void
test_whitelist(void **state)
{
	struct fx		*f = *state;
	struct engine		*e = engine_create(&f->conf);
	struct wl_entry		 x = { .origin = WL_RUNTIME, .added = 1700 };
	struct wl_entry		 all[8];
	struct sg_cidr		 net;
	const struct wl_entry	*y;
	char			 err[256], path[128], *text;
	uint32_t		 count, n;
	int			 was;

	assert_non_null(e);
	assert_int_equal(sg_wl_parse("2001:db8:5::/48 02:00:5e:00:53:01",
	    &x.spec), 0);
	snprintf(x.comment, sizeof(x.comment), "peer %% proxy - B");
	assert_int_equal(wl_add(engine_whitelist(e), &x, &was), 0);
	assert_int_equal(sg_wl_parse("192.0.2.0/24", &x.spec), 0);
	x.comment[0] = '\0';
	assert_int_equal(wl_add(engine_whitelist(e), &x, &was), 0);
	x.origin = WL_CONF;
	assert_int_equal(sg_wl_parse("203.0.113.1", &x.spec), 0);
	assert_int_equal(wl_add(engine_whitelist(e), &x, &was), 0);
	n = entries_of(e, all, nitems(all));
	assert_int_equal(n, 3);
	if (state_whitelist_save(f->dir, all, n, &count, err,
	    sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(count, 2);
	engine_destroy(e);
	snprintf(path, sizeof(path), "%s/%s", f->dir, WHITELIST_FILE);
	text = slurp_path(path);
	assert_null(strstr(text, "203.0.113.1"));
	assert_non_null(strstr(text, "sipguard-whitelist 1\nw "));
	free(text);

	/* The configuration now holds 192.0.2.0/24 itself. */
	assert_int_equal(sg_wl_parse("192.0.2.0/24", &f->conf.whitelist[0]),
	    0);
	f->conf.nwhitelist = 1;
	engine_destroy(f->e);
	assert_non_null(f->e = engine_create(&f->conf));
	if (state_whitelist_restore(f->dir, &f->e, 1, &count, err,
	    sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(count, 1);
	assert_int_equal(wl_count(engine_whitelist(f->e)), 2);
	assert_int_equal(sg_cidr_parse("2001:db8:5::/48", &net), 0);
	assert_non_null(y = wl_find(engine_whitelist(f->e), &net));
	assert_int_equal(y->origin, WL_RUNTIME);
	assert_true(y->spec.pinned);
	assert_int_equal(y->spec.mac.b[5], 1);
	assert_int_equal(y->added, 1700);
	assert_string_equal(y->comment, "peer % proxy - B");
	assert_int_equal(sg_cidr_parse("192.0.2.0/24", &net), 0);
	assert_int_equal(wl_find(engine_whitelist(f->e), &net)->origin,
	    WL_CONF);
	/* No file: nothing to restore. */
	unlink_whitelist(f->dir);
	assert_int_equal(state_whitelist_restore(f->dir, &f->e, 1, &count,
	    err, sizeof(err)), 1);
}

/* A whitelist record a save never writes: the whole file is refused. */
static void
test_whitelist_bad(void **state)
{
	static const char *const bad[] = {
		"w 4/c0000201000000000000000000000000 24 none 0 -\n",
		"w 4/c0000200000000000000000000000000 33 none 0 -\n",
		"w 4/c0000200000000000000000000000000 24 nomac 0 -\n",
		"w 4/c0000200000000000000000000000000 24 none 0\n",
		"w 0/00000000000000000000000000000000 0 none 0 -\n",
		"w 4/c0000200000000000000000000000000 24 none 0 a%0ab\n",
		"w 4/c0000200000000000000000000000000 24 none 0 a%9bb\n",
	};
	static const char good[] =
	    "w 4/c0000200000000000000000000000000 24 none 0 ok\n";
	struct fx	*f = *state;
	char		 err[256], path[128];
	uint32_t	 count;

	snprintf(path, sizeof(path), "%s/%s", f->dir, WHITELIST_FILE);
	assert_non_null(f->e = engine_create(&f->conf));
	for (size_t k = 0; k < nitems(bad); k++) {
		FILE	*fp = fopen(path, "w");

		assert_non_null(fp);
		fprintf(fp, "sipguard-whitelist 1\n%s%send\n", good, bad[k]);
		assert_int_equal(fclose(fp), 0);
		if (state_whitelist_restore(f->dir, &f->e, 1, &count, err,
		    sizeof(err)) != -1 || strstr(err, ": line 3: unreadable "
		    "record") == NULL)
			fail_msg("%s: taken (%s)", bad[k], err);
		/* Never half applied: the good line before it is not. */
		assert_int_equal(wl_count(engine_whitelist(f->e)), 0);
	}
	unlink_whitelist(f->dir);
}

static void
test_write_atomic(void **state)
{
	struct fx	*f = *state;
	char		 path[128], tmp[140], err[256], buf[64];
	struct stat	 sb;
	FILE		*fp;
	size_t		 n;

	snprintf(path, sizeof(path), "%s/file", f->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(state_write_atomic(path, fill_text, "one\n", err,
	    sizeof(err)), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(state_write_atomic(path, fill_fail, "two\n", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_int_equal(access(tmp, F_OK), -1);
	assert_non_null(fp = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	assert_string_equal(buf, "one\n");
	/* A directory that does not exist: an error naming the file. */
	snprintf(path, sizeof(path), "%s/none/file", f->dir);
	assert_int_equal(state_write_atomic(path, fill_text, "x", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "none/file.tmp"));
	snprintf(path, sizeof(path), "%s/file", f->dir);
	unlink(path);
}

/* Lowercase hex of n bytes into out (2n + 1). */
static void
hex(char *out, const uint8_t *p, size_t n)
{
	for (size_t k = 0; k < n; k++)
		snprintf(out + 2 * k, 3, "%02x", p[k]);
}

/*
 * A state file as sipguard wrote it before the identity texts moved to
 * a pool (the format is unchanged: every binding's d and IMPI whole):
 * restored, each binding shows its whole texts, whatever their length
 * and whether the IMPI is d, d's user part, its own or none; saved
 * again, the same binding records come out.
 */
static void
test_identity_texts(void **state)
{
	struct fx		*f = *state;
	struct state_counts	 c;
	uint8_t			 key[16];
	char			 keyhex[33], a[3][33], d[3][SG_ID_MAX];
	char			 impi[3][SG_ID_MAX], path[128], err[256];
	char			 recs[3][512], buf[SG_ID_MAX], *out;
	uint32_t		 live, listed;
	FILE			*fp;

	hash_get_key(key);
	hex(keyhex, key, sizeof(key));
	/* 127 characters and a 100-character IMPI of its own. */
	memset(d[0], 'a', 127);
	memcpy(d[0], "long", 4);
	memcpy(d[0] + 100, "@example.com", 12);
	d[0][127] = '\0';
	memset(impi[0], 'b', 100);
	impi[0][100] = '\0';
	snprintf(d[1], SG_ID_MAX, "bob@example.com");
	snprintf(impi[1], SG_ID_MAX, "bob");
	snprintf(d[2], SG_ID_MAX, "+12125551234@ims.mnc001.mcc001."
	    "3gppnetwork.org");
	impi[2][0] = '\0';
	for (int k = 0; k < 3; k++) {
		uint8_t	 ip[16] = { 0 };

		ip[10] = ip[11] = 0xff;		/* v4, as put_addr() */
		ip[12] = 198;
		ip[13] = 51;
		ip[14] = 100;
		ip[15] = (uint8_t)(k + 1);
		hex(a[k], ip, sizeof(ip));
		snprintf(recs[k], sizeof(recs[k]), "b 02:00:00:00:00:%02x "
		    "%u/%s %u/%s 0 5060 %016llx %016llx 0000000000000000 "
		    "%llu %llu %llu %s %s\n", k + 1, SG_AF_INET, a[k],
		    SG_AF_INET, a[k],
		    (unsigned long long)hash_bytes(d[k], strlen(d[k])),
		    impi[k][0] ? (unsigned long long)(hash_bytes(impi[k],
		    strlen(impi[k])) | 1) : 0ULL,
		    (unsigned long long)T0, (unsigned long long)T0,
		    (unsigned long long)LATER, d[k],
		    impi[k][0] ? impi[k] : "-");
	}
	snprintf(path, sizeof(path), "%s/%s", f->dir, STATE_FILE);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "sipguard-state 1\nkey %s\n%s%s%send\n", keyhex, recs[0],
	    recs[1], recs[2]);
	assert_int_equal(fclose(fp), 0);
	if (restore(f, &c, err, sizeof(err), &live, &listed) != 0)
		fail_msg("%s", err);
	assert_int_equal(live, 3);
	for (int k = 0; k < 3; k++) {
		struct bind_table	*bt = engine_bindings(f->e);
		const struct binding	*b = NULL;

		for (uint32_t s = 0; s < bind_capacity(bt) && b == NULL; s++)
			if ((b = bind_at(bt, s)) != NULL &&
			    b->dh != hash_bytes(d[k], strlen(d[k])))
				b = NULL;
		assert_non_null(b);
		assert_string_equal(bind_d(bt, b, buf), d[k]);
		assert_string_equal(bind_impi(bt, b, buf), impi[k]);
	}
	if (state_save(f->other, &f->e, 1, T0 + SEC(1), NULL, NULL, &c, err,
	    sizeof(err)) != 0)
		fail_msg("%s", err);
	out = slurp(f->other);
	for (int k = 0; k < 3; k++)
		if (strstr(out, recs[k]) == NULL)
			fail_msg("not saved back as read: %s\nsaved:\n%s",
			    recs[k], out);
	free(out);
}

int
main(void)
{
	if (hash_init() == -1)
		return 1;
	treg_fixture(setup, teardown);
	TREG("state", round_trip);
	TREG("state", lapsed);
	TREG("state", records_after_end);
	TREG("state", garbage_after_end);
	TREG("state", blank_after_end);
	TREG("state", not_whole);
	TREG("state", whitelist);
	TREG("state", whitelist_bad);
	TREG("state", write_atomic);
	TREG("state", identity_texts);
	return treg_run("state");
}
