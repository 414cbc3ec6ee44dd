/*
 * test_decode.c: dec_frame() and dec_l4() on every link type (Ethernet
 * with 802.1Q/802.1ad tags, SLL, SLL2, raw IP, BSD NULL), IPv4 with
 * options and IP-in-IP, IPv6 extension-header walks, UDP and TCP; every
 * truncation of each frame from a buffer of exactly that size, random
 * frames; and the frag_* table: in and out of order, overlaps, duplicates,
 * oversize, eviction and expiry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "decode.h"
#include "hash.h"
#include "pktgen.h"
#include "testlib.h"

#define SPORT		5062
#define DPORT		5060
#define PL		"REGISTER sip:example.com SIP/2.0\r\n" \
			"Via: SIP/2.0/UDP 192.0.2.10:5062\r\n\r\n"
#define PLN		(sizeof(PL) - 1)

static const uint8_t SMAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x0a };
static const uint8_t DMAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t PMAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x99, 0x99 };

/* Addresses by tunnel level: 0 is the outer header. */
static const char *const A4[3][2] = {
	{ "192.0.2.10", "198.51.100.1" },
	{ "10.1.0.10", "10.2.0.1" },
	{ "10.3.0.10", "10.4.0.1" },
};
static const char *const A6[3][2] = {
	{ "2001:db8::10", "2001:db8::1" },
	{ "2001:db8:1::10", "2001:db8:1::1" },
	{ "2001:db8:2::10", "2001:db8:2::1" },
};

/* Bytes for reassembly tests: never all equal, never periodic in 8. */
static uint8_t pattern[70000];

/* ---- frame building: headers are prepended in front of the payload ---- */

struct pb {
	uint8_t		 w[70000 + 512];
	size_t		 pos;
};

static void
pb_init(struct pb *b)
{
	b->pos = sizeof(b->w);
}

static size_t
pb_len(const struct pb *b)
{
	return sizeof(b->w) - b->pos;
}

static uint8_t *
pb_front(struct pb *b)
{
	return b->w + b->pos;
}

static uint8_t *
pb_push(struct pb *b, size_t n)
{
	if (n > b->pos)
		fail_msg("pb_push: %zu bytes do not fit", n);
	b->pos -= n;
	memset(b->w + b->pos, 0, n);
	return b->w + b->pos;
}

static void
pb_data(struct pb *b, const void *p, size_t n)
{
	memcpy(pb_push(b, n), p, n);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void
push_udp(struct pb *b, uint16_t sport, uint16_t dport)
{
	size_t	 n = pb_len(b);
	uint8_t	*p = pb_push(b, 8);

	put16(p, sport);
	put16(p + 2, dport);
	put16(p + 4, (uint16_t)(n + 8));
}

static void
push_tcp(struct pb *b, uint16_t sport, uint16_t dport, int doff)
{
	size_t	 hl = (size_t)doff * 4;
	uint8_t	*p = pb_push(b, hl);

	put16(p, sport);
	put16(p + 2, dport);
	put32(p + 4, 1000);
	p[12] = (uint8_t)(doff << 4);
	p[13] = 0x18;
	put16(p + 14, 65535);
	for (size_t k = 20; k < hl; k++)
		p[k] = 1;		/* NOP options */
}

static void
push_ipv4(struct pb *b, int ihl, uint8_t proto, const char *src,
    const char *dst, uint16_t id, uint16_t fo)
{
	size_t	 n = pb_len(b), hl = (size_t)ihl * 4;
	uint8_t	*p = pb_push(b, hl);

	p[0] = (uint8_t)(0x40 | ihl);
	put16(p + 2, (uint16_t)(hl + n));
	put16(p + 4, id);
	put16(p + 6, fo);
	p[8] = 64;
	p[9] = proto;
	assert_int_equal(inet_pton(AF_INET, src, p + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, p + 16), 1);
	for (size_t k = 20; k < hl; k++)
		p[k] = 1;		/* NOP options */
}

static void
push_ipv6(struct pb *b, uint8_t nh, const char *src, const char *dst)
{
	size_t	 n = pb_len(b);
	uint8_t	*p = pb_push(b, 40);

	p[0] = 0x60;
	put16(p + 4, (uint16_t)n);
	p[6] = nh;
	p[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, src, p + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, p + 24), 1);
}

static void
push_frag6(struct pb *b, uint8_t next, uint16_t off, bool more,
    uint32_t id)
{
	uint8_t	*p = pb_push(b, 8);

	p[0] = next;
	put16(p + 2, (uint16_t)(off | (more ? 1 : 0)));
	put32(p + 4, id);
}

/* Any extension header but the fragment header, `size' bytes long. */
static void
push_ext(struct pb *b, uint8_t type, uint8_t next, size_t size)
{
	uint8_t	*p = pb_push(b, size);

	p[0] = next;
	if (type == 51)
		p[1] = (uint8_t)(size / 4 - 2);
	else {
		p[1] = (uint8_t)(size / 8 - 1);
		p[2] = 1;		/* PadN over the rest */
		p[3] = (uint8_t)(size - 4);
	}
}

/* A chain of extension headers, outermost first; returns the first nh. */
static uint8_t
push_chain(struct pb *b, const uint8_t *ext, int n, uint8_t last)
{
	for (int k = n - 1; k >= 0; k--) {
		uint8_t	 next = k == n - 1 ? last : ext[k + 1];

		if (ext[k] == 44)
			push_frag6(b, next, 0, false, 0x1234);
		else
			push_ext(b, ext[k], next, ext[k] == 51 ? 24 :
			    8 * (size_t)(1 + k % 3));
	}
	return n > 0 ? ext[0] : last;
}

enum wrap {
	W_ETH, W_VLAN, W_QINQ, W_SLL, W_SLL2, W_RAW, W_NULL_LE, W_NULL_BE,
	W__COUNT
};

static const struct wrapinfo {
	const char	*name;
	enum dec_link	 link;
	bool		 mac;
} wraps[W__COUNT] = {
	[W_ETH] = { "eth", LINK_ETHERNET, true },
	[W_VLAN] = { "vlan", LINK_ETHERNET, true },
	[W_QINQ] = { "qinq", LINK_ETHERNET, true },
	[W_SLL] = { "sll", LINK_SLL, true },
	[W_SLL2] = { "sll2", LINK_SLL2, true },
	[W_RAW] = { "raw", LINK_RAW, false },
	[W_NULL_LE] = { "null_le", LINK_NULL, false },
	[W_NULL_BE] = { "null_be", LINK_NULL, false },
};

static void
push_eth(struct pb *b, const uint16_t *tpid, int ntags, uint16_t et)
{
	put16(pb_push(b, 2), et);
	for (int k = ntags - 1; k >= 0; k--) {
		put16(pb_push(b, 2), (uint16_t)(100 + k));	/* TCI */
		put16(pb_push(b, 2), tpid[k]);
	}
	pb_data(b, SMAC, 6);
	pb_data(b, DMAC, 6);
}

static void
push_sll(struct pb *b, uint16_t arphrd, uint16_t halen, uint16_t et)
{
	uint8_t	*p = pb_push(b, 16);

	put16(p, 0);			/* to us */
	put16(p + 2, arphrd);
	put16(p + 4, halen);
	memcpy(p + 6, SMAC, 6);
	put16(p + 14, et);
}

static void
push_sll2(struct pb *b, uint16_t arphrd, uint8_t halen, uint16_t et)
{
	uint8_t	*p = pb_push(b, 20);

	put16(p, et);
	put32(p + 4, 2);		/* ifindex */
	put16(p + 8, arphrd);
	p[10] = 0;
	p[11] = halen;
	memcpy(p + 12, SMAC, 6);
}

static void
push_null(struct pb *b, uint32_t fam, bool be)
{
	uint8_t	*p = pb_push(b, 4);

	if (be)
		put32(p, fam);
	else {
		p[0] = (uint8_t)fam;
		p[1] = (uint8_t)(fam >> 8);
		p[2] = (uint8_t)(fam >> 16);
		p[3] = (uint8_t)(fam >> 24);
	}
}

/* Link header for the IP packet in front of b; et 0: from its version. */
static void
push_link(struct pb *b, enum wrap w, uint16_t et)
{
	static const uint16_t	 vlan[] = { 0x8100 };
	static const uint16_t	 qinq[] = { 0x88a8, 0x8100 };
	int			 v6 = pb_len(b) > 0 && pb_front(b)[0] >> 4 == 6;

	if (et == 0)
		et = v6 ? 0x86dd : 0x0800;
	switch (w) {
	case W_ETH:
		push_eth(b, NULL, 0, et);
		break;
	case W_VLAN:
		push_eth(b, vlan, 1, et);
		break;
	case W_QINQ:
		push_eth(b, qinq, 2, et);
		break;
	case W_SLL:
		push_sll(b, 1, 6, et);
		break;
	case W_SLL2:
		push_sll2(b, 1, 6, et);
		break;
	case W_RAW:
		break;
	case W_NULL_LE:
		push_null(b, v6 ? 30 : 2, false);
		break;
	case W_NULL_BE:
		push_null(b, v6 ? 24 : 2, true);
		break;
	case W__COUNT:
		fail();
	}
}

/*
 * The IP packets the frame tests are built from: outer version, inner
 * versions (IP-in-IP), IPv4 header words, TCP header words (0: UDP) and
 * an IPv6 extension chain in front of the L4 header.
 */
static const struct kind {
	const char	*name;
	int		 ver[4];	/* outer first, 0 ends */
	int		 ihl;
	int		 doff;
	uint8_t		 ext[4];
	int		 next;
	enum dec_result	 want;		/* for the whole frame */
} kinds[] = {
	{ "v4_udp", { 4 }, 5, 0, { 0 }, 0, DEC_OK },
	{ "v4_tcp", { 4 }, 5, 5, { 0 }, 0, DEC_OK },
	{ "v4_options_udp", { 4 }, 8, 0, { 0 }, 0, DEC_OK },
	{ "v4_tcp_options", { 4 }, 5, 8, { 0 }, 0, DEC_OK },
	{ "v6_udp", { 6 }, 5, 0, { 0 }, 0, DEC_OK },
	{ "v6_tcp", { 6 }, 5, 5, { 0 }, 0, DEC_OK },
	{ "v6_hbh_rt_dst_udp", { 6 }, 5, 0, { 0, 43, 60 }, 3, DEC_OK },
	{ "v6_ah_udp", { 6 }, 5, 0, { 51 }, 1, DEC_OK },
	{ "v6_atomic_frag_tcp", { 6 }, 5, 5, { 44 }, 1, DEC_OK },
	{ "v4_in_v4", { 4, 4 }, 5, 0, { 0 }, 0, DEC_OK },
	{ "v6_in_v4", { 4, 6 }, 5, 0, { 0 }, 0, DEC_OK },
	{ "v4_in_v6", { 6, 4 }, 5, 5, { 0 }, 0, DEC_OK },
	{ "v6_in_v6", { 6, 6 }, 5, 0, { 0 }, 0, DEC_OK },
	{ "v4_in_v6_in_v4", { 4, 6, 4 }, 5, 0, { 0 }, 0, DEC_OK },
	/* Two levels of IP-in-IP are looked through, not three. */
	/* Deeper than sipguard looks: undecodable, so dropped. */
	{ "v4_in_v4_in_v4_in_v4", { 4, 4, 4, 4 }, 5, 0, { 0 }, 0,
	    DEC_MALFORMED },
};

struct built {
	size_t		 ploff;		/* payload offset in the IP packet */
	const char	*src, *dst;	/* innermost addresses */
	int		 ver;		/* innermost version */
	uint8_t		 proto;
};

static int
kind_depth(const struct kind *k)
{
	int	 d = 0;

	while (d < 4 && k->ver[d] != 0)
		d++;
	return d;
}

/* Build kind k's IP packet (payload pl) in front of b. */
static void
push_kind(struct pb *b, const struct kind *k, const void *pl, size_t pln,
    struct built *bt)
{
	int	 depth = kind_depth(k);
	uint8_t	 proto = k->doff ? DEC_PROTO_TCP : DEC_PROTO_UDP;
	size_t	 l4;

	pb_data(b, pl, pln);
	if (k->doff)
		push_tcp(b, SPORT, DPORT, k->doff);
	else
		push_udp(b, SPORT, DPORT);
	l4 = pb_len(b);
	bt->proto = proto;
	bt->ver = k->ver[depth - 1];
	for (int lv = depth - 1; lv >= 0; lv--) {
		int		 a = lv < 3 ? lv : 2;
		const char	*s, *d;
		uint8_t		 nh = proto;

		if (lv != depth - 1)
			nh = k->ver[lv + 1] == 4 ? 4 : 41;
		if (k->ver[lv] == 4) {
			s = A4[a][0];
			d = A4[a][1];
			push_ipv4(b, lv == depth - 1 ? k->ihl : 5, nh, s, d,
			    (uint16_t)(7 + lv), 0);
		} else {
			s = A6[a][0];
			d = A6[a][1];
			if (lv == depth - 1)
				nh = push_chain(b, k->ext, k->next, nh);
			push_ipv6(b, nh, s, d);
		}
		if (lv == depth - 1) {
			bt->src = s;
			bt->dst = d;
		}
	}
	bt->ploff = pb_len(b) - l4 + (k->doff ? (size_t)k->doff * 4 : 8);
}

static void
addr_of(const char *s, struct sg_addr *a)
{
	assert_int_equal(sg_addr_parse(s, a), 0);
}

/*
 * What every result must respect: a known code, and a payload or a
 * fragment that lies inside the buffer.
 */
static void
check_sane(enum dec_result r, const uint8_t *b, size_t len,
    const struct dec_pkt *pkt)
{
	assert_true((unsigned)r < DEC__COUNT);
	if (r == DEC_OK) {
		assert_true(pkt->proto == DEC_PROTO_UDP ||
		    pkt->proto == DEC_PROTO_TCP);
		assert_true(pkt->plen <= len);
		assert_true(pkt->payload >= b);
		assert_true((size_t)(pkt->payload - b) <= len - pkt->plen);
	} else if (r == DEC_FRAGMENT) {
		assert_true(pkt->frag.len <= len);
		assert_true(pkt->frag.data >= b);
		assert_true((size_t)(pkt->frag.data - b) <=
		    len - pkt->frag.len);
	}
}

/* Decode from a malloc'd copy of exactly len bytes (ASan sees over-reads). */
static enum dec_result
decode_exact(enum dec_link link, const uint8_t *f, size_t len,
    struct dec_pkt *pkt, bool preset)
{
	uint8_t		*b = malloc(len);
	enum dec_result	 r;

	assert_true(b != NULL || len == 0);
	if (len > 0)
		memcpy(b, f, len);
	memset(pkt, 0, sizeof(*pkt));
	if (preset) {
		memcpy(pkt->smac.b, PMAC, 6);
		pkt->has_mac = true;
	}
	r = dec_frame(link, b, len, pkt);
	check_sane(r, b, len, pkt);
	/* Pointers into b are not used after this. */
	pkt->payload = NULL;
	pkt->frag.data = NULL;
	free(b);
	return r;
}

static void
check_addr(const struct sg_addr *got, const char *want)
{
	struct sg_addr	 a;
	char		 s[SG_ADDRSTRLEN];

	addr_of(want, &a);
	if (!sg_addr_eq(got, &a))
		fail_msg("address %s, want %s", sg_addr_str(got, s,
		    sizeof(s)), want);
}

/* ---- every link type around every kind: whole, then every truncation -- */

struct combo {
	enum wrap		 w;
	const struct kind	*k;
};

static struct combo combos[W__COUNT * nitems(kinds)];

static void
test_frame(void **state)
{
	const struct combo	*c = *state;
	static struct pb	 b;
	struct built		 bt;
	struct dec_pkt		 pkt;
	enum dec_result		 r;
	size_t			 n, l2;

	pb_init(&b);
	push_kind(&b, c->k, PL, PLN, &bt);
	l2 = pb_len(&b);
	push_link(&b, c->w, 0);
	n = pb_len(&b);
	l2 = n - l2;

	memset(&pkt, 0, sizeof(pkt));
	r = dec_frame(wraps[c->w].link, pb_front(&b), n, &pkt);
	assert_string_equal(dec_result_str(r), dec_result_str(c->k->want));
	if (r == DEC_OK) {
		check_addr(&pkt.src, bt.src);
		check_addr(&pkt.dst, bt.dst);
		assert_int_equal(pkt.proto, bt.proto);
		assert_int_equal(pkt.sport, SPORT);
		assert_int_equal(pkt.dport, DPORT);
		assert_int_equal(pkt.plen, PLN);
		assert_ptr_equal(pkt.payload, pb_front(&b) + l2 + bt.ploff);
		assert_memory_equal(pkt.payload, PL, PLN);
	}
	assert_int_equal(pkt.has_mac, wraps[c->w].mac);
	if (wraps[c->w].mac)
		assert_memory_equal(pkt.smac.b, SMAC, 6);

	/* Every shorter capture of the same frame says so. */
	for (size_t len = 0; len < n; len++) {
		r = decode_exact(wraps[c->w].link, pb_front(&b), len, &pkt,
		    false);
		if (r != DEC_TRUNCATED)
			fail_msg("%s/%s: %zu of %zu bytes: %s",
			    wraps[c->w].name, c->k->name, len, n,
			    dec_result_str(r));
	}
}

/*
 * Truncation inside L4 with consistent L3 lengths: the IP header says
 * the packet ends where the capture ends, the UDP/TCP header does not.
 */
static void
test_l4_cut(void **state)
{
	const struct kind	*k = *state;
	static struct pb	 b;
	static uint8_t		 ip[2048];
	struct built		 bt;
	struct dec_pkt		 pkt;
	size_t			 n, l4off, hl;
	enum dec_result		 r, want;

	pb_init(&b);
	push_kind(&b, k, PL, PLN, &bt);
	n = pb_len(&b);
	memcpy(ip, pb_front(&b), n);
	hl = k->ver[0] == 4 ? (size_t)k->ihl * 4 : 40;
	l4off = bt.ploff - (k->doff ? (size_t)k->doff * 4 : 8);
	for (size_t c = hl; c < n; c++) {
		uint8_t	 cut[2048];

		memcpy(cut, ip, c);
		if (k->ver[0] == 4)
			put16(cut + 2, (uint16_t)c);
		else
			put16(cut + 4, (uint16_t)(c - 40));
		if (k->ver[0] == 6 && c == 40)
			want = DEC_MALFORMED;	/* payload length 0 */
		else if (k->doff && c >= l4off + (size_t)k->doff * 4)
			want = DEC_OK;		/* TCP has no length */
		else
			want = DEC_TRUNCATED;
		r = decode_exact(LINK_RAW, cut, c, &pkt, false);
		if (r != want)
			fail_msg("%s: cut at %zu of %zu: %s, want %s", k->name,
			    c, n, dec_result_str(r), dec_result_str(want));
		if (r == DEC_OK)
			assert_int_equal(pkt.plen, c - bt.ploff);
	}
}

/* ---- frames from tests/pktgen.c --------------------------------------- */

static const struct pgcase {
	const char	*name;
	const char	*src, *dst;
	bool		 tcp;
	int		 vlan;
} pgcases[] = {
	{ "v4_udp", "192.0.2.10", "198.51.100.1", false, 0 },
	{ "v4_tcp", "192.0.2.10", "198.51.100.1", true, 0 },
	{ "v4_udp_vlan", "192.0.2.10", "198.51.100.1", false, 42 },
	{ "v4_tcp_vlan", "192.0.2.10", "198.51.100.1", true, 4094 },
	{ "v6_udp", "2001:db8::10", "2001:db8::1", false, 0 },
	{ "v6_tcp", "2001:db8::10", "2001:db8::1", true, 0 },
	{ "v6_udp_vlan", "2001:db8::10", "2001:db8::1", false, 7 },
};

static void
test_pktgen(void **state)
{
	const struct pgcase	*t = *state;
	struct pg_ep		 s = { .ip = t->src, .port = 40000 };
	struct pg_ep		 d = { .ip = t->dst, .port = 5060 };
	struct pg_frame_opt	 o = { .vlan = t->vlan, .tcp = t->tcp };
	uint8_t			 f[2048];
	struct dec_pkt		 pkt;
	size_t			 n;

	pg_mac(s.mac, 0x10a);
	pg_mac(d.mac, 1);
	n = pg_frame(f, sizeof(f), &s, &d, PL, PLN, &o);
	assert_true(n > 0);
	memset(&pkt, 0, sizeof(pkt));
	assert_int_equal(dec_frame(LINK_ETHERNET, f, n, &pkt), DEC_OK);
	assert_true(pkt.has_mac);
	assert_memory_equal(pkt.smac.b, s.mac, 6);
	check_addr(&pkt.src, t->src);
	check_addr(&pkt.dst, t->dst);
	assert_int_equal(pkt.proto, t->tcp ? DEC_PROTO_TCP : DEC_PROTO_UDP);
	assert_int_equal(pkt.sport, 40000);
	assert_int_equal(pkt.dport, 5060);
	assert_int_equal(pkt.plen, PLN);
	assert_ptr_equal(pkt.payload, f + n - PLN);
	for (size_t len = 0; len < n; len++)
		assert_int_equal(decode_exact(LINK_ETHERNET, f, len, &pkt,
		    false), DEC_TRUNCATED);
}

/* ---- VLAN and QinQ stacking ------------------------------------------- */

static const struct vlancase {
	const char	*name;
	uint16_t	 tpid[8];
	int		 ntags;
	uint16_t	 et;		/* 0: IPv4 */
	enum dec_result	 want;
} vlancases[] = {
	{ "one_8021q", { 0x8100 }, 1, 0, DEC_OK },
	{ "qinq_88a8", { 0x88a8, 0x8100 }, 2, 0, DEC_OK },
	{ "qinq_9100", { 0x9100, 0x8100 }, 2, 0, DEC_OK },
	{ "three_tags", { 0x88a8, 0x8100, 0x8100 }, 3, 0, DEC_OK },
	{ "four_tags", { 0x88a8, 0x88a8, 0x8100, 0x8100 }, 4, 0, DEC_OK },
	{ "five_tags", { 0x88a8, 0x88a8, 0x9100, 0x8100, 0x8100 }, 5, 0,
	    DEC_MALFORMED },
	{ "eight_tags", { 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100,
	    0x8100, 0x8100 }, 8, 0, DEC_MALFORMED },
	{ "vlan_arp", { 0x8100 }, 1, 0x0806, DEC_NOT_IP },
	{ "qinq_lldp", { 0x88a8, 0x8100 }, 2, 0x88cc, DEC_NOT_IP },
	{ "vlan_v6_type_v4_packet", { 0x8100 }, 1, 0x86dd, DEC_MALFORMED },
};

static void
test_vlan(void **state)
{
	const struct vlancase	*t = *state;
	static struct pb	 b;
	struct built		 bt;
	struct dec_pkt		 pkt;
	size_t			 n;
	enum dec_result		 r;

	pb_init(&b);
	push_kind(&b, &kinds[0], PL, PLN, &bt);
	push_eth(&b, t->tpid, t->ntags, t->et ? t->et : 0x0800);
	n = pb_len(&b);
	r = decode_exact(LINK_ETHERNET, pb_front(&b), n, &pkt, false);
	assert_string_equal(dec_result_str(r), dec_result_str(t->want));
	assert_true(pkt.has_mac);
	assert_memory_equal(pkt.smac.b, SMAC, 6);
	if (r == DEC_OK) {
		check_addr(&pkt.src, A4[0][0]);
		assert_int_equal(pkt.dport, DPORT);
		assert_int_equal(pkt.plen, PLN);
	}
	/* A tag cut short is a truncation, whatever follows it. */
	for (size_t len = 0; len < 14 + 4 * (size_t)t->ntags && len < n;
	    len++) {
		r = decode_exact(LINK_ETHERNET, pb_front(&b), len, &pkt,
		    false);
		if (len < 14 + 4 * (size_t)(t->ntags < 5 ? t->ntags : 4))
			assert_int_equal(r, DEC_TRUNCATED);
		else
			assert_true(r != DEC_OK);
	}
}

/* ---- IPv6 extension headers ------------------------------------------- */

static const struct v6case {
	const char	*name;
	uint8_t		 ext[24];
	int		 n;		/* > 24: ext[0] repeated n times */
	uint8_t		 last;		/* 0: UDP */
	uint8_t		 len0;		/* nonzero: first header's length */
	uint16_t	 fo;		/* fragment header's offset|flags */
	enum dec_result	 want;
} v6cases[] = {
	{ "hbh_routing_dstopts_udp", { 0, 43, 60 }, 3, 0, 0, 0, DEC_OK },
	{ "ah_udp", { 51 }, 1, 0, 0, 0, DEC_OK },
	{ "hbh_dst_rt_ah_dst_udp", { 0, 60, 43, 51, 60 }, 5, 0, 0, 0,
	    DEC_OK },
	{ "mobility_hip_shim6_udp", { 135, 139, 140 }, 3, 0, 0, 0, DEC_OK },
	{ "atomic_fragment", { 44 }, 1, 0, 0, 0, DEC_OK },
	{ "atomic_fragment_reserved_bits", { 44 }, 1, 0, 0, 0x0006, DEC_OK },
	{ "atomic_fragment_then_dstopts", { 44, 60 }, 2, 0, 0, 0, DEC_OK },
	{ "nine_headers", { 60, 60, 60, 60, 60, 60, 60, 60, 60 }, 9, 0, 0, 0,
	    DEC_OK },
	/* The kernel walks any number of them (ip6tables -p udp too). */
	{ "ten_headers", { 60, 60, 60, 60, 60, 60, 60, 60, 60, 60 }, 10, 0,
	    0, 0, DEC_OK },
	{ "twenty_headers", { 0, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60,
	    60, 60, 60, 60, 60, 60, 60, 60 }, 20, 0, 0, 0, DEC_OK },
	{ "ten_atomic_fragments", { 44, 44, 44, 44, 44, 44, 44, 44, 44, 44 },
	    10, 0, 0, 0, DEC_OK },
	{ "forty_headers", { 60 }, 40, 0, 0, 0, DEC_OK },
	{ "128_headers", { 60 }, 127, 0, 0, 0, DEC_OK },
	/* Past the bound: undecodable, dropped under `malformed'. */
	{ "129_headers", { 60 }, 129, 0, 0, 0, DEC_MALFORMED },
	{ "dstopts_then_esp", { 60 }, 1, 50, 0, 0, DEC_OTHER_L4 },
	{ "no_next_header", { 0 }, 1, 59, 0, 0, DEC_OTHER_L4 },
	{ "icmpv6", { 0 }, 0, 58, 0, 0, DEC_OTHER_L4 },
	{ "dstopts_len_past_end", { 60 }, 1, 0, 255, 0, DEC_TRUNCATED },
	{ "ah_len_past_end", { 51 }, 1, 0, 255, 0, DEC_TRUNCATED },
	{ "fragment_first", { 44 }, 1, 0, 0, 0x0001, DEC_FRAGMENT },
	{ "fragment_last", { 0, 44 }, 2, 0, 0, 0x05c8, DEC_FRAGMENT },
};

static void
test_ipv6_ext(void **state)
{
	const struct v6case	*t = *state;
	static struct pb	 b;
	static uint8_t		 ext[160];
	struct dec_pkt		 pkt;
	uint8_t			*ip, nh;
	size_t			 n, ploff;
	enum dec_result		 r;

	pb_init(&b);
	pb_data(&b, PL, PLN);
	if (t->last == 0)
		push_udp(&b, SPORT, DPORT);
	ploff = pb_len(&b);
	if (t->n > (int)sizeof(t->ext)) {
		memset(ext, t->ext[0], sizeof(ext));
		nh = push_chain(&b, ext, t->n, t->last ? t->last :
		    DEC_PROTO_UDP);
	} else
		nh = push_chain(&b, t->ext, t->n, t->last ? t->last :
		    DEC_PROTO_UDP);
	if (t->len0 != 0)
		pb_front(&b)[1] = t->len0;
	for (int k = 0, off = 0; k < t->n && k < (int)sizeof(t->ext); k++) {
		uint8_t	*e = pb_front(&b) + off;

		if (t->ext[k] == 44) {
			put16(e + 2, t->fo);
			off += 8;
		} else if (t->ext[k] == 51)
			off += (e[1] + 2) * 4;
		else
			off += (e[1] + 1) * 8;
	}
	push_ipv6(&b, nh, A6[0][0], A6[0][1]);
	n = pb_len(&b);
	ploff = n - ploff + (t->last == 0 ? 8 : 0);
	ip = pb_front(&b);
	r = decode_exact(LINK_RAW, ip, n, &pkt, false);
	assert_string_equal(dec_result_str(r), dec_result_str(t->want));
	check_addr(&pkt.src, A6[0][0]);
	check_addr(&pkt.dst, A6[0][1]);
	if (r == DEC_OK) {
		memset(&pkt, 0, sizeof(pkt));
		assert_int_equal(dec_frame(LINK_RAW, ip, n, &pkt), DEC_OK);
		assert_int_equal(pkt.proto, DEC_PROTO_UDP);
		assert_int_equal(pkt.sport, SPORT);
		assert_int_equal(pkt.plen, PLN);
		assert_ptr_equal(pkt.payload, ip + ploff);
	} else if (r == DEC_OTHER_L4)
		assert_int_equal(pkt.proto, t->last);
	else if (r == DEC_FRAGMENT) {
		assert_int_equal(pkt.frag.id, 0x1234);
		assert_int_equal(pkt.frag.offset, t->fo & 0xfff8);
		assert_int_equal(pkt.frag.more, (t->fo & 1) != 0);
		assert_int_equal(pkt.frag.proto, DEC_PROTO_UDP);
		assert_int_equal(pkt.frag.len, PLN + 8);
	}
	for (size_t len = 0; len < n; len++)
		assert_int_equal(decode_exact(LINK_RAW, ip, len, &pkt, false),
		    DEC_TRUNCATED);
}

/* ---- IPv4, UDP, TCP and link-level anomalies -------------------------- */

typedef void	 mutfn(uint8_t *ip, size_t len);

static void
m_none(uint8_t *ip, size_t len)
{
	(void)ip;
	(void)len;
}

static void
m_ihl4(uint8_t *ip, size_t len)
{
	(void)len;
	ip[0] = 0x44;
}

static void
m_tot_below_ihl(uint8_t *ip, size_t len)
{
	(void)len;
	put16(ip + 2, 19);
}

static void
m_tot_past_end(uint8_t *ip, size_t len)
{
	put16(ip + 2, (uint16_t)(len + 1));
}

static void
m_ihl_past_tot(uint8_t *ip, size_t len)
{
	(void)len;
	ip[0] = 0x4f;			/* 60 bytes of header */
	put16(ip + 2, 40);
}

static void
m_proto_icmp(uint8_t *ip, size_t len)
{
	(void)len;
	ip[9] = 1;
}

static void
m_proto_sctp(uint8_t *ip, size_t len)
{
	(void)len;
	ip[9] = 132;
}

static void
m_proto_gre(uint8_t *ip, size_t len)
{
	(void)len;
	ip[9] = 47;
}

static void
m_df(uint8_t *ip, size_t len)
{
	(void)len;
	put16(ip + 6, 0x4000);
}

static void
m_mf(uint8_t *ip, size_t len)
{
	(void)len;
	put16(ip + 6, 0x2000);
}

static void
m_offset(uint8_t *ip, size_t len)
{
	(void)len;
	put16(ip + 6, 185);		/* 1480 bytes, last fragment */
}

static void
m_version5(uint8_t *ip, size_t len)
{
	(void)len;
	ip[0] = (uint8_t)(0x50 | (ip[0] & 0x0f));
}

static void
m_version0(uint8_t *ip, size_t len)
{
	(void)len;
	ip[0] &= 0x0f;
}

static void
m_udp_len7(uint8_t *ip, size_t len)
{
	(void)len;
	put16(ip + 20 + 4, 7);
}

static void
m_udp_len_past_ip(uint8_t *ip, size_t len)
{
	put16(ip + 20 + 4, (uint16_t)(len - 20 + 1));
}

static void
m_udp_len_short(uint8_t *ip, size_t len)
{
	(void)len;
	put16(ip + 20 + 4, 8 + 10);
}

static void
m_tcp_doff4(uint8_t *ip, size_t len)
{
	(void)len;
	ip[20 + 12] = 4 << 4;
}

static void
m_tcp_doff15(uint8_t *ip, size_t len)
{
	(void)len;
	ip[20 + 12] = 15 << 4;
}

static void
m_v6_plen0(uint8_t *ip, size_t len)
{
	(void)len;
	put16(ip + 4, 0);
}

static void
m_v6_plen_past_end(uint8_t *ip, size_t len)
{
	put16(ip + 4, (uint16_t)(len - 40 + 1));
}

static void
m_v6_nh_icmp6(uint8_t *ip, size_t len)
{
	(void)len;
	ip[6] = 58;
}

static void
m_v6_nh_none(uint8_t *ip, size_t len)
{
	(void)len;
	ip[6] = 59;
}

static void
m_v6_nh_esp(uint8_t *ip, size_t len)
{
	(void)len;
	ip[6] = 50;
}

static const struct anocase {
	const char	*name;
	enum wrap	 w;
	int		 kind;		/* index in kinds[] */
	mutfn		*mut;
	uint16_t	 et;		/* Ethernet type, 0: from version */
	enum dec_result	 want;
	long		 plen;		/* DEC_OK: -1 means PLN */
} anocases[] = {
	{ "v4_ihl_4", W_RAW, 0, m_ihl4, 0, DEC_MALFORMED, 0 },
	{ "v4_total_below_ihl", W_RAW, 0, m_tot_below_ihl, 0, DEC_MALFORMED,
	    0 },
	{ "v4_total_past_end", W_ETH, 0, m_tot_past_end, 0, DEC_TRUNCATED,
	    0 },
	{ "v4_ihl_past_total", W_RAW, 0, m_ihl_past_tot, 0, DEC_MALFORMED,
	    0 },
	{ "v4_icmp", W_ETH, 0, m_proto_icmp, 0, DEC_OTHER_L4, 0 },
	{ "v4_sctp", W_SLL, 0, m_proto_sctp, 0, DEC_OTHER_L4, 0 },
	{ "v4_gre", W_RAW, 0, m_proto_gre, 0, DEC_OTHER_L4, 0 },
	{ "v4_dont_fragment", W_ETH, 0, m_df, 0, DEC_OK, -1 },
	{ "v4_more_fragments", W_ETH, 0, m_mf, 0, DEC_FRAGMENT, 0 },
	{ "v4_fragment_offset", W_RAW, 0, m_offset, 0, DEC_FRAGMENT, 0 },
	{ "raw_version_5", W_RAW, 0, m_version5, 0, DEC_NOT_IP, 0 },
	{ "raw_version_0", W_RAW, 4, m_version0, 0, DEC_NOT_IP, 0 },
	{ "null_version_5", W_NULL_LE, 0, m_version5, 0, DEC_NOT_IP, 0 },
	{ "eth_v4_type_v5_packet", W_ETH, 0, m_version5, 0x0800,
	    DEC_MALFORMED, 0 },
	{ "eth_v4_type_v6_packet", W_ETH, 4, m_none, 0x0800, DEC_MALFORMED,
	    0 },
	{ "eth_v6_type_v4_packet", W_ETH, 0, m_none, 0x86dd, DEC_MALFORMED,
	    0 },
	{ "sll_v6_type_v4_packet", W_SLL, 0, m_none, 0x86dd, DEC_MALFORMED,
	    0 },
	{ "eth_arp", W_ETH, 0, m_none, 0x0806, DEC_NOT_IP, 0 },
	{ "eth_lldp", W_ETH, 0, m_none, 0x88cc, DEC_NOT_IP, 0 },
	{ "eth_8023_length", W_ETH, 0, m_none, 0x0050, DEC_NOT_IP, 0 },
	{ "sll2_arp", W_SLL2, 0, m_none, 0x0806, DEC_NOT_IP, 0 },
	{ "udp_length_7", W_ETH, 0, m_udp_len7, 0, DEC_MALFORMED, 0 },
	{ "udp_length_past_ip", W_ETH, 0, m_udp_len_past_ip, 0,
	    DEC_TRUNCATED, 0 },
	{ "udp_length_short_of_ip", W_ETH, 0, m_udp_len_short, 0, DEC_OK,
	    10 },
	{ "tcp_doff_4", W_ETH, 1, m_tcp_doff4, 0, DEC_MALFORMED, 0 },
	{ "tcp_doff_15", W_RAW, 1, m_tcp_doff15, 0, DEC_OK,
	    (long)PLN - 40 },
	{ "v6_payload_length_0", W_RAW, 4, m_v6_plen0, 0, DEC_MALFORMED, 0 },
	{ "v6_payload_length_past_end", W_ETH, 4, m_v6_plen_past_end, 0,
	    DEC_TRUNCATED, 0 },
	{ "v6_icmpv6", W_ETH, 4, m_v6_nh_icmp6, 0, DEC_OTHER_L4, 0 },
	{ "v6_no_next_header", W_RAW, 4, m_v6_nh_none, 0, DEC_OTHER_L4, 0 },
	{ "v6_esp", W_SLL2, 4, m_v6_nh_esp, 0, DEC_OTHER_L4, 0 },
};

static void
test_anomaly(void **state)
{
	const struct anocase	*t = *state;
	static struct pb	 b;
	struct built		 bt;
	struct dec_pkt		 pkt;
	enum dec_result		 r;

	pb_init(&b);
	push_kind(&b, &kinds[t->kind], PL, PLN, &bt);
	t->mut(pb_front(&b), pb_len(&b));
	push_link(&b, t->w, t->et);
	r = decode_exact(wraps[t->w].link, pb_front(&b), pb_len(&b), &pkt,
	    false);
	assert_string_equal(dec_result_str(r), dec_result_str(t->want));
	if (r == DEC_OK) {
		assert_int_equal(pkt.plen, t->plen < 0 ? (long)PLN : t->plen);
		assert_int_equal(pkt.dport, DPORT);
	}
	if (r == DEC_FRAGMENT) {
		assert_int_equal(pkt.frag.id, 7);
		assert_int_equal(pkt.frag.proto, DEC_PROTO_UDP);
		assert_int_equal(pkt.frag.len, PLN + 8);
	}
}

/* ---- source MAC by link type ------------------------------------------ */

static const struct maccase {
	const char	*name;
	enum dec_link	 link;
	uint16_t	 arphrd;
	uint8_t		 halen;
	bool		 preset;
	bool		 want_mac;
	const uint8_t	*want;
} maccases[] = {
	{ "ethernet", LINK_ETHERNET, 0, 0, false, true, SMAC },
	{ "ethernet_ignores_preset", LINK_ETHERNET, 0, 0, true, true, SMAC },
	{ "sll_ether", LINK_SLL, 1, 6, false, true, SMAC },
	{ "sll_ether_ignores_preset", LINK_SLL, 1, 6, true, true, SMAC },
	{ "sll_loopback", LINK_SLL, 772, 6, false, false, NULL },
	{ "sll_no_address", LINK_SLL, 1, 0, false, false, NULL },
	{ "sll_ieee1394", LINK_SLL, 24, 8, false, false, NULL },
	{ "sll2_ether", LINK_SLL2, 1, 6, false, true, SMAC },
	{ "sll2_tunnel", LINK_SLL2, 65534, 0, false, false, NULL },
	{ "raw_keeps_preset", LINK_RAW, 0, 0, true, true, PMAC },
	{ "raw_no_preset", LINK_RAW, 0, 0, false, false, NULL },
	{ "null_no_mac", LINK_NULL, 0, 0, false, false, NULL },
};

static void
test_mac(void **state)
{
	const struct maccase	*t = *state;
	static struct pb	 b;
	struct built		 bt;
	struct dec_pkt		 pkt;
	static const uint8_t	 zero[6];

	pb_init(&b);
	push_kind(&b, &kinds[0], PL, PLN, &bt);
	switch (t->link) {
	case LINK_ETHERNET:
		push_link(&b, W_ETH, 0);
		break;
	case LINK_SLL:
		push_sll(&b, t->arphrd, t->halen, 0x0800);
		break;
	case LINK_SLL2:
		push_sll2(&b, t->arphrd, t->halen, 0x0800);
		break;
	case LINK_RAW:
		break;
	case LINK_NULL:
		push_null(&b, 2, false);
		break;
	}
	assert_int_equal(decode_exact(t->link, pb_front(&b), pb_len(&b), &pkt,
	    t->preset), DEC_OK);
	check_addr(&pkt.src, A4[0][0]);
	assert_int_equal(pkt.has_mac, t->want_mac);
	assert_memory_equal(pkt.smac.b, t->want_mac ? t->want : zero, 6);
}

/* ---- DLT_NULL: the family in either byte order ------------------------ */

static const struct nullcase {
	const char	*name;
	uint32_t	 fam;
	bool		 be;
	int		 kind;
	enum dec_result	 want;
} nullcases[] = {
	{ "af_inet_little_endian", 2, false, 0, DEC_OK },
	{ "af_inet_big_endian", 2, true, 1, DEC_OK },
	{ "af_inet6_linux", 10, false, 4, DEC_OK },
	{ "af_inet6_bsd", 24, true, 4, DEC_OK },
	{ "af_inet6_freebsd", 28, false, 5, DEC_OK },
	{ "af_inet6_darwin", 30, true, 6, DEC_OK },
	{ "af_unix", 1, false, 0, DEC_NOT_IP },
	{ "af_unknown_7_be", 7, true, 0, DEC_NOT_IP },
	{ "af_huge", 0x12345678, false, 0, DEC_NOT_IP },
};

static void
test_null(void **state)
{
	const struct nullcase	*t = *state;
	static struct pb	 b;
	struct built		 bt;
	struct dec_pkt		 pkt;

	pb_init(&b);
	push_kind(&b, &kinds[t->kind], PL, PLN, &bt);
	push_null(&b, t->fam, t->be);
	assert_int_equal(decode_exact(LINK_NULL, pb_front(&b), pb_len(&b),
	    &pkt, false), t->want);
	if (t->want == DEC_OK) {
		check_addr(&pkt.src, bt.src);
		assert_int_equal(pkt.plen, PLN);
	}
}

/* ---- Ethernet padding beyond the IP length ---------------------------- */

static const struct padcase {
	const char	*name;
	int		 kind;
	size_t		 pad;
} padcases[] = {
	{ "v4_udp_to_60", 0, 0 },
	{ "v4_tcp_to_60", 1, 0 },
	{ "v6_udp_100_junk", 4, 100 },
	{ "v6_tcp_100_junk", 5, 100 },
	{ "v4_options_udp_to_60", 2, 0 },
	{ "v4_tcp_options_9_junk", 3, 9 },
};

static void
test_padding(void **state)
{
	const struct padcase	*t = *state;
	static struct pb	 b;
	struct built		 bt;
	struct dec_pkt		 pkt;
	uint8_t			 f[512];
	size_t			 n;

	pb_init(&b);
	push_kind(&b, &kinds[t->kind], "hi", 2, &bt);
	push_link(&b, W_ETH, 0);
	n = pb_len(&b);
	memcpy(f, pb_front(&b), n);
	/* Short frames are padded to 60 bytes; some NICs add more. */
	if (t->pad == 0 && n < 60) {
		memset(f + n, 0xaa, 60 - n);
		n = 60;
	} else {
		memset(f + n, 0xaa, t->pad);
		n += t->pad;
	}
	assert_int_equal(decode_exact(LINK_ETHERNET, f, n, &pkt, false),
	    DEC_OK);
	memset(&pkt, 0, sizeof(pkt));
	assert_int_equal(dec_frame(LINK_ETHERNET, f, n, &pkt), DEC_OK);
	assert_int_equal(pkt.plen, 2);
	assert_memory_equal(pkt.payload, "hi", 2);
}

/* ---- dec_l4() alone --------------------------------------------------- */

static const struct l4case {
	const char	*name;
	uint8_t		 proto;
	size_t		 len;
	unsigned	 hdr;		/* UDP length, or TCP data offset */
	enum dec_result	 want;
	size_t		 plen;
} l4cases[] = {
	{ "udp", DEC_PROTO_UDP, 13, 13, DEC_OK, 5 },
	{ "udp_header_only", DEC_PROTO_UDP, 8, 8, DEC_OK, 0 },
	{ "udp_7_bytes", DEC_PROTO_UDP, 7, 7, DEC_TRUNCATED, 0 },
	{ "udp_length_4", DEC_PROTO_UDP, 20, 4, DEC_MALFORMED, 0 },
	{ "udp_length_0", DEC_PROTO_UDP, 20, 0, DEC_MALFORMED, 0 },
	{ "udp_length_past_end", DEC_PROTO_UDP, 20, 100, DEC_TRUNCATED, 0 },
	{ "udp_length_65535", DEC_PROTO_UDP, 20, 65535, DEC_TRUNCATED, 0 },
	{ "udp_trailing_bytes", DEC_PROTO_UDP, 20, 10, DEC_OK, 2 },
	{ "tcp_header_only", DEC_PROTO_TCP, 20, 5, DEC_OK, 0 },
	{ "tcp", DEC_PROTO_TCP, 30, 5, DEC_OK, 10 },
	{ "tcp_options", DEC_PROTO_TCP, 60, 15, DEC_OK, 0 },
	{ "tcp_19_bytes", DEC_PROTO_TCP, 19, 5, DEC_TRUNCATED, 0 },
	{ "tcp_doff_3", DEC_PROTO_TCP, 40, 3, DEC_MALFORMED, 0 },
	{ "tcp_doff_past_end", DEC_PROTO_TCP, 22, 6, DEC_TRUNCATED, 0 },
	{ "icmp", 1, 30, 0, DEC_OTHER_L4, 0 },
	{ "proto_0_empty", 0, 0, 0, DEC_OTHER_L4, 0 },
	{ "dccp", 33, 30, 0, DEC_OTHER_L4, 0 },
};

static void
test_dec_l4(void **state)
{
	const struct l4case	*t = *state;
	uint8_t			 raw[128], *b;
	struct dec_pkt		 pkt;
	enum dec_result		 r;

	for (size_t k = 0; k < sizeof(raw); k++)
		raw[k] = (uint8_t)(k + 0x30);
	put16(raw, 1111);
	put16(raw + 2, 2222);
	if (t->proto == DEC_PROTO_UDP && t->len >= 6)
		put16(raw + 4, (uint16_t)t->hdr);
	if (t->proto == DEC_PROTO_TCP && t->len >= 13)
		raw[12] = (uint8_t)(t->hdr << 4);
	b = malloc(t->len);
	assert_true(b != NULL || t->len == 0);
	if (t->len > 0)
		memcpy(b, raw, t->len);
	memset(&pkt, 0, sizeof(pkt));
	r = dec_l4(t->proto, b, t->len, &pkt);
	check_sane(r, b, t->len, &pkt);
	assert_string_equal(dec_result_str(r), dec_result_str(t->want));
	assert_int_equal(pkt.proto, t->proto);
	if (r == DEC_OK) {
		assert_int_equal(pkt.sport, 1111);
		assert_int_equal(pkt.dport, 2222);
		assert_int_equal(pkt.plen, t->plen);
		assert_ptr_equal(pkt.payload, b + (t->proto == DEC_PROTO_UDP ?
		    8 : t->hdr * 4));
	}
	free(b);
}

static void
test_result_str(void **state)
{
	static const char *const want[DEC__COUNT] = {
		"ok", "fragment", "not-ip", "other-l4", "truncated",
		"malformed",
	};

	(void)state;
	for (int r = 0; r < DEC__COUNT; r++)
		assert_string_equal(dec_result_str((enum dec_result)r),
		    want[r]);
	assert_string_equal(dec_result_str(DEC__COUNT), "?");
	assert_string_equal(dec_result_str((enum dec_result)1000), "?");
	assert_string_equal(dec_result_str((enum dec_result)-1), "?");
}

static void
test_unknown_link(void **state)
{
	static const uint8_t	 f[64];
	struct dec_pkt		 pkt;

	(void)state;
	memset(&pkt, 0, sizeof(pkt));
	assert_int_equal(dec_frame((enum dec_link)99, f, sizeof(f), &pkt),
	    DEC_NOT_IP);
}

/* ---- fragments -------------------------------------------------------- */

/*
 * One fragment of a datagram: IPv4 in Ethernet (tests/pktgen.c builds
 * it), IPv6 raw with a fragment header.  Returns the link type.
 */
static enum dec_link
mk_frag(struct pb *b, int fam, const char *src, uint32_t id, size_t off,
    const uint8_t *data, size_t n, bool more)
{
	pb_init(b);
	if (fam == 4) {
		struct pg_ep		 s = { .ip = src, .port = 1 };
		struct pg_ep		 d = { .ip = A4[0][1], .port = 2 };
		struct pg_frame_opt	 o = { .raw_l4 = true,
		    .ip_id = (uint16_t)id, .frag_off = (uint16_t)off,
		    .frag_more = more };
		size_t			 len;

		memcpy(s.mac, SMAC, 6);
		memcpy(d.mac, DMAC, 6);
		len = pg_frame(b->w, sizeof(b->w), &s, &d, data, n, &o);
		assert_true(len == 14 + 20 + n);
		/* Move it to the front-aligned form pb_front() expects. */
		memmove(b->w + sizeof(b->w) - len, b->w, len);
		b->pos = sizeof(b->w) - len;
		return LINK_ETHERNET;
	}
	pb_data(b, data, n);
	push_frag6(b, DEC_PROTO_UDP, (uint16_t)off, more, id);
	push_ipv6(b, 44, src, A6[0][1]);
	return LINK_RAW;
}

/* Decode one fragment, check its fields, hand it to the table. */
static enum frag_result
feed(struct frag_table *ft, int fam, const char *src, uint32_t id,
    size_t off, const uint8_t *data, size_t n, bool more, uint64_t now,
    const uint8_t **out, size_t *outlen, struct dec_pkt *pkt)
{
	static struct pb	 b;
	enum dec_link		 link;

	link = mk_frag(&b, fam, src, id, off, data, n, more);
	memset(pkt, 0, sizeof(*pkt));
	assert_int_equal(dec_frame(link, pb_front(&b), pb_len(&b), pkt),
	    DEC_FRAGMENT);
	check_addr(&pkt->src, src);
	assert_int_equal(pkt->frag.id, fam == 4 ? (uint16_t)id : id);
	assert_int_equal(pkt->frag.offset, off);
	assert_int_equal(pkt->frag.more, more);
	assert_int_equal(pkt->frag.proto, DEC_PROTO_UDP);
	assert_int_equal(pkt->frag.len, n);
	if (n > 0)
		assert_memory_equal(pkt->frag.data, data, n);
	*out = NULL;
	*outlen = 0;
	return frag_add(ft, pkt, now, out, outlen);
}

enum order { IN_ORDER, REVERSE, LAST_FIRST, MIDDLE_FIRST, SHUFFLE };

static const struct fragcase {
	const char	*name;
	int		 fam;
	size_t		 size;		/* UDP payload */
	size_t		 fragsz;	/* multiple of 8 */
	enum order	 order;
} fragcases[] = {
	{ "v4_in_order", 4, 3000, 1480, IN_ORDER },
	{ "v4_reverse", 4, 3000, 1480, REVERSE },
	{ "v4_last_first", 4, 3000, 1480, LAST_FIRST },
	{ "v4_middle_first", 4, 3000, 1480, MIDDLE_FIRST },
	{ "v4_tiny_shuffled", 4, 200, 8, SHUFFLE },
	{ "v4_two_exact", 4, 1472, 744, REVERSE },
	{ "v4_max_65535", 4, 65527, 1480, SHUFFLE },
	{ "v6_in_order", 6, 6000, 1232, IN_ORDER },
	{ "v6_reverse", 6, 6000, 1232, REVERSE },
	{ "v6_last_first", 6, 6000, 1232, LAST_FIRST },
	{ "v6_shuffled", 6, 6000, 1232, SHUFFLE },
	{ "v6_max_65535", 6, 65527, 1448, SHUFFLE },
};

static uint8_t	 dgram[70000];

static size_t
mk_dgram(size_t size, const uint8_t *pl)
{
	struct pg_ep	 s = { .ip = "192.0.2.10", .port = SPORT };
	struct pg_ep	 d = { .ip = "198.51.100.1", .port = DPORT };
	size_t		 n = pg_udp_datagram(dgram, sizeof(dgram), &s, &d, pl,
			    size);

	assert_int_equal(n, size + 8);
	return n;
}

static void
check_done(const uint8_t *data, size_t len, const uint8_t *want,
    size_t wantlen, const uint8_t *pl, size_t size)
{
	struct dec_pkt	 pkt;

	assert_true(data != NULL);
	assert_int_equal(len, wantlen);
	assert_memory_equal(data, want, wantlen);
	memset(&pkt, 0, sizeof(pkt));
	assert_int_equal(dec_l4(DEC_PROTO_UDP, data, len, &pkt), DEC_OK);
	assert_int_equal(pkt.sport, SPORT);
	assert_int_equal(pkt.dport, DPORT);
	assert_int_equal(pkt.plen, size);
	assert_memory_equal(pkt.payload, pl, size);
}

static void
test_frag_order(void **state)
{
	const struct fragcase	*t = *state;
	struct frag_table	*ft = frag_create(8, SEC(30));
	struct frag_stats	 st;
	struct dec_pkt		 pkt;
	size_t			 n = mk_dgram(t->size, pattern);
	size_t			 nf = (n + t->fragsz - 1) / t->fragsz;
	size_t			 idx[64];
	const uint8_t		*data = NULL;
	size_t			 len = 0;
	const char		*src = t->fam == 4 ? A4[0][0] : A6[0][0];

	assert_non_null(ft);
	assert_true(nf <= nitems(idx));
	for (size_t k = 0; k < nf; k++)
		idx[k] = k;
	switch (t->order) {
	case IN_ORDER:
		break;
	case REVERSE:
		for (size_t k = 0; k < nf; k++)
			idx[k] = nf - 1 - k;
		break;
	case LAST_FIRST:
		idx[0] = nf - 1;
		for (size_t k = 1; k < nf; k++)
			idx[k] = k - 1;
		break;
	case MIDDLE_FIRST:
		idx[0] = nf / 2;
		for (size_t k = 1, j = 0; k < nf; k++, j++)
			idx[k] = j == nf / 2 ? ++j : j;
		break;
	case SHUFFLE:
		rng_seed(0x5eed + n);
		for (size_t k = nf - 1; k > 0; k--) {
			size_t	 j = (size_t)(rng() % (k + 1)), x = idx[k];

			idx[k] = idx[j];
			idx[j] = x;
		}
		break;
	}
	for (size_t k = 0; k < nf; k++) {
		size_t		 off = idx[k] * t->fragsz;
		size_t		 fl = off + t->fragsz > n ? n - off : t->fragsz;
		enum frag_result want = k + 1 == nf ? FRAG_DONE : FRAG_HELD;

		assert_int_equal(feed(ft, t->fam, src, 0xbeef, off, dgram + off,
		    fl, off + fl < n, SEC(1) + k, &data, &len, &pkt), want);
	}
	check_done(data, len, dgram, n, pattern, t->size);
	frag_stats(ft, &st);
	assert_int_equal(st.held, nf - 1);
	assert_int_equal(st.done, 1);
	assert_int_equal(st.overlap, 0);
	assert_int_equal(st.oversize, 0);
	/* The judged datagram's state stays, for late copies. */
	assert_int_equal(st.in_use, 1);
	assert_int_equal(st.capacity, 8);
	frag_destroy(ft);
}

/* A fragment sequence that must end in FRAG_BAD, step by step. */
struct fstep {
	uint16_t	 off, len;
	bool		 more;
	enum frag_result want;
	bool		 alt;		/* other bytes than the datagram's */
};

static const struct badcase {
	const char	*name;
	int		 fam;
	struct fstep	 step[5];
	int		 nstep;
	bool		 oversize;	/* counted as oversize, else overlap */
	uint32_t	 left;		/* contexts still held at the end */
} badcases[] = {
	{ "v4_overlap_tail", 4, { { 0, 1480, true, FRAG_HELD, false },
	    { 1472, 1480, true, FRAG_BAD, false } }, 2, false, 1 },
	/* Inside a held fragment: Linux ignores it (IPFRAG_DUP) and keeps
	 * the first copy; other bytes there are an attack all the same. */
	{ "v4_overlap_inside", 4, { { 0, 1480, true, FRAG_HELD, false },
	    { 8, 16, true, FRAG_BAD, true } }, 2, false, 1 },
	{ "v4_overlap_by_last", 4, { { 1480, 1480, true, FRAG_HELD, false },
	    { 0, 1480, true, FRAG_HELD, false }, { 2952, 100, false, FRAG_BAD, false } }, 3,
	    false, 1 },
	{ "v4_conflicting_first", 4, { { 0, 1480, true, FRAG_HELD, false },
	    { 0, 1480, true, FRAG_BAD, true } }, 2, false, 1 },
	{ "v4_conflicting_last", 4, { { 1480, 100, false, FRAG_HELD, false },
	    { 1480, 100, false, FRAG_BAD, true } }, 2, false, 1 },
	/* Once poisoned, even the right bytes are dropped. */
	{ "v4_poisoned_then_good", 4, { { 0, 1480, true, FRAG_HELD, false },
	    { 8, 16, true, FRAG_BAD, true }, { 1480, 100, false, FRAG_BAD,
	    false } }, 3,
	    false, 1 },
	{ "v4_two_different_lasts", 4, { { 1480, 100, false, FRAG_HELD, false },
	    { 2960, 100, false, FRAG_BAD, false } }, 2, false, 1 },
	{ "v4_last_ends_before_held", 4, { { 1480, 1480, true, FRAG_HELD, false },
	    { 8, 800, false, FRAG_BAD, false } }, 2, false, 1 },
	{ "v4_middle_past_last", 4, { { 1480, 48, false, FRAG_HELD, false },
	    { 2960, 1480, true, FRAG_BAD, false } }, 2, false, 1 },
	{ "v4_oversize_last", 4, { { 65528, 16, false, FRAG_BAD, false } }, 1,
	    true, 1 },
	/*
	 * A fragment that cannot belong to a valid datagram poisons it:
	 * what the end host holds of it must never be completed.
	 */
	{ "v4_oversize_middle", 4, { { 0, 1480, true, FRAG_HELD, false },
	    { 64000, 1600, true, FRAG_BAD, false } }, 2, true, 1 },
	{ "v4_middle_not_multiple_of_8", 4, { { 0, 1001, true, FRAG_BAD, false } },
	    1, true, 1 },
	{ "v4_middle_empty", 4, { { 1480, 0, true, FRAG_BAD, false } }, 1, true, 1 },
	{ "v6_overlap_tail", 6, { { 0, 1232, true, FRAG_HELD, false },
	    { 1224, 1232, true, FRAG_BAD, false } }, 2, false, 1 },
	{ "v6_conflicting_middle", 6, { { 1232, 1232, true, FRAG_HELD, false },
	    { 0, 1232, true, FRAG_HELD, false }, { 1232, 1232, true, FRAG_BAD,
	    true } }, 3, false, 1 },
	{ "v6_conflicting_last", 6, { { 2464, 10, false, FRAG_HELD, false },
	    { 2464, 10, false, FRAG_BAD, true } }, 2, false, 1 },
	{ "v6_oversize_last", 6, { { 65528, 8, false, FRAG_BAD, false } }, 1,
	    true, 1 },
	{ "v6_oversize_by_one", 6, { { 0, 1232, true, FRAG_HELD, false },
	    { 65520, 16, false, FRAG_BAD, false } }, 2, true, 1 },
	{ "v6_middle_not_multiple_of_8", 6, { { 1232, 1231, true,
	    FRAG_BAD, false } }, 1, true, 1 },
};

static void
test_frag_bad(void **state)
{
	const struct badcase	*t = *state;
	struct frag_table	*ft = frag_create(4, SEC(30));
	struct frag_stats	 st;
	struct dec_pkt		 pkt;
	const uint8_t		*data;
	size_t			 len;
	const char		*src = t->fam == 4 ? A4[0][0] : A6[0][0];

	assert_non_null(ft);
	for (int k = 0; k < t->nstep; k++) {
		const struct fstep *s = &t->step[k];

		assert_int_equal(feed(ft, t->fam, src, 77, s->off,
		    pattern + s->off + (s->alt ? 1 : 0), s->len, s->more,
		    SEC(1) + (uint64_t)k, &data, &len, &pkt), s->want);
	}
	frag_stats(ft, &st);
	assert_int_equal(st.done, 0);
	assert_int_equal(st.oversize, t->oversize ? 1 : 0);
	assert_int_equal(st.overlap, t->oversize ? 0 : 1);
	/* A poisoned datagram keeps its context, to drop the rest. */
	assert_int_equal(st.in_use, t->left);
	frag_destroy(ft);
}

/* A zero-length last fragment right after the held data completes it. */
static void
test_frag_empty_last(void **state)
{
	struct frag_table	*ft = frag_create(2, SEC(30));
	struct dec_pkt		 pkt;
	const uint8_t		*data;
	size_t			 len, n = mk_dgram(1472, pattern);

	(void)state;
	assert_int_equal(n, 1480);
	assert_int_equal(feed(ft, 4, A4[0][0], 5, 0, dgram, 1480, true,
	    SEC(1), &data, &len, &pkt), FRAG_HELD);
	assert_int_equal(feed(ft, 4, A4[0][0], 5, 1480, dgram, 0, false,
	    SEC(1), &data, &len, &pkt), FRAG_DONE);
	check_done(data, len, dgram, n, pattern, 1472);
	frag_destroy(ft);
}

/* Fields of decoded fragments, IPv4 (16-bit id) and IPv6 (32-bit id). */
static void
test_frag_fields(void **state)
{
	static struct pb	 b;
	struct dec_pkt		 pkt;
	enum dec_link		 link;

	(void)state;
	link = mk_frag(&b, 4, A4[0][0], 0xabcd, 1480, pattern, 1480, true);
	memset(&pkt, 0, sizeof(pkt));
	assert_int_equal(dec_frame(link, pb_front(&b), pb_len(&b), &pkt),
	    DEC_FRAGMENT);
	assert_int_equal(pkt.frag.id, 0xabcd);
	assert_int_equal(pkt.frag.offset, 1480);
	assert_true(pkt.frag.more);
	assert_int_equal(pkt.frag.proto, DEC_PROTO_UDP);
	assert_ptr_equal(pkt.frag.data, pb_front(&b) + 14 + 20);
	assert_int_equal(pkt.frag.len, 1480);
	assert_true(pkt.has_mac);
	assert_memory_equal(pkt.smac.b, SMAC, 6);
	check_addr(&pkt.dst, A4[0][1]);

	link = mk_frag(&b, 6, A6[0][0], 0x89abcdefu, 65528, pattern, 7,
	    false);
	memset(&pkt, 0, sizeof(pkt));
	assert_int_equal(dec_frame(link, pb_front(&b), pb_len(&b), &pkt),
	    DEC_FRAGMENT);
	assert_int_equal(pkt.frag.id, 0x89abcdefu);
	assert_int_equal(pkt.frag.offset, 65528);
	assert_false(pkt.frag.more);
	assert_int_equal(pkt.frag.proto, DEC_PROTO_UDP);
	assert_ptr_equal(pkt.frag.data, pb_front(&b) + 48);
	assert_int_equal(pkt.frag.len, 7);
	check_addr(&pkt.src, A6[0][0]);
}

/*
 * The pool is full: a new datagram finds no room and its fragment is
 * dropped; no busy datagram is ever recycled, since the end host would
 * then complete it from fragments nobody judges.
 */
static void
test_frag_full(void **state)
{
	struct frag_table	*ft = frag_create(4, SEC(30));
	struct frag_stats	 st;
	struct dec_pkt		 pkt;
	const uint8_t		*data;
	size_t			 len, n = mk_dgram(1572, pattern);

	(void)state;
	assert_int_equal(n, 1580);
	for (uint32_t id = 1; id <= 4; id++)
		assert_int_equal(feed(ft, 4, A4[0][0], id, 0, dgram, 1480, true,
		    SEC(id), &data, &len, &pkt), FRAG_HELD);
	/* 64 decoys between the two halves: all refused. */
	for (uint32_t id = 100; id < 164; id++)
		assert_int_equal(feed(ft, 4, A4[0][1], id, 0, dgram, 1480,
		    true, SEC(5), &data, &len, &pkt), FRAG_BAD);
	frag_stats(ft, &st);
	assert_int_equal(st.full, 64);
	assert_int_equal(st.in_use, 4);
	/* Every held datagram completes and is judged. */
	for (uint32_t id = 1; id <= 4; id++) {
		assert_int_equal(feed(ft, 4, A4[0][0], id, 1480, dgram + 1480,
		    100, false, SEC(6), &data, &len, &pkt), FRAG_DONE);
		check_done(data, len, dgram, n, pattern, 1572);
		frag_judged(ft, false);
	}
	/* Past the timeout the judged ones make room again. */
	assert_int_equal(feed(ft, 4, A4[0][1], 200, 0, dgram, 1480, true,
	    SEC(40), &data, &len, &pkt), FRAG_HELD);
	frag_destroy(ft);
}

/*
 * After its verdict a datagram's state stays: a resent or duplicated
 * fragment gets the same verdict, a different one poisons it.
 */
static void
test_frag_late(void **state)
{
	struct frag_table	*ft = frag_create(4, SEC(60));
	struct frag_stats	 st;
	struct dec_pkt		 pkt;
	const uint8_t		*data;
	size_t			 len, n = mk_dgram(1572, pattern);
	static uint8_t		 other[1580];

	(void)state;
	memcpy(other, dgram, n);
	other[1500] ^= 0x20;
	/* Dropped datagram: every later copy is dropped, for the time
	 * the end host may still hold the first fragment. */
	assert_int_equal(feed(ft, 6, A6[0][0], 1, 0, dgram, 1480, true,
	    SEC(1), &data, &len, &pkt), FRAG_HELD);
	assert_int_equal(feed(ft, 6, A6[0][0], 1, 1480, dgram + 1480, 100,
	    false, SEC(2), &data, &len, &pkt), FRAG_DONE);
	frag_judged(ft, true);
	assert_int_equal(feed(ft, 6, A6[0][0], 1, 1480, dgram + 1480, 100,
	    false, SEC(3), &data, &len, &pkt), FRAG_BAD);
	assert_int_equal(feed(ft, 6, A6[0][0], 1, 0, dgram, 1480, true,
	    SEC(50), &data, &len, &pkt), FRAG_BAD);
	/* Each copy renews the state: still dropped 100 s later. */
	assert_int_equal(feed(ft, 6, A6[0][0], 1, 1480, dgram + 1480, 100,
	    false, SEC(100), &data, &len, &pkt), FRAG_BAD);

	/* Accepted datagram: identical copies accepted, a different last
	 * fragment poisons it, and then the right one is dropped too. */
	assert_int_equal(feed(ft, 6, A6[0][0], 2, 0, dgram, 1480, true,
	    SEC(1), &data, &len, &pkt), FRAG_HELD);
	assert_int_equal(feed(ft, 6, A6[0][0], 2, 1480, dgram + 1480, 100,
	    false, SEC(2), &data, &len, &pkt), FRAG_DONE);
	frag_judged(ft, false);
	assert_int_equal(feed(ft, 6, A6[0][0], 2, 0, dgram, 1480, true,
	    SEC(3), &data, &len, &pkt), FRAG_LATE);
	assert_int_equal(feed(ft, 6, A6[0][0], 2, 1480, other + 1480, 100,
	    false, SEC(4), &data, &len, &pkt), FRAG_BAD);
	assert_int_equal(feed(ft, 6, A6[0][0], 2, 1480, dgram + 1480, 100,
	    false, SEC(5), &data, &len, &pkt), FRAG_BAD);
	frag_stats(ft, &st);
	assert_int_equal(st.late, 5);
	assert_int_equal(st.overlap, 1);
	assert_int_equal(st.done, 2);
	frag_destroy(ft);
}

/* A datagram not completed within the timeout is dropped. */
static void
test_frag_expire(void **state)
{
	struct frag_table	*ft = frag_create(4, SEC(5));
	struct frag_stats	 st;
	struct dec_pkt		 pkt;
	const uint8_t		*data;
	size_t			 len, n = mk_dgram(1572, pattern);

	(void)state;
	/* Within the timeout. */
	assert_int_equal(feed(ft, 6, A6[0][0], 1, 0, dgram, 1480, true,
	    SEC(100), &data, &len, &pkt), FRAG_HELD);
	assert_int_equal(feed(ft, 6, A6[0][0], 1, 1480, dgram + 1480, 100,
	    false, SEC(104), &data, &len, &pkt), FRAG_DONE);
	check_done(data, len, dgram, n, pattern, 1572);
	frag_stats(ft, &st);
	assert_int_equal(st.expired, 0);
	/* Past it: the first fragment is gone, the last waits alone. */
	assert_int_equal(feed(ft, 6, A6[0][0], 2, 0, dgram, 1480, true,
	    SEC(200), &data, &len, &pkt), FRAG_HELD);
	assert_int_equal(feed(ft, 6, A6[0][0], 2, 1480, dgram + 1480, 100,
	    false, SEC(206), &data, &len, &pkt), FRAG_HELD);
	frag_stats(ft, &st);
	assert_int_equal(st.expired, 2);
	assert_int_equal(st.in_use, 1);
	assert_int_equal(st.done, 1);
	/* Much later, the leftover is reclaimed too. */
	assert_int_equal(feed(ft, 6, A6[0][0], 3, 0, dgram, 1480, true,
	    SEC(300), &data, &len, &pkt), FRAG_HELD);
	frag_stats(ft, &st);
	assert_int_equal(st.expired, 3);
	assert_int_equal(st.in_use, 1);
	frag_destroy(ft);
}

/* Timestamps that go backwards (a merged capture) expire nothing. */
static void
test_frag_clock_backwards(void **state)
{
	struct frag_table	*ft = frag_create(4, SEC(5));
	struct frag_stats	 st;
	struct dec_pkt		 pkt;
	const uint8_t		*data;
	size_t			 len, n = mk_dgram(1572, pattern);

	(void)state;
	assert_int_equal(feed(ft, 4, A4[0][0], 9, 0, dgram, 1480, true,
	    SEC(100), &data, &len, &pkt), FRAG_HELD);
	assert_int_equal(feed(ft, 4, A4[0][0], 9, 1480, dgram + 1480, 100,
	    false, SEC(50), &data, &len, &pkt), FRAG_DONE);
	check_done(data, len, dgram, n, pattern, 1572);
	frag_stats(ft, &st);
	assert_int_equal(st.expired, 0);
	frag_destroy(ft);
}

/* Same id from two sources, or for two protocols: two datagrams. */
static void
test_frag_keys(void **state)
{
	struct frag_table	*ft = frag_create(4, SEC(30));
	struct frag_stats	 st;
	struct dec_pkt		 pkt;
	const uint8_t		*data;
	size_t			 len;
	static uint8_t		 a[1580], c[1580];
	size_t			 n = mk_dgram(1572, pattern);

	(void)state;
	memcpy(a, dgram, n);
	n = mk_dgram(1572, pattern + 1);
	memcpy(c, dgram, n);
	assert_int_equal(feed(ft, 4, "192.0.2.10", 42, 0, a, 1480, true,
	    SEC(1), &data, &len, &pkt), FRAG_HELD);
	assert_int_equal(feed(ft, 4, "192.0.2.11", 42, 0, c, 1480, true,
	    SEC(1), &data, &len, &pkt), FRAG_HELD);
	frag_stats(ft, &st);
	assert_int_equal(st.in_use, 2);
	assert_int_equal(feed(ft, 4, "192.0.2.11", 42, 1480, c + 1480, 100,
	    false, SEC(2), &data, &len, &pkt), FRAG_DONE);
	check_done(data, len, c, n, pattern + 1, 1572);
	assert_int_equal(feed(ft, 4, "192.0.2.10", 42, 1480, a + 1480, 100,
	    false, SEC(2), &data, &len, &pkt), FRAG_DONE);
	check_done(data, len, a, n, pattern, 1572);

	/* Another protocol under the same id and addresses. */
	assert_int_equal(feed(ft, 4, "192.0.2.10", 43, 0, a, 1480, true,
	    SEC(3), &data, &len, &pkt), FRAG_HELD);
	pkt.frag.proto = DEC_PROTO_TCP;
	pkt.frag.offset = 1480;
	pkt.frag.more = false;
	pkt.frag.data = c + 1480;
	pkt.frag.len = 100;
	assert_int_equal(frag_add(ft, &pkt, SEC(3), &data, &len), FRAG_HELD);
	frag_stats(ft, &st);
	assert_int_equal(st.in_use, 4);	/* two judged, two held */
	frag_destroy(ft);
}

/*
 * A reassembled datagram may start with headers dec_l4() does not walk:
 * RFC 8200 puts Destination Options (and AH) after the Fragment header,
 * and an IP-in-IP packet can be fragmented by the outer header.
 * dec_reassembled() (what engine_packet() calls) must reach the UDP
 * payload in both, as for the same message unfragmented.
 */
static void
test_frag_reassembled_headers(void **state)
{
	struct frag_table	*ft = frag_create(4, SEC(30));
	static struct pb	 b, d;
	struct dec_pkt		 pkt;
	const uint8_t		*data = NULL;
	size_t			 len = 0, n, plen6 = 0;
	enum dec_result		 r6, r4;
	struct built		 bt;

	(void)state;
	assert_non_null(ft);
	/* IPv6: Fragment, then Destination Options, then UDP. */
	pb_init(&d);
	pb_data(&d, pattern, 2000);
	push_udp(&d, SPORT, DPORT);
	push_ext(&d, 60, DEC_PROTO_UDP, 8);
	n = pb_len(&d);				/* 2016: 1232 + 784 */
	for (int k = 0; k < 2; k++) {
		size_t	 off = k == 0 ? 0 : 1232, fl = k == 0 ? 1232 : n - 1232;

		pb_init(&b);
		pb_data(&b, pb_front(&d) + off, fl);
		push_frag6(&b, 60, (uint16_t)off, k == 0, 99);
		push_ipv6(&b, 44, A6[0][0], A6[0][1]);
		memset(&pkt, 0, sizeof(pkt));
		assert_int_equal(dec_frame(LINK_RAW, pb_front(&b), pb_len(&b),
		    &pkt), DEC_FRAGMENT);
		assert_int_equal(frag_add(ft, &pkt, SEC(1), &data, &len),
		    k == 0 ? FRAG_HELD : FRAG_DONE);
	}
	assert_int_equal(len, n);
	/* What engine_packet() does with a reassembled datagram. */
	r6 = dec_reassembled(pkt.frag.proto, data, len, &pkt);
	if (r6 == DEC_OK)
		plen6 = pkt.plen;

	/* IPv4 in IPv4, the outer header fragmented. */
	pb_init(&d);
	push_kind(&d, &kinds[9], pattern, 2000, &bt);	/* v4_in_v4 */
	n = pb_len(&d) - 20;				/* inner packet */
	for (int k = 0; k < 2; k++) {
		size_t	 off = k == 0 ? 0 : 1480, fl = k == 0 ? 1480 : n - 1480;

		pb_init(&b);
		pb_data(&b, pb_front(&d) + 20 + off, fl);
		push_ipv4(&b, 5, 4, A4[0][0], A4[0][1], 55,
		    (uint16_t)(off / 8 | (k == 0 ? 0x2000 : 0)));
		memset(&pkt, 0, sizeof(pkt));
		assert_int_equal(dec_frame(LINK_RAW, pb_front(&b), pb_len(&b),
		    &pkt), DEC_FRAGMENT);
		assert_int_equal(frag_add(ft, &pkt, SEC(2), &data, &len),
		    k == 0 ? FRAG_HELD : FRAG_DONE);
	}
	assert_int_equal(len, n);
	r4 = dec_reassembled(pkt.frag.proto, data, len, &pkt);
	frag_destroy(ft);
	if (r6 != DEC_OK || r4 != DEC_OK)
		fail_msg("reassembled IPv6 Fragment+DstOpts+UDP decodes as %s, "
		    "reassembled IPv4-in-IPv4 as %s; want ok for both",
		    dec_result_str(r6), dec_result_str(r4));
	assert_int_equal(plen6, 2000);
	assert_int_equal(pkt.plen, 2000);
}

/* ---- random input ----------------------------------------------------- */

#define NRANDOM		300000

static void
test_random_frames(void **state)
{
	static struct pb	 b;
	static uint8_t		 tmpl[W__COUNT * nitems(kinds)][1024];
	static size_t		 tlen[W__COUNT * nitems(kinds)];
	static const uint8_t	 hot[] = { 0x45, 0x46, 0x4f, 0x60, 0x11,
	    0x06, 0x2c, 0x00, 0xff, 0x81, 0x88, 0x86, 0xdd, 0x3c, 0x33, 0x04,
	    0x29 };
	struct frag_table	*ft = frag_create(16, SEC(1));
	uint64_t		 seen[DEC__COUNT] = { 0 }, done = 0;
	size_t			 nt = 0;
	uint8_t			 f[2100];

	(void)state;
	assert_non_null(ft);
	for (int w = 0; w < W__COUNT; w++)
		for (size_t k = 0; k < nitems(kinds); k++) {
			struct built	 bt;

			pb_init(&b);
			push_kind(&b, &kinds[k], PL, PLN, &bt);
			push_link(&b, (enum wrap)w, 0);
			memcpy(tmpl[nt], pb_front(&b), pb_len(&b));
			tlen[nt++] = pb_len(&b);
		}
	rng_seed(0x0decade5eedULL);
	for (int i = 0; i < NRANDOM; i++) {
		enum wrap	 w = (enum wrap)(rng() % W__COUNT);
		size_t		 len;
		uint8_t		*p;
		struct dec_pkt	 pkt;
		enum dec_result	 r;

		if (rng() % 3 == 0) {
			len = (size_t)(rng() % 2001);
			for (size_t k = 0; k < len; k++)
				f[k] = (uint8_t)rng();
		} else {
			/* A real frame, bent a little. */
			size_t	 t = (size_t)(rng() % nt), nm;

			w = (enum wrap)(t / nitems(kinds));
			len = tlen[t];
			memcpy(f, tmpl[t], len);
			if (rng() % 4 == 0)
				len = (size_t)(rng() % (len + 1));
			else if (rng() % 8 == 0) {
				size_t	 extra = (size_t)(rng() % 64);

				for (size_t k = 0; k < extra; k++)
					f[len + k] = (uint8_t)rng();
				len += extra;
			}
			nm = 1 + (size_t)(rng() % 4);
			for (size_t k = 0; k < nm && len > 0; k++) {
				size_t	 at = (size_t)(rng() % len);

				f[at] = rng() % 2 ? (uint8_t)rng() :
				    hot[rng() % sizeof(hot)];
			}
		}
		p = malloc(len);
		assert_true(p != NULL || len == 0);
		if (len > 0)
			memcpy(p, f, len);
		memset(&pkt, 0, sizeof(pkt));
		r = dec_frame(wraps[w].link, p, len, &pkt);
		check_sane(r, p, len, &pkt);
		seen[r]++;
		if (r == DEC_FRAGMENT) {
			const uint8_t	*data = NULL;
			size_t		 dlen = 0;
			enum frag_result fr;

			fr = frag_add(ft, &pkt, SEC(1) + (uint64_t)i * 1000000,
			    &data, &dlen);
			assert_true(fr == FRAG_HELD || fr == FRAG_DONE ||
			    fr == FRAG_BAD);
			if (fr == FRAG_DONE) {
				done++;
				assert_true(dlen <= 65535);
				r = dec_l4(pkt.frag.proto, data, dlen, &pkt);
				check_sane(r, data, dlen, &pkt);
			}
		}
		free(p);
	}
	/* The input reached every outcome. */
	for (int r = 0; r < DEC__COUNT; r++)
		if (seen[r] == 0)
			fail_msg("no random frame gave %s",
			    dec_result_str((enum dec_result)r));
	print_message("random frames: ok %llu fragment %llu not-ip %llu "
	    "other-l4 %llu truncated %llu malformed %llu reassembled %llu\n",
	    (unsigned long long)seen[DEC_OK],
	    (unsigned long long)seen[DEC_FRAGMENT],
	    (unsigned long long)seen[DEC_NOT_IP],
	    (unsigned long long)seen[DEC_OTHER_L4],
	    (unsigned long long)seen[DEC_TRUNCATED],
	    (unsigned long long)seen[DEC_MALFORMED],
	    (unsigned long long)done);
	frag_destroy(ft);
}

/* Random fragment streams straight into a small table. */
static void
test_random_fragments(void **state)
{
	static const char *const srcs[] = { "192.0.2.1", "192.0.2.2",
	    "2001:db8::1" };
	struct frag_table	*ft = frag_create(8, SEC(1) / 5);
	struct frag_stats	 st, prev;
	uint64_t		 now = SEC(1), n[4] = { 0 };

	(void)state;
	assert_non_null(ft);
	memset(&prev, 0, sizeof(prev));
	rng_seed(0xf4a65eedULL);
	for (int i = 0; i < 200000; i++) {
		struct dec_pkt	 pkt;
		const uint8_t	*data = NULL;
		size_t		 len = 0;
		enum frag_result fr;
		unsigned	 slot = (unsigned)(rng() % 4);

		memset(&pkt, 0, sizeof(pkt));
		addr_of(srcs[rng() % 3], &pkt.src);
		pkt.frag.id = (uint32_t)(rng() % 4);
		pkt.frag.proto = rng() % 8 ? DEC_PROTO_UDP : DEC_PROTO_TCP;
		if (rng() % 16 == 0) {
			pkt.frag.offset = (uint16_t)(rng() % 8192 * 8);
			pkt.frag.len = (size_t)(rng() % 2000);
		} else {
			/* Mostly plausible pieces of a 4-fragment datagram. */
			pkt.frag.offset = (uint16_t)(slot * 1480);
			pkt.frag.len = slot < 3 ? 1480 :
			    (size_t)(rng() % 1480);
			if (rng() % 8 == 0)
				pkt.frag.offset += 8;
		}
		pkt.frag.more = slot < 3 ? rng() % 16 != 0 : rng() % 16 == 0;
		pkt.frag.data = pattern;
		now += rng() % 50000000;
		fr = frag_add(ft, &pkt, now, &data, &len);
		assert_true(fr == FRAG_HELD || fr == FRAG_DONE ||
		    fr == FRAG_BAD || fr == FRAG_LATE);
		n[fr]++;
		if (fr == FRAG_DONE) {
			assert_non_null(data);
			assert_true(len > 0 && len <= 65535);
		}
		frag_stats(ft, &st);
		assert_true(st.in_use <= st.capacity);
		assert_true(st.held >= prev.held && st.done >= prev.done &&
		    st.full >= prev.full && st.expired >= prev.expired);
		prev = st;
	}
	assert_true(n[FRAG_HELD] > 0);
	assert_true(n[FRAG_DONE] > 0);
	assert_true(n[FRAG_BAD] > 0);
	assert_true(st.full > 0);
	assert_true(st.expired > 0);
	print_message("random fragments: held %llu done %llu bad %llu "
	    "full %llu expired %llu\n", (unsigned long long)n[FRAG_HELD],
	    (unsigned long long)n[FRAG_DONE], (unsigned long long)n[FRAG_BAD],
	    (unsigned long long)st.full, (unsigned long long)st.expired);
	frag_destroy(ft);
}

/* ---- the table against its rules -------------------------------------- */

/*
 * The reassembly table's rules as first written: every fragment that
 * starts a datagram scans all the contexts, to expire the old ones, find
 * a free one and count what its sender holds.  However the table does it,
 * random streams from a few senders, with and without MACs, through time
 * running forward, jumping past the timeout and stepping back, must get
 * the same answer, fragment by fragment, the same counters and the same
 * questions to the engine.  Datagrams of two 8-byte pieces, so the model
 * needs no buffer.
 */
enum { MS_OPEN = 1, MS_ACCEPTED, MS_DROPPED };

struct mctx {
	bool		 busy;
	int		 state;
	struct sg_addr	 src;
	uint32_t	 id;
	bool		 has_mac;
	struct sg_mac	 mac;
	uint64_t	 until;
	bool		 piece[2];
};

struct model {
	struct mctx	 c[64];
	int		 n, per_sender, last_done;
	uint64_t	 timeout;
	bool		 with_known;
	struct frag_stats st;
};

/* Who is bound: MAC 0 from anywhere, the first address without a MAC;
 * nobody while `nobody'. */
struct known {
	struct sg_mac	 mac0;
	struct sg_addr	 addr0;
	bool		 nobody;
	uint64_t	 calls;
};

static bool
known_answer(const struct known *kn, const struct sg_mac *m,
    const struct sg_addr *a)
{
	if (kn->nobody)
		return false;
	if (m != NULL)
		return memcmp(m, &kn->mac0, sizeof(*m)) == 0;
	return sg_addr_eq(a, &kn->addr0);
}

static bool
known_cb(void *arg, const struct sg_mac *m, const struct sg_addr *a)
{
	struct known	*kn = arg;

	kn->calls++;
	return known_answer(kn, m, a);
}

static bool
model_quota_sender(const struct mctx *c, const struct dec_pkt *pkt)
{
	return c->has_mac == pkt->has_mac && (!c->has_mac ||
	    memcmp(&c->mac, &pkt->smac, sizeof(c->mac)) == 0) &&
	    sg_addr_eq(&c->src, &pkt->src);
}

static void
model_release(struct model *m, struct mctx *c)
{
	c->busy = false;
	m->st.in_use--;
	m->st.expired++;
}

static enum frag_result
model_add(struct model *m, struct known *kn, uint64_t *kcalls,
    const struct dec_pkt *pkt, int piece, uint64_t now)
{
	struct mctx	*c = NULL, *freec = NULL;
	int		 held = 0;

	for (int k = 0; k < m->n && c == NULL; k++)
		if (m->c[k].busy && m->c[k].id == pkt->frag.id &&
		    sg_addr_eq(&m->c[k].src, &pkt->src))
			c = &m->c[k];
	if (c != NULL && now > c->until) {
		model_release(m, c);
		c = NULL;
	}
	if (c == NULL) {
		for (int k = 0; k < m->n; k++) {
			struct mctx	*x = &m->c[k];

			if (x->busy && now > x->until)
				model_release(m, x);
			if (!x->busy) {
				if (freec == NULL)
					freec = x;
			} else if (model_quota_sender(x, pkt))
				held++;
		}
		if (freec == NULL || held >= m->per_sender ||
		    (m->st.in_use >= (uint32_t)(m->n - m->n / 4) &&
		    m->with_known && (held >= (m->per_sender / 4 > 0 ?
		    m->per_sender / 4 : 1) || ((*kcalls)++,
		    !known_answer(kn, pkt->has_mac ? &pkt->smac : NULL,
		    &pkt->src))))) {
			m->st.full++;
			return FRAG_BAD;
		}
		c = freec;
		memset(c, 0, sizeof(*c));
		c->busy = true;
		c->state = MS_OPEN;
		c->src = pkt->src;
		c->id = pkt->frag.id;
		c->has_mac = pkt->has_mac;
		c->mac = pkt->smac;
		m->st.in_use++;
	}
	if (c->has_mac != pkt->has_mac || (c->has_mac &&
	    memcmp(&c->mac, &pkt->smac, sizeof(c->mac)) != 0)) {
		m->st.other_mac++;
		return FRAG_BAD;
	}
	c->until = now + m->timeout;
	switch (c->state) {
	case MS_DROPPED:
		m->st.late++;
		return FRAG_BAD;
	case MS_ACCEPTED:
		m->st.late++;		/* the same bytes: a late copy */
		return FRAG_LATE;
	}
	if (!c->piece[piece]) {
		c->piece[piece] = true;
		if (c->piece[!piece]) {
			m->st.done++;
			c->state = MS_ACCEPTED;
			m->last_done = (int)(c - m->c);
			return FRAG_DONE;
		}
	}
	m->st.held++;			/* new, or an exact duplicate */
	return FRAG_HELD;
}

static const struct modelcase {
	const char	*name;
	int		 n;		/* contexts */
	uint32_t	 ids;		/* datagram ids a sender uses */
	bool		 with_known;
	uint64_t	 seed;
} modelcases[] = {
	{ "n4_known", 4, 4, true, 0x4a11 },
	{ "n16_known", 16, 8, true, 0x16a11 },
	{ "n16_no_known", 16, 8, false, 0x16b22 },
	{ "n64_known", 64, 24, true, 0x64a11 },
};

#define MODEL_OPS	40000

static void
test_frag_model(void **state)
{
	static const char *const addrs[] = { "192.0.2.1", "192.0.2.2",
	    "192.0.2.3", "2001:db8::1", "2001:db8::2" };
	const struct modelcase	*t = *state;
	const uint64_t		 timeout = SEC(1);
	struct frag_table	*ft = frag_create(t->n, timeout);
	static struct model	 m;
	struct known		 kn;
	struct frag_stats	 st;
	struct sg_addr		 dst;
	uint64_t		 now = SEC(10), kcalls = 0;
	uint64_t		 n[4] = { 0 };

	assert_non_null(ft);
	assert_true(t->n <= (int)nitems(m.c));
	memset(&m, 0, sizeof(m));
	m.n = t->n;
	m.per_sender = t->n / 4 > 4 ? t->n / 4 : t->n < 4 ? t->n : 4;
	m.timeout = timeout;
	m.with_known = t->with_known;
	m.st.capacity = (uint32_t)t->n;
	memset(&kn, 0, sizeof(kn));
	kn.mac0.b[0] = 2;
	addr_of(addrs[0], &kn.addr0);
	if (t->with_known)
		frag_set_known(ft, known_cb, &kn);
	addr_of("192.0.2.250", &dst);
	rng_seed(t->seed);
	for (int i = 0; i < MODEL_OPS; i++) {
		struct dec_pkt	 pkt;
		const uint8_t	*data = NULL;
		size_t		 len = 0;
		enum frag_result fr, want;
		unsigned	 r = (unsigned)(rng() % 1000);
		int		 piece, mac;

		/* About 2n fragments a timeout: the table fills, and empties. */
		now += rng() % (timeout / (uint64_t)t->n);
		if (r < 5) {			/* past every context */
			now += timeout + rng() % timeout;
			continue;
		}
		if (r < 20) {			/* a step back in time */
			now -= rng() % (timeout / 2);
			continue;
		}
		if (r < 40) {
			kn.nobody = !kn.nobody;
			continue;
		}
		memset(&pkt, 0, sizeof(pkt));
		addr_of(addrs[rng() % nitems(addrs)], &pkt.src);
		pkt.dst = dst;
		pkt.dst.family = pkt.src.family;
		if ((mac = (int)(rng() % 6)) < 4) {
			pkt.has_mac = true;
			pkt.smac.b[0] = 2;
			pkt.smac.b[5] = (uint8_t)mac;
		} else
			pkt.smac.b[5] = 0x99;	/* no MAC: never read */
		pkt.frag.id = (uint32_t)(rng() % t->ids);
		pkt.frag.proto = DEC_PROTO_UDP;
		piece = rng() % 3 != 0 ? 0 : 1;
		pkt.frag.offset = (uint16_t)(piece * 8);
		pkt.frag.more = piece == 0;
		pkt.frag.data = pattern + piece * 8;
		pkt.frag.len = 8;

		want = model_add(&m, &kn, &kcalls, &pkt, piece, now);
		fr = frag_add(ft, &pkt, now, &data, &len);
		if (fr != want)
			fail_msg("op %d: frag_add %d, the rules say %d", i,
			    (int)fr, (int)want);
		n[fr]++;
		if (fr == FRAG_DONE) {
			bool	 drop = rng() % 3 == 0;

			assert_int_equal(len, 16);
			assert_memory_equal(data, pattern, 16);
			frag_judged(ft, drop);
			if (drop)
				m.c[m.last_done].state = MS_DROPPED;
		}
		frag_stats(ft, &st);
		if (memcmp(&st, &m.st, sizeof(st)) != 0)
			fail_msg("op %d: in_use %u/%u full %llu/%llu expired "
			    "%llu/%llu held %llu/%llu late %llu/%llu (table/"
			    "rules)", i, st.in_use, m.st.in_use,
			    (unsigned long long)st.full,
			    (unsigned long long)m.st.full,
			    (unsigned long long)st.expired,
			    (unsigned long long)m.st.expired,
			    (unsigned long long)st.held,
			    (unsigned long long)m.st.held,
			    (unsigned long long)st.late,
			    (unsigned long long)m.st.late);
		assert_int_equal(kn.calls, kcalls);
	}
	/* Every rule was reached. */
	assert_true(n[FRAG_DONE] > 0 && n[FRAG_LATE] > 0 && n[FRAG_BAD] > 0);
	assert_true(st.full > 0 && st.expired > 0 && st.other_mac > 0);
	assert_true(!t->with_known || kcalls > 0);
	print_message("%s: held %llu done %llu late %llu bad %llu, full %llu "
	    "expired %llu other-mac %llu, known asked %llu\n", t->name,
	    (unsigned long long)n[FRAG_HELD], (unsigned long long)n[FRAG_DONE],
	    (unsigned long long)n[FRAG_LATE], (unsigned long long)n[FRAG_BAD],
	    (unsigned long long)st.full, (unsigned long long)st.expired,
	    (unsigned long long)st.other_mac, (unsigned long long)kcalls);
	frag_destroy(ft);
}

int
main(void)
{
	int	 rc;
	size_t	 nc = 0;

	hash_init();
	for (size_t k = 0; k < sizeof(pattern); k++)
		pattern[k] = (uint8_t)(k * 7 + (k >> 8) + (k >> 13));
	for (int w = 0; w < W__COUNT; w++)
		for (size_t k = 0; k < nitems(kinds); k++) {
			char	 nm[64];

			combos[nc].w = (enum wrap)w;
			combos[nc].k = &kinds[k];
			snprintf(nm, sizeof(nm), "%s_%s", wraps[w].name,
			    kinds[k].name);
			treg_add("frame", nm, test_frame, &combos[nc++]);
		}
	for (size_t k = 0; k < nitems(kinds); k++)
		if (kind_depth(&kinds[k]) == 1)
			treg_add("l4_cut", kinds[k].name, test_l4_cut,
			    &kinds[k]);
	TREG_ROWS("pktgen", test_pktgen, pgcases);
	TREG_ROWS("vlan", test_vlan, vlancases);
	TREG_ROWS("ipv6_ext", test_ipv6_ext, v6cases);
	TREG_ROWS("anomaly", test_anomaly, anocases);
	TREG_ROWS("mac", test_mac, maccases);
	TREG_ROWS("null", test_null, nullcases);
	TREG_ROWS("padding", test_padding, padcases);
	TREG_ROWS("dec_l4", test_dec_l4, l4cases);
	TREG("misc", result_str);
	TREG("misc", unknown_link);
	TREG_ROWS("frag_order", test_frag_order, fragcases);
	TREG_ROWS("frag_bad", test_frag_bad, badcases);
	treg_add("frag", "empty_last", test_frag_empty_last, NULL);
	treg_add("frag", "fields", test_frag_fields, NULL);
	treg_add("frag", "full", test_frag_full, NULL);
	treg_add("frag", "late", test_frag_late, NULL);
	treg_add("frag", "expire", test_frag_expire, NULL);
	treg_add("frag", "clock_backwards", test_frag_clock_backwards, NULL);
	treg_add("frag", "keys", test_frag_keys, NULL);
	treg_add("frag", "reassembled_headers", test_frag_reassembled_headers,
	    NULL);
	treg_add("random", "frames", test_random_frames, NULL);
	treg_add("random", "fragments", test_random_fragments, NULL);
	TREG_ROWS("frag_model", test_frag_model, modelcases);

	rc = treg_run("decode");
	return rc;
}
