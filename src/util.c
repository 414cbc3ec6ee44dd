/*
 * util.c: addresses, MACs, CIDRs and the names of reasons.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sipguard.h"

static const char *const reason_names[SG_R__COUNT] = {
	[SG_R_NONE] = "none",
	[SG_R_OUTBOUND] = "outbound",
	[SG_R_KEEPALIVE] = "keepalive",
	[SG_R_WHITELISTED] = "whitelisted",
	[SG_R_NOT_SIP] = "not-sip",
	[SG_R_FRAGMENT] = "fragment",
	[SG_R_TCP] = "tcp",
	[SG_R_TRANSIT] = "transit",
	[SG_R_CASE_B] = "b",
	[SG_R_CASE_I] = "i",
	[SG_R_CASE_II] = "ii",
	[SG_R_CASE_III] = "iii",
	[SG_R_CASE_IV] = "iv",
	[SG_R_CASE_V] = "v",
	[SG_R_CASE_VI] = "vi",
	[SG_R_CASE_VII] = "vii",
	[SG_R_CASE_VIII] = "viii",
	[SG_R_CASE_IX] = "ix",
	[SG_R_CASE_X] = "x",
	[SG_R_CASE_XI] = "xi",
	[SG_R_MASQUERADE] = "masquerade",
	[SG_R_REFLECTION] = "reflection",
	[SG_R_SPOOF] = "spoof",
	[SG_R_REPLAY] = "replay",
	[SG_R_BLACKLISTED] = "blacklisted",
	[SG_R_MALFORMED] = "malformed",
	[SG_R_FRAG_DROP] = "fragment-dropped",
	[SG_R_DS_ADMISSION] = "ds-admission",
	[SG_R_FLOOD] = "flood",
	[SG_R_FORGED_PROXY] = "forged-proxy",
	[SG_R_UNDECODABLE] = "undecodable",
	[SG_R_TCP_POISONED] = "tcp-poisoned",
	[SG_R_TCP_CONFLICT] = "tcp-conflict",
	[SG_R_TCP_UNVERIFIABLE] = "tcp-unverifiable",
	[SG_R_TCP_OOO] = "tcp-out-of-order",
	[SG_R_TCP_UNSYNCED] = "tcp-unsynced",
	[SG_R_TCP_FULL] = "tcp-table-full",
	[SG_R_BAD_CSUM] = "bad-checksum",
	[SG_R_TCP_INVALID] = "tcp-invalid",
};

int
sg_write_all(int fd, const void *buf, size_t n)
{
	const char	*p = buf;

	while (n > 0) {
		ssize_t	 w = write(fd, p, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void *
sg_table_alloc(size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	if ((p = malloc(n * size == 0 ? 1 : n * size)) != NULL)
		memset(p, 0, n * size);
	return p;
}

void
sg_paged(sg_hold_fn hold, void *harg, int w, uint32_t n, uint32_t page,
    void (*fn)(void *, uint32_t), void *arg)
{
	for (uint32_t s = 0; s < n; ) {
		if (hold != NULL)
			hold(harg, w, true);
		for (uint32_t end = s + page; s < n && s < end; s++)
			fn(arg, s);
		if (hold != NULL)
			hold(harg, w, false);
	}
}

void
sg_keyset_init(struct sg_keyset *ks, size_t n)
{
	size_t	 cap = 16;

	while (cap < 2 * n && cap < SIZE_MAX / 4)
		cap <<= 1;
	ks->v = calloc(cap, sizeof(*ks->v));
	ks->mask = cap - 1;
	ks->count = 0;
}

/* True when `key' was not in the set (it is now). */
bool
sg_keyset_add(struct sg_keyset *ks, uint64_t key)
{
	size_t	 at;

	if (ks->v == NULL || ks->count == ks->mask)	/* never full */
		return true;
	if (key == 0)			/* 0 marks an empty slot */
		key = 1;
	for (at = key & ks->mask; ks->v[at] != 0; at = (at + 1) & ks->mask)
		if (ks->v[at] == key)
			return false;
	ks->v[at] = key;
	ks->count++;
	return true;
}

void
sg_keyset_free(struct sg_keyset *ks)
{
	free(ks->v);
	ks->v = NULL;
}

const char *
sg_reason_str(enum sg_reason r)
{
	if ((unsigned)r >= SG_R__COUNT || reason_names[r] == NULL)
		return "?";
	return reason_names[r];
}

const char *
sg_addr_str(const struct sg_addr *a, char *buf, size_t len)
{
	switch (a->family) {
	case SG_AF_INET:
		if (inet_ntop(AF_INET, a->a, buf, len) != NULL)
			return buf;
		break;
	case SG_AF_INET6:
		if (inet_ntop(AF_INET6, a->a, buf, len) != NULL)
			return buf;
		break;
	case SG_AF_HOST:
		snprintf(buf, len, "host:%02x%02x%02x%02x", a->a[0], a->a[1],
		    a->a[2], a->a[3]);
		return buf;
	default:
		break;
	}
	snprintf(buf, len, "-");
	return buf;
}

const char *
sg_mac_str(const struct sg_mac *m, bool present, char *buf, size_t len)
{
	if (!present)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x",
		    m->b[0], m->b[1], m->b[2], m->b[3], m->b[4], m->b[5]);
	return buf;
}

int
sg_addr_parse(const char *s, struct sg_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->a) == 1) {
		a->family = SG_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->a) == 1) {
		a->family = SG_AF_INET6;
		return 0;
	}
	memset(a, 0, sizeof(*a));
	return -1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
sg_mac_parse(const char *s, struct sg_mac *m)
{
	int	 i, hi, lo;

	for (i = 0; i < 6; i++) {
		if ((hi = hexval(s[0])) < 0 || (lo = hexval(s[1])) < 0)
			return -1;
		m->b[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < 5) {
			if (*s != ':' && *s != '-')
				return -1;
			s++;
		}
	}
	return *s == '\0' ? 0 : -1;
}

bool
sg_addr_is_ip(const struct sg_addr *a)
{
	return a->family == SG_AF_INET || a->family == SG_AF_INET6;
}

/*
 * SPEC 2, nat = tolerant: addresses a SIP-IP may hold behind a NAT.
 * RFC 1918, CGNAT 100.64.0.0/10, IPv6 ULA fc00::/7; link-local too, as
 * phones behind some routers state it.
 */
bool
sg_addr_private(const struct sg_addr *a)
{
	const uint8_t	*p = a->a;

	if (a->family == SG_AF_INET)
		return p[0] == 10 ||
		    (p[0] == 172 && (p[1] & 0xf0) == 16) ||
		    (p[0] == 192 && p[1] == 168) ||
		    (p[0] == 100 && (p[1] & 0xc0) == 64) ||
		    (p[0] == 169 && p[1] == 254);
	if (a->family == SG_AF_INET6)
		return (p[0] & 0xfe) == 0xfc ||
		    (p[0] == 0xfe && (p[1] & 0xc0) == 0x80);
	return false;
}

int
sg_cidr_parse(const char *s, struct sg_cidr *c)
{
	char		 buf[64];
	const char	*slash;
	size_t		 n;
	int		 max, len;
	char		*end;
	long		 v;

	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (sg_addr_parse(buf, &c->net) == -1)
		return -1;
	max = c->net.family == SG_AF_INET ? 32 : 128;
	len = max;
	if (slash != NULL) {
		v = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || v < 0 || v > max)
			return -1;
		len = (int)v;
	}
	c->len = (uint8_t)len;
	/* Clear host bits so matching is a plain prefix compare. */
	for (int bit = len; bit < 128; bit++)
		c->net.a[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
	return 0;
}

bool
sg_cidr_match(const struct sg_cidr *c, const struct sg_addr *a)
{
	int	 full = c->len / 8, rem = c->len % 8;

	if (a->family != c->net.family)
		return false;
	if (memcmp(a->a, c->net.a, (size_t)full) != 0)
		return false;
	if (rem == 0)
		return true;
	return ((a->a[full] ^ c->net.a[full]) & (0xff << (8 - rem))) == 0;
}

int
sg_cidr_parse_exact(const char *s, struct sg_cidr *c)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };
	const char		*slash = strchr(s, '/');
	struct sg_addr		 a;
	char			 buf[64];
	size_t			 n = slash ? (size_t)(slash - s) : strlen(s);

	if ((slash != NULL && !isdigit((unsigned char)slash[1])) ||
	    sg_cidr_parse(s, c) == -1 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	/* The address as written: its host bits must be clear. */
	if (sg_addr_parse(buf, &a) == -1 || !sg_addr_eq(&a, &c->net))
		return -1;
	if (c->net.family == SG_AF_INET6 && memcmp(c->net.a, mapped,
	    sizeof(mapped)) == 0)
		return -1;
	return 0;
}

int
sg_wl_parse(const char *s, struct wl_spec *w)
{
	char		 buf[96];
	char		*mac, *end;
	size_t		 n = strlen(s);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	memset(w, 0, sizeof(*w));
	if ((mac = strpbrk(buf, " \t")) != NULL) {
		*mac++ = '\0';
		mac += strspn(mac, " \t");
		end = mac + strcspn(mac, " \t");
		if (end[strspn(end, " \t")] != '\0')
			return -1;	/* a third word */
		*end = '\0';
		if (*mac == '\0')
			mac = NULL;
	}
	if (sg_cidr_parse_exact(buf, &w->net) == -1)
		return -1;
	if (mac != NULL) {
		if (sg_mac_parse(mac, &w->mac) == -1)
			return -1;
		w->pinned = true;
	}
	return 0;
}

bool
sg_gcra_admit(_Atomic uint64_t *tat, uint32_t rate, uint64_t now)
{
	uint64_t	 t, old, base;

	if (rate == 0)
		return false;
	t = NS_PER_SEC / rate;
	old = atomic_load_explicit(tat, memory_order_relaxed);
	do {
		base = old < now || old > now + SEC(2) ? now : old;
		if (base - now + t > NS_PER_SEC)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(tat, &old, base + t,
	    memory_order_relaxed, memory_order_relaxed));
	return true;
}
