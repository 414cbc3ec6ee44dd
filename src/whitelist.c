/*
 * whitelist.c: the whitelist's table (see whitelist.h).  Entries live in
 * a fixed array; a hash index finds an entry by (family, prefix length,
 * network); per family, the lengths in use, longest first, say which
 * probes a lookup makes.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "htab.h"
#include "whitelist.h"

#define MAXLEN	128

struct whitelist {
	struct wl_entry	*row;
	struct hidx	 ix;
	struct dlist	 order, free;
	uint32_t	 cap;
	/* per family (0: IPv4, 1: IPv6): entries per length, and the
	 * lengths in use, longest first */
	uint32_t	 per_len[2][MAXLEN + 1];
	uint8_t		 lens[2][MAXLEN + 1];
	int		 nlens[2];
	uint64_t	 gen;		/* bumped by every change */
};

static const char *const origin_names[] = {
	[WL_RUNTIME] = "runtime",
	[WL_FILE] = "file",
	[WL_CONF] = "config",
};

const char *
wl_origin_name(int origin)
{
	if (origin < 0 || origin >= (int)nitems(origin_names))
		return "?";
	return origin_names[origin];
}

static int
fam(uint8_t family)
{
	return family == SG_AF_INET6;
}

/*
 * The index's hash of a prefix: family, length and network.  Unkeyed:
 * only the operator puts entries in, so no one can aim a chain at a
 * bucket, and every inbound packet pays one of these per prefix length
 * in use (a keyed hash of 18 bytes costs several times as much).
 */
static uint64_t
prefix_hash(uint8_t family, uint8_t len, const uint8_t net[16])
{
	uint64_t	 lo, hi;

	memcpy(&lo, net, 8);
	memcpy(&hi, net + 8, 8);
	return hash_mix(hash_mix(lo, hi), (uint64_t)family << 8 | len);
}

static uint64_t
entry_hash(const struct wl_entry *x)
{
	return prefix_hash(x->spec.net.net.family, x->spec.net.len,
	    x->spec.net.net.a);
}

struct whitelist *
wl_create(uint32_t cap)
{
	struct whitelist	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->cap = cap;
	w->row = sg_table_alloc(cap, sizeof(*w->row));
	if (w->row == NULL || hidx_init(&w->ix, cap) == -1 ||
	    dlist_init(&w->order, cap) == -1 || dlist_init(&w->free, cap) ==
	    -1) {
		wl_destroy(w);
		return NULL;
	}
	dlist_fill(&w->free, cap);
	return w;
}

void
wl_destroy(struct whitelist *w)
{
	if (w == NULL)
		return;
	free(w->row);
	hidx_fini(&w->ix);
	dlist_fini(&w->order);
	dlist_fini(&w->free);
	free(w);
}

static uint32_t
find_slot(const struct whitelist *w, const struct sg_cidr *c)
{
	uint64_t	 hv = prefix_hash(c->net.family, c->len, c->net.a);

	for (uint32_t s = hidx_first(&w->ix, hv); s != HNIL;
	    s = hidx_next(&w->ix, s))
		if (w->row[s].spec.net.len == c->len &&
		    sg_addr_eq(&w->row[s].spec.net.net, &c->net))
			return s;
	return HNIL;
}

const struct wl_entry *
wl_find(const struct whitelist *w, const struct sg_cidr *c)
{
	uint32_t	 s = find_slot(w, c);

	return s == HNIL ? NULL : &w->row[s];
}

/* Keep lens[f] the lengths in use, longest first. */
static void
count_len(struct whitelist *w, const struct sg_cidr *c, int delta)
{
	int	 f = fam(c->net.family), n = 0;

	w->per_len[f][c->len] += (uint32_t)delta;
	w->gen++;
	for (int len = MAXLEN; len >= 0; len--)
		if (w->per_len[f][len] > 0)
			w->lens[f][n++] = (uint8_t)len;
	w->nlens[f] = n;
}

static void
remove_slot(struct whitelist *w, uint32_t s)
{
	hidx_del(&w->ix, s, entry_hash(&w->row[s]));
	dlist_del(&w->order, s);
	dlist_push_tail(&w->free, s);
	count_len(w, &w->row[s].spec.net, -1);
}

int
wl_add(struct whitelist *w, const struct wl_entry *x, int *was)
{
	uint32_t	 s = find_slot(w, &x->spec.net);
	int		 rc = 0;

	if (s != HNIL) {
		*was = w->row[s].origin;
		if (w->row[s].origin > x->origin)
			return -1;
		remove_slot(w, s);
		rc = 1;
	}
	if ((s = dlist_pop_head(&w->free)) == HNIL)
		return -2;
	w->row[s] = *x;
	w->row[s].hits = 0;
	hidx_add(&w->ix, s, entry_hash(x));
	dlist_push_tail(&w->order, s);
	count_len(w, &x->spec.net, 1);
	return rc;
}

int
wl_del(struct whitelist *w, const struct sg_cidr *c, int *was)
{
	uint32_t	 s = find_slot(w, c);

	if (s == HNIL)
		return -1;
	if (w->row[s].origin != WL_RUNTIME) {
		*was = w->row[s].origin;
		return -2;
	}
	remove_slot(w, s);
	return 0;
}

int
wl_evict_runtime(struct whitelist *w)
{
	for (uint32_t s = w->order.head; s != HNIL;
	    s = w->order.link[s].next)
		if (w->row[s].origin == WL_RUNTIME) {
			remove_slot(w, s);
			return 0;
		}
	return -1;
}

void
wl_drop(struct whitelist *w, enum wl_origin origin)
{
	uint32_t	 s = w->order.head;

	while (s != HNIL) {
		uint32_t	 next = w->order.link[s].next;

		if (w->row[s].origin == origin)
			remove_slot(w, s);
		s = next;
	}
}

/* The entry of the longest prefix holding `a', or HNIL. */
static uint32_t
longest(const struct whitelist *w, const struct sg_addr *a)
{
	int	 f;

	if (a->family != SG_AF_INET && a->family != SG_AF_INET6)
		return HNIL;
	f = fam(a->family);
	for (int k = 0; k < w->nlens[f]; k++) {
		uint8_t		 len = w->lens[f][k], net[16];
		int		 full = len / 8, rem = len % 8;
		uint64_t	 hv;

		memset(net, 0, sizeof(net));
		memcpy(net, a->a, (size_t)full);
		if (rem != 0)
			net[full] = a->a[full] & (uint8_t)(0xff << (8 - rem));
		hv = prefix_hash(a->family, len, net);
		for (uint32_t s = hidx_first(&w->ix, hv); s != HNIL;
		    s = hidx_next(&w->ix, s))
			if (w->row[s].spec.net.len == len &&
			    w->row[s].spec.net.net.family == a->family &&
			    memcmp(w->row[s].spec.net.net.a, net, 16) == 0)
				return s;
	}
	return HNIL;
}

static enum wl_verdict
verdict(const struct whitelist *w, uint32_t s, const struct sg_mac *mac,
    bool has_mac)
{
	if (s == HNIL)
		return WL_NO;
	if (w->row[s].spec.pinned && (!has_mac || memcmp(mac->b,
	    w->row[s].spec.mac.b, sizeof(mac->b)) != 0))
		return WL_WRONG_MAC;
	return WL_PASS;
}

enum wl_verdict
wl_check(struct whitelist *w, const struct sg_addr *a,
    const struct sg_mac *mac, bool has_mac)
{
	uint32_t	 s = longest(w, a);
	enum wl_verdict	 v = verdict(w, s, mac, has_mac);

	if (v == WL_PASS)
		w->row[s].hits++;
	return v;
}

enum wl_verdict
wl_match(const struct whitelist *w, const struct sg_addr *a,
    const struct sg_mac *mac, bool has_mac)
{
	return verdict(w, longest(w, a), mac, has_mac);
}

uint64_t
wl_generation(const struct whitelist *w)
{
	return w->gen;
}

uint32_t
wl_count(const struct whitelist *w)
{
	return w->order.count;
}

uint32_t
wl_capacity(const struct whitelist *w)
{
	return w->cap;
}

int
wl_foreach(const struct whitelist *w,
    int (*fn)(void *, const struct wl_entry *), void *arg)
{
	for (uint32_t s = w->order.head; s != HNIL; s = w->order.link[s].next) {
		int	 rc = fn(arg, &w->row[s]);

		if (rc != 0)
			return rc;
	}
	return 0;
}

const char *
wl_prefix_str(const struct sg_cidr *c, char *buf, size_t len)
{
	char	 a[64];
	int	 host = c->net.family == SG_AF_INET ? 32 : 128;

	sg_addr_str(&c->net, a, sizeof(a));
	if (c->len == host)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, c->len);
	return buf;
}

/* ---- the whitelist file ----------------------------------------------------- */

/*
 * A word that reads as an attempt at a MAC (hex digits and separators,
 * long enough): one that does not parse is a typo, never a comment, or
 * the entry would silently lose its pin.
 */
bool
wl_mac_like(const char *w, size_t n)
{
	size_t	 hex = 0;

	for (size_t k = 0; k < n; k++) {
		if (isxdigit((unsigned char)w[k]))
			hex++;
		else if (w[k] != ':' && w[k] != '-' && w[k] != '.')
			return false;
	}
	return hex >= 8 && n >= 11 && n <= 20;
}

int
wl_spec_parse(const char *cidr, const char *mac, struct wl_spec *w,
    char *why, size_t len)
{
	memset(w, 0, sizeof(*w));
	if (sg_cidr_parse_exact(cidr, &w->net) == -1) {
		snprintf(why, len, "\"%.60s\" is not an address or CIDR "
		    "prefix (host bits set, or an IPv4-mapped address?)",
		    cidr);
		return -1;
	}
	if (mac != NULL) {
		if (sg_mac_parse(mac, &w->mac) == -1) {
			snprintf(why, len, "\"%.40s\" is not a MAC address",
			    mac);
			return -1;
		}
		w->pinned = true;
	}
	return 0;
}

/*
 * One line: "CIDR [MAC] [comment]".  The second word is the MAC when it
 * looks like one (and must then be one); everything after the entry is
 * its comment.  0, or -1 with the reason.
 */
static int
parse_line(char *line, struct wl_entry *x, char *why, size_t len)
{
	char	*p = line + strspn(line, " \t"), *cidr = p, word[32];
	size_t	 n;

	memset(x, 0, sizeof(*x));
	x->origin = WL_FILE;
	p += strcspn(p, " \t");
	if (*p != '\0')
		*p++ = '\0';
	p += strspn(p, " \t");
	n = strcspn(p, " \t");
	if (n > 0 && n < sizeof(word) && wl_mac_like(p, n)) {
		memcpy(word, p, n);
		word[n] = '\0';
		p += n;
		p += strspn(p, " \t");
	} else
		word[0] = '\0';
	if (wl_spec_parse(cidr, word[0] ? word : NULL, &x->spec, why,
	    len) == -1)
		return -1;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		p[--n] = '\0';
	if (n >= sizeof(x->comment)) {
		snprintf(why, len, "comment longer than %zu characters",
		    sizeof(x->comment) - 1);
		return -1;
	}
	memcpy(x->comment, p, n + 1);
	return 0;
}

/*
 * The next line of `fp' into `line' (at most len - 1 bytes, its newline
 * and a CR before it gone): 1, 0 at the end, or -1 with the reason: too
 * long, a NUL or another control character (tab aside), a byte outside
 * ASCII.
 */
static int
read_line(FILE *fp, char *line, size_t len, char *why, size_t wlen)
{
	size_t	 n = 0;
	int	 c;

	while ((c = getc(fp)) != EOF && c != '\n') {
		if (n == len - 1) {
			snprintf(why, wlen, "longer than %zu bytes", len - 2);
			return -1;
		}
		line[n++] = (char)c;
	}
	if (c == EOF && n == 0)
		return 0;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	for (size_t k = 0; k < n; k++) {
		unsigned char	 u = (unsigned char)line[k];

		if ((u < ' ' && u != '\t') || u >= 0x7f) {
			snprintf(why, wlen, "a %s byte (0x%02x)", u == 0 ? "NUL" :
			    u >= 0x80 ? "non-ASCII" : "control", u);
			return -1;
		}
	}
	return 1;
}

int
wl_read_file(const char *path, struct wl_entry *out, uint32_t max,
    uint32_t *n, char *err, size_t errlen)
{
	struct whitelist	*seen;
	struct stat		 st;
	FILE			*fp;
	char			 line[512], why[200];
	int			 lineno = 0, rc = 0, r;

	*n = 0;
	err[0] = '\0';
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		fclose(fp);
		return -1;
	}
	/* Duplicates found in O(1) each, through a table of their own. */
	if ((seen = wl_create(max)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		fclose(fp);
		return -1;
	}
	while (rc == 0 && (r = read_line(fp, line, sizeof(line), why,
	    sizeof(why))) != 0) {
		const struct wl_entry	*dup;
		char			*hash;
		int			 was;

		lineno++;
		if (r == -1) {
			rc = -1;
			break;
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		if (line[strspn(line, " \t")] == '\0')
			continue;
		if (*n == max) {
			snprintf(why, sizeof(why), "more than %u entries "
			    "(tables.whitelist)", max);
			rc = -1;
			break;
		}
		if (parse_line(line, &out[*n], why, sizeof(why)) == -1) {
			rc = -1;
			break;
		}
		if ((dup = wl_find(seen, &out[*n].spec.net)) != NULL) {
			char	 p[80];

			snprintf(why, sizeof(why), "%s is already listed "
			    "(line %llu)", wl_prefix_str(&dup->spec.net, p,
			    sizeof(p)), (unsigned long long)dup->added);
			rc = -1;
			break;
		}
		out[*n].added = (uint64_t)lineno;	/* for the message */
		wl_add(seen, &out[*n], &was);
		out[*n].added = 0;
		(*n)++;
	}
	if (rc == -1)
		snprintf(err, errlen, "%s: line %d: %s", path, lineno, why);
	else if (ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	wl_destroy(seen);
	fclose(fp);
	if (rc == -1)
		*n = 0;
	return rc;
}

int
wl_load_file(const char *path, uint32_t max, struct wl_entry **out,
    uint32_t *n, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	if (path[0] == '\0')
		return 0;
	if ((*out = calloc(max, sizeof(**out))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if (wl_read_file(path, *out, max, n, err, errlen) == -1) {
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}
