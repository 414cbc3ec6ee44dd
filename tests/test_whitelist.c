/*
 * test_whitelist.c: the whitelist's table and file (whitelist.h).  The
 * longest prefix decides alone (a pinned /32 inside an unpinned /24),
 * a pinned entry passes its MAC only, IPv4 and IPv6 apart; places rank
 * configuration > file > runtime; capacity; the file's errors name the
 * line; and, checked against a plain model over random operations, the
 * lookup finds what a scan of every entry would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipguard.h"
#include "testlib.h"
#include "whitelist.h"

#define MAC_A	"02:00:5e:00:53:0a"
#define MAC_B	"02:00:5e:00:53:0b"

static struct sg_addr
ip(const char *s)
{
	struct sg_addr	 a;

	assert_int_equal(sg_addr_parse(s, &a), 0);
	return a;
}

static struct sg_mac
mac(const char *s)
{
	struct sg_mac	 m;

	assert_int_equal(sg_mac_parse(s, &m), 0);
	return m;
}

static int
add(struct whitelist *w, const char *spec, int origin)
{
	struct wl_entry	 x = { .origin = (uint8_t)origin };
	int		 was;

	assert_int_equal(sg_wl_parse(spec, &x.spec), 0);
	return wl_add(w, &x, &was);
}

static enum wl_verdict
check(struct whitelist *w, const char *addr, const char *m)
{
	struct sg_addr	 a = ip(addr);
	struct sg_mac	 mm = { { 0 } };

	if (m != NULL)
		mm = mac(m);
	return wl_check(w, &a, &mm, m != NULL);
}

static void
test_longest_prefix(void **state)
{
	static const struct {
		const char	*addr, *mac;
		enum wl_verdict	 want;
	} rows[] = {
		{ "198.51.100.1", MAC_B, WL_PASS },	/* the /24 */
		{ "198.51.100.7", MAC_A, WL_PASS },	/* the pinned /32 */
		{ "198.51.100.7", MAC_B, WL_WRONG_MAC },/* not the /24 */
		{ "198.51.100.7", NULL, WL_WRONG_MAC },
		{ "198.51.101.7", MAC_A, WL_NO },
		{ "203.0.113.15", NULL, WL_PASS },
		{ "203.0.113.16", NULL, WL_NO },
		{ "2001:db8:100:ffff::1", MAC_B, WL_PASS },
		{ "2001:db8:101::1", MAC_B, WL_NO },
		{ "::ffff:198.51.100.1", MAC_B, WL_NO },
		{ "0.0.0.0", NULL, WL_NO },
	};
	struct whitelist	*w = wl_create(16);

	(void)state;
	assert_non_null(w);
	assert_int_equal(add(w, "198.51.100.0/24", WL_CONF), 0);
	assert_int_equal(add(w, "198.51.100.7 " MAC_A, WL_RUNTIME), 0);
	assert_int_equal(add(w, "203.0.113.0/28", WL_FILE), 0);
	assert_int_equal(add(w, "2001:db8:100::/48", WL_CONF), 0);
	for (size_t r = 0; r < nitems(rows); r++)
		if (check(w, rows[r].addr, rows[r].mac) != rows[r].want)
			fail_msg("%s from %s: want %d", rows[r].addr,
			    rows[r].mac ? rows[r].mac : "none", rows[r].want);
	/* Removing the /32 lets the /24 decide again. */
	{
		struct sg_cidr	 c;
		int		 was;

		assert_int_equal(sg_cidr_parse("198.51.100.7", &c), 0);
		assert_int_equal(wl_del(w, &c, &was), 0);
		assert_int_equal(check(w, "198.51.100.7", MAC_B), WL_PASS);
	}
	wl_destroy(w);
}

static void
test_places(void **state)
{
	struct whitelist	*w = wl_create(16);
	struct sg_cidr		 c;
	struct wl_entry		 x = { .origin = WL_RUNTIME };
	int			 was = -1;

	(void)state;
	assert_int_equal(add(w, "10.0.0.0/8", WL_RUNTIME), 0);
	/* The file outranks the control socket: replaced. */
	assert_int_equal(sg_wl_parse("10.0.0.0/8 " MAC_A, &x.spec), 0);
	x.origin = WL_FILE;
	assert_int_equal(wl_add(w, &x, &was), 1);
	assert_int_equal(was, WL_RUNTIME);
	/* ... and a runtime entry for it is refused, naming the file. */
	x.origin = WL_RUNTIME;
	assert_int_equal(wl_add(w, &x, &was), -1);
	assert_int_equal(was, WL_FILE);
	/* Only runtime entries are removed by del. */
	assert_int_equal(sg_cidr_parse("10.1.2.3/8", &c), 0);
	assert_int_equal(wl_del(w, &c, &was), -2);
	assert_int_equal(was, WL_FILE);
	assert_non_null(wl_find(w, &c));
	assert_int_equal(wl_find(w, &c)->origin, WL_FILE);
	/* wl_drop: one place's entries. */
	assert_int_equal(add(w, "10.9.0.0/16", WL_RUNTIME), 0);
	assert_int_equal(add(w, "10.8.0.0/16", WL_CONF), 0);
	wl_drop(w, WL_FILE);
	assert_int_equal(wl_count(w), 2);
	assert_int_equal(check(w, "10.1.2.3", NULL), WL_NO);
	assert_int_equal(check(w, "10.9.2.3", NULL), WL_PASS);
	wl_drop(w, WL_CONF);
	assert_int_equal(wl_count(w), 1);
	assert_int_equal(check(w, "10.8.2.3", NULL), WL_NO);
	wl_destroy(w);
}

static void
test_full(void **state)
{
	struct whitelist	*w = wl_create(16);
	char			 spec[32];

	(void)state;
	for (int k = 0; k < 16; k++) {
		snprintf(spec, sizeof(spec), "192.0.2.%d", k);
		assert_int_equal(add(w, spec, WL_RUNTIME), 0);
	}
	assert_int_equal(add(w, "192.0.2.99", WL_RUNTIME), -2);
	/* Replacing needs no free slot. */
	assert_int_equal(add(w, "192.0.2.3 " MAC_A, WL_RUNTIME), 1);
	assert_int_equal(wl_count(w), 16);
	assert_int_equal(check(w, "192.0.2.3", MAC_A), WL_PASS);
	wl_destroy(w);
}

/* ---- the file ------------------------------------------------------------ */

struct frow {
	const char	*name;
	const char	*text;
	int		 rc;
	const char	*want;	/* rc 0: n as text; -1: in the error */
};

static const struct frow frows[] = {
	{ "good", "# peers\n\n203.0.113.0/28   carrier A trunk\n"
	    "198.51.100.7 " MAC_A "  peer proxy B # comment\n"
	    "2001:db8:100::/48\n\t10.0.0.1 not-a-mac words\n", 0, "4" },
	{ "bad_prefix", "10.0.0.0/8\n10.0.0.0/33 x\n", -1,
	    ": line 2: \"10.0.0.0/33\" is not an address or CIDR prefix" },
	{ "twice", "10.0.0.0/8\n\n10.0.0.0/8 again\n", -1,
	    ": line 3: 10.0.0.0/8 is already listed (line 1)" },
	{ "host_bits", "10.1.2.3/8\n", -1,
	    ": line 1: \"10.1.2.3/8\" is not an address or CIDR prefix" },
	{ "mapped", "::ffff:192.0.2.1\n", -1, ": line 1: \"::ffff:192.0.2.1\"" },
	{ "plus", "10.0.0.0/+8\n", -1, ": line 1: \"10.0.0.0/+8\"" },
	/* A mistyped MAC never turns into a comment (and the pin off). */
	{ "mac_typo", "192.0.2.0/24 02:00:5e:00:53:1 peer\n", -1,
	    ": line 1: \"02:00:5e:00:53:1\" is not a MAC address" },
	{ "mac_cisco", "192.0.2.0/24 0200.5e00.5301\n", -1,
	    ": line 1: \"0200.5e00.5301\" is not a MAC address" },
	{ "control", "10.0.0.0/8\x01\n", -1, ": line 1: a control byte (0x01)" },
	{ "cr_inside", "10.0.0.0/8\r02:00:5e:00:53:01\n", -1,
	    ": line 1: a control byte (0x0d)" },
	{ "crlf", "10.0.0.0/8 02:00:5e:00:53:01\r\n", 0, "1" },
	{ "non_ascii", "10.0.0.0/8 caf\xc3\xa9\n", -1,
	    ": line 1: a non-ASCII byte (0xc3)" },
	/* A NUL can hide neither a pin nor a whole entry in a comment. */
	{ "nul", "# old\0 0.0.0.0/0\n", -1, ": line 1: a NUL byte (0x00)" },
	{ "long", "10.0.0.0/8 x\n# "
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "4567890123456789012345678901234567890123456789012345678901234567"
	    "8901234567890123456789012345678901234567890123456789012345678901"
	    "2345678901234567890123456789012345678901234567890123456789012345"
	    "6789012345678901234567890123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "4567890123456789012345678901234567890123456789012345678901234567"
	    "8901234567890123456789012345678901234567890123456789012345678901"
	    "\n", -1, ": line 2: longer than 510 bytes" },
	{ "too_many", "10.0.0.1\n10.0.0.2\n10.0.0.3\n10.0.0.4\n10.0.0.5\n", -1,
	    ": line 5: more than 4 entries (tables.whitelist)" },
	{ "empty", "", 0, "0" },
};

static void
test_file(void **state)
{
	const struct frow	*r = *state;
	struct wl_entry		 out[4];
	char			 path[64], err[300], n_text[16];
	uint32_t		 n = 99;
	FILE			*fp;
	int			 fd, rc;

	tl_template(path, sizeof(path), "/tmp/sgwl");
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(fp = fdopen(fd, "w"));
	/* Up to the row's last newline: a NUL inside is written too. */
	fwrite(r->text, 1, strlen(r->text) + (strcmp(r->name, "nul") == 0 ?
	    strlen(r->text + strlen(r->text) + 1) + 1 : 0), fp);
	fclose(fp);
	rc = wl_read_file(path, out, nitems(out), &n, err, sizeof(err));
	unlink(path);
	assert_int_equal(rc, r->rc);
	if (rc == 0) {
		snprintf(n_text, sizeof(n_text), "%u", n);
		assert_string_equal(n_text, r->want);
	} else if (strstr(err, r->want) == NULL ||
	    strncmp(err, path, strlen(path)) != 0)
		fail_msg("got \"%s\", want \"%s\" in it", err, r->want);
	if (strcmp(r->name, "good") == 0) {
		assert_string_equal(out[0].comment, "carrier A trunk");
		assert_false(out[0].spec.pinned);
		assert_true(out[1].spec.pinned);
		assert_string_equal(out[1].comment, "peer proxy B");
		assert_int_equal(out[2].spec.net.len, 48);
		assert_string_equal(out[3].comment, "not-a-mac words");
		assert_int_equal(out[3].origin, WL_FILE);
	}
}

static void
test_file_missing(void **state)
{
	struct wl_entry	 out[1];
	char		 err[256];
	uint32_t	 n;

	(void)state;
	assert_int_equal(wl_read_file("/nonexistent/sg-whitelist", out, 1,
	    &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/sg-whitelist: No such"));
	/* Not a file: /dev/zero would never end. */
	assert_int_equal(wl_read_file("/dev/zero", out, 1, &n, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "/dev/zero: not a regular file");
	assert_int_equal(n, 0);
}

/* Duplicates are found through a table, not by comparing all pairs. */
static void
test_file_large(void **state)
{
	enum { N = 65536 };
	struct wl_entry	*out = calloc(N, sizeof(*out));
	char		 path[64], err[256];
	uint32_t	 n;
	FILE		*fp;
	int		 fd;

	(void)state;
	assert_non_null(out);
	tl_template(path, sizeof(path), "/tmp/sgwl");
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(fp = fdopen(fd, "w"));
	for (int k = 0; k < N; k++)
		fprintf(fp, "10.%d.%d.0/24 line %d\n", k >> 8, k & 255, k);
	fclose(fp);
	assert_int_equal(wl_read_file(path, out, N, &n, err, sizeof(err)), 0);
	assert_int_equal(n, N);
	unlink(path);
	free(out);
}

/* ---- against a model --------------------------------------------------- */

static void
test_model(void **state)
{
	struct whitelist	*w = wl_create(64);
	struct wl_entry		 m[64];
	int			 nm = 0;
	uint32_t		 seed = 7;

	(void)state;
	for (int op = 0; op < 20000; op++) {
		struct wl_entry	 x = { .origin = WL_RUNTIME };
		struct sg_addr	 a = { .family = SG_AF_INET };
		int		 was, best = -1;
		enum wl_verdict	 want = WL_NO, got;

		seed = seed * 1103515245 + 12345;
		a.a[0] = 10;
		a.a[1] = (uint8_t)(seed >> 24 & 3);
		a.a[2] = (uint8_t)(seed >> 16 & 3);
		a.a[3] = (uint8_t)(seed >> 8 & 7);
		if ((seed & 3) == 0 && nm < 64) {
			x.spec.net.net = a;
			x.spec.net.len = (uint8_t)(8 + (seed >> 4) % 25);
			for (int bit = x.spec.net.len; bit < 128; bit++)
				x.spec.net.net.a[bit / 8] &= (uint8_t)~(0x80 >>
				    (bit % 8));
			x.spec.pinned = (seed >> 12 & 1) != 0;
			x.spec.mac.b[5] = (uint8_t)(seed >> 13 & 1);
			if (wl_add(w, &x, &was) == 1) {
				for (int k = 0; k < nm; k++)
					if (memcmp(&m[k].spec.net, &x.spec.net,
					    sizeof(x.spec.net)) == 0)
						m[k] = m[--nm];
			}
			m[nm++] = x;
			continue;
		}
		if ((seed & 7) == 1 && nm > 0) {
			int	 k = (int)(seed >> 9) % nm;

			assert_int_equal(wl_del(w, &m[k].spec.net, &was), 0);
			m[k] = m[--nm];
			continue;
		}
		for (int k = 0; k < nm; k++)
			if (sg_cidr_match(&m[k].spec.net, &a) && (best == -1 ||
			    m[k].spec.net.len > m[best].spec.net.len))
				best = k;
		struct sg_mac	 mm = { { 0, 0, 0, 0, 0,
				    (uint8_t)(seed >> 20 & 1) } };
		if (best != -1)
			want = !m[best].spec.pinned || memcmp(&mm,
			    &m[best].spec.mac, 6) == 0 ? WL_PASS :
			    WL_WRONG_MAC;
		got = wl_check(w, &a, &mm, true);
		if (got != want)
			fail_msg("op %d: got %d, want %d", op, got, want);
		assert_int_equal(wl_count(w), nm);
	}
	wl_destroy(w);
}

int
main(void)
{
	TREG("whitelist", longest_prefix);
	TREG("whitelist", places);
	TREG("whitelist", full);
	TREG_ROWS("file", test_file, frows);
	TREG("whitelist", file_missing);
	TREG("whitelist", file_large);
	TREG("whitelist", model);
	return treg_run("whitelist");
}
