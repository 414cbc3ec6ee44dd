/*
 * whitelist.c: the whitelist's table (see whitelist.h).  Entries live in
 * a fixed array; a hash index finds an entry by (family, prefix length,
 * network); per family, the lengths in use, longest first, say which
 * probes a lookup makes.
 */
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

/* The index's hash of a prefix: family, length and network. */
static uint64_t
prefix_hash(uint8_t family, uint8_t len, const uint8_t net[16])
{
	uint8_t	 k[18];

	k[0] = family;
	k[1] = len;
	memcpy(k + 2, net, 16);
	return hash_bytes(k, sizeof(k));
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
 * One line: "CIDR [MAC] [comment]".  The second word is a MAC when it
 * reads as one; everything after the entry is its comment.  0, or -1
 * with the reason.
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
	if (sg_cidr_parse(cidr, &x->spec.net) == -1) {
		snprintf(why, len, "\"%.60s\" is not an address or CIDR prefix",
		    cidr);
		return -1;
	}
	if ((n = strcspn(p, " \t")) < sizeof(word)) {
		memcpy(word, p, n);
		word[n] = '\0';
		if (sg_mac_parse(word, &x->spec.mac) == 0) {
			x->spec.pinned = true;
			p += n;
			p += strspn(p, " \t");
		}
	}
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		p[--n] = '\0';
	snprintf(x->comment, sizeof(x->comment), "%s", p);
	return 0;
}

int
wl_read_file(const char *path, struct wl_entry *out, uint32_t max,
    uint32_t *n, char *err, size_t errlen)
{
	FILE	*fp;
	char	 line[512], why[160];
	int	 lineno = 0, rc = 0;

	*n = 0;
	err[0] = '\0';
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), fp) != NULL) {
		size_t	 l = strlen(line);
		char	*hash;

		lineno++;
		if (l == sizeof(line) - 1 && line[l - 1] != '\n') {
			snprintf(err, errlen, "%s: line %d: longer than %zu "
			    "bytes", path, lineno, sizeof(line) - 2);
			rc = -1;
			break;
		}
		if (memchr(line, '\0', l) != NULL || strlen(line) != l) {
			rc = -1;
			break;
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		for (char *c = line; *c != '\0'; c++)
			if (iscntrl((unsigned char)*c) && *c != '\t') {
				snprintf(err, errlen, "%s: line %d: a control "
				    "character", path, lineno);
				rc = -1;
				break;
			}
		if (rc != 0 || line[strspn(line, " \t")] == '\0')
			continue;
		if (*n == max) {
			snprintf(err, errlen, "%s: line %d: more than %u "
			    "entries (tables.whitelist)", path, lineno, max);
			rc = -1;
			break;
		}
		if (parse_line(line, &out[*n], why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: line %d: %s", path, lineno,
			    why);
			rc = -1;
			break;
		}
		for (uint32_t k = 0; k < *n; k++)
			if (out[k].spec.net.len == out[*n].spec.net.len &&
			    sg_addr_eq(&out[k].spec.net.net,
			    &out[*n].spec.net.net)) {
				char	 p[80];

				snprintf(err, errlen, "%s: line %d: %s is "
				    "already listed", path, lineno,
				    wl_prefix_str(&out[k].spec.net, p,
				    sizeof(p)));
				rc = -1;
				break;
			}
		if (rc == 0)
			(*n)++;
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(fp);
	if (rc == -1 && err[0] == '\0')
		snprintf(err, errlen, "%s: line %d: a NUL byte", path, lineno);
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
		return -1;
	}
	return 0;
}
