/*
 * decode.c: first pipeline stage.  Ethernet (802.1Q/802.1ad tags), Linux
 * cooked captures, IPv4 (with IP-in-IP), IPv6 (walking extension
 * headers), UDP and TCP.  Every read is checked against the frame's end;
 * fragments are handed to the reassembly table below.
 */
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "hash.h"
#include "htab.h"

#define ETH_HLEN	14
#define SLL_HLEN	16
#define SLL2_HLEN	20
#define ET_IPV4		0x0800
#define ET_IPV6		0x86dd
#define ET_VLAN		0x8100
#define ET_QINQ		0x88a8
#define ET_QINQ_OLD	0x9100
#define MAX_VLAN_TAGS	4
#define MAX_TUNNEL	2	/* IP-in-IP nesting we look through */
#define MAX_EXTHDR	128	/* the kernel walks any number; the
				   walk costs one read per header */

static const char *const result_names[DEC__COUNT] = {
	[DEC_OK] = "ok",
	[DEC_FRAGMENT] = "fragment",
	[DEC_NOT_IP] = "not-ip",
	[DEC_OTHER_L4] = "other-l4",
	[DEC_TRUNCATED] = "truncated",
	[DEC_MALFORMED] = "malformed",
};

const char *
dec_result_str(enum dec_result r)
{
	return (unsigned)r < DEC__COUNT ? result_names[r] : "?";
}

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static enum dec_result dec_ip(const uint8_t *, size_t, struct dec_pkt *,
    int);
static enum dec_result dec_chain(uint8_t, const uint8_t *, size_t,
    struct dec_pkt *, int, bool, bool);

enum dec_result
dec_l4(uint8_t proto, const uint8_t *p, size_t len, struct dec_pkt *pkt)
{
	size_t	 hl;

	pkt->proto = proto;
	pkt->l4 = p;
	pkt->l4len = len;
	if (proto == DEC_PROTO_UDP) {
		uint16_t	 ulen;

		if (len < 8)
			return DEC_TRUNCATED;
		ulen = rd16(p + 4);
		if (ulen < 8)
			return DEC_MALFORMED;
		if (ulen > len)
			return DEC_TRUNCATED;
		pkt->sport = rd16(p);
		pkt->dport = rd16(p + 2);
		pkt->payload = p + 8;
		pkt->plen = (size_t)ulen - 8;
		pkt->l4len = ulen;
		return DEC_OK;
	}
	if (proto == DEC_PROTO_TCP) {
		if (len < 20)
			return DEC_TRUNCATED;
		hl = (size_t)(p[12] >> 4) * 4;
		if (hl < 20)
			return DEC_MALFORMED;
		if (hl > len)
			return DEC_TRUNCATED;
		pkt->sport = rd16(p);
		pkt->dport = rd16(p + 2);
		pkt->seq = rd32(p + 4);
		pkt->ack = rd32(p + 8);
		pkt->tcp_flags = p[13];
		pkt->payload = p + hl;
		pkt->plen = len - hl;
		return DEC_OK;
	}
	return DEC_OTHER_L4;
}

static uint32_t
sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (; n >= 2; p += 2, n -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		s += (uint32_t)(p[0] << 8);
	return s;
}

bool
dec_l4_csum_ok(const struct dec_pkt *pkt)
{
	uint8_t		 ph[8];
	size_t		 alen = pkt->src.family == SG_AF_INET ? 4 : 16;
	uint32_t	 s = 0;

	if (pkt->l4 == NULL)
		return false;
	if (pkt->proto == DEC_PROTO_UDP && alen == 4 && pkt->l4len >= 8 &&
	    pkt->l4[6] == 0 && pkt->l4[7] == 0)
		return true;
	s = sum16(s, pkt->src.a, alen);
	s = sum16(s, pkt->dst.a, alen);
	ph[0] = (uint8_t)(pkt->l4len >> 24);
	ph[1] = (uint8_t)(pkt->l4len >> 16);
	ph[2] = (uint8_t)(pkt->l4len >> 8);
	ph[3] = (uint8_t)pkt->l4len;
	ph[4] = ph[5] = ph[6] = 0;
	ph[7] = pkt->proto;
	s = sum16(s, ph, 8);
	s = sum16(s, pkt->l4, pkt->l4len);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

/*
 * What follows an IP header (or a reassembled datagram): IPv6 extension
 * headers, a tunnelled IP packet, or UDP/TCP.  `v6' allows the IPv6
 * extension headers; `reassembled' refuses a second Fragment header.
 */
static enum dec_result
dec_chain(uint8_t nh, const uint8_t *p, size_t len, struct dec_pkt *pkt,
    int depth, bool v6, bool reassembled)
{
	size_t		 off = 0, elen;

	for (int n = 0; n < MAX_EXTHDR; n++) {
		switch (nh) {
		case 0:		/* hop-by-hop */
		case 43:	/* routing */
		case 60:	/* destination options */
		case 135:	/* mobility */
		case 139:	/* HIP */
		case 140:	/* shim6 */
			if (!v6)
				return DEC_OTHER_L4;
			if (off + 2 > len)
				return DEC_TRUNCATED;
			elen = ((size_t)p[off + 1] + 1) * 8;
			if (off + elen > len)
				return DEC_TRUNCATED;
			nh = p[off];
			off += elen;
			continue;
		case 51:	/* AH */
			if (off + 2 > len)
				return DEC_TRUNCATED;
			elen = ((size_t)p[off + 1] + 2) * 4;
			if (off + elen > len)
				return DEC_TRUNCATED;
			nh = p[off];
			off += elen;
			continue;
		case 44: {	/* fragment */
			uint16_t	 fo;

			if (!v6)
				return DEC_OTHER_L4;
			if (off + 8 > len)
				return DEC_TRUNCATED;
			fo = rd16(p + off + 2);
			if ((fo & 0xfff9) == 0) {
				/* Atomic fragment (RFC 6946): no reassembly. */
				nh = p[off];
				off += 8;
				continue;
			}
			if (reassembled)
				return DEC_MALFORMED;	/* nested fragments */
			pkt->frag.id = rd32(p + off + 4);
			pkt->frag.offset = (uint16_t)(fo & 0xfff8);
			pkt->frag.more = (fo & 1) != 0;
			pkt->frag.proto = p[off];
			pkt->frag.data = p + off + 8;
			pkt->frag.len = len - off - 8;
			return DEC_FRAGMENT;
		}
		case 4:
		case 41:
			if (depth < MAX_TUNNEL)
				return dec_ip(p + off, len - off, pkt,
				    depth + 1);
			return DEC_MALFORMED;	/* deeper than we look */
		default:
			return dec_l4(nh, p + off, len - off, pkt);
		}
	}
	return DEC_MALFORMED;		/* too many extension headers */
}

enum dec_result
dec_reassembled(uint8_t proto, const uint8_t *p, size_t len,
    struct dec_pkt *pkt)
{
	return dec_chain(proto, p, len, pkt, 0,
	    pkt->src.family == SG_AF_INET6, true);
}

static enum dec_result
dec_ipv4(const uint8_t *p, size_t len, struct dec_pkt *pkt, int depth)
{
	size_t		 hl, tot;
	uint16_t	 fo;

	if (len < 20)
		return DEC_TRUNCATED;
	if ((p[0] >> 4) != 4)
		return DEC_MALFORMED;
	hl = (size_t)(p[0] & 0x0f) * 4;
	tot = rd16(p + 2);
	if (hl < 20 || tot < hl)
		return DEC_MALFORMED;
	if (hl > len || tot > len)
		return DEC_TRUNCATED;
	/* tot < len: Ethernet padding, ignored. */
	memset(&pkt->src, 0, sizeof(pkt->src));
	memset(&pkt->dst, 0, sizeof(pkt->dst));
	pkt->src.family = pkt->dst.family = SG_AF_INET;
	memcpy(pkt->src.a, p + 12, 4);
	memcpy(pkt->dst.a, p + 16, 4);

	fo = rd16(p + 6);
	if ((fo & 0x3fff) != 0) {	/* MF set or offset != 0 */
		pkt->frag.id = rd16(p + 4);
		pkt->frag.offset = (uint16_t)((fo & 0x1fff) * 8);
		pkt->frag.more = (fo & 0x2000) != 0;
		pkt->frag.proto = p[9];
		pkt->frag.data = p + hl;
		pkt->frag.len = tot - hl;
		return DEC_FRAGMENT;
	}
	return dec_chain(p[9], p + hl, tot - hl, pkt, depth, false, false);
}

static enum dec_result
dec_ipv6(const uint8_t *p, size_t len, struct dec_pkt *pkt, int depth)
{
	size_t		 plen;

	if (len < 40)
		return DEC_TRUNCATED;
	if ((p[0] >> 4) != 6)
		return DEC_MALFORMED;
	plen = rd16(p + 4);
	if (plen == 0)			/* jumbogram: not on a SIP path */
		return DEC_MALFORMED;
	if (40 + plen > len)
		return DEC_TRUNCATED;
	memset(&pkt->src, 0, sizeof(pkt->src));
	memset(&pkt->dst, 0, sizeof(pkt->dst));
	pkt->src.family = pkt->dst.family = SG_AF_INET6;
	memcpy(pkt->src.a, p + 8, 16);
	memcpy(pkt->dst.a, p + 24, 16);
	return dec_chain(p[6], p + 40, plen, pkt, depth, true, false);
}

static enum dec_result
dec_ip(const uint8_t *p, size_t len, struct dec_pkt *pkt, int depth)
{
	if (len < 1)
		return DEC_TRUNCATED;
	switch (p[0] >> 4) {
	case 4:
		return dec_ipv4(p, len, pkt, depth);
	case 6:
		return dec_ipv6(p, len, pkt, depth);
	default:
		return DEC_NOT_IP;
	}
}

static enum dec_result
dec_ethertype(uint16_t et, const uint8_t *p, size_t len, struct dec_pkt *pkt)
{
	if (et == ET_IPV4 || et == ET_IPV6) {
		if (len < 1)
			return DEC_TRUNCATED;
		if ((p[0] >> 4) != (et == ET_IPV4 ? 4 : 6))
			return DEC_MALFORMED;
		return dec_ip(p, len, pkt, 0);
	}
	return DEC_NOT_IP;
}

enum dec_result
dec_frame(enum dec_link link, const uint8_t *p, size_t len,
    struct dec_pkt *pkt)
{
	uint16_t	 et;
	size_t		 off;
	struct sg_mac	 mac = pkt->smac;
	bool		 has_mac = pkt->has_mac;

	memset(pkt, 0, sizeof(*pkt));
	switch (link) {
	case LINK_ETHERNET:
		if (len < ETH_HLEN)
			return DEC_TRUNCATED;
		memcpy(pkt->smac.b, p + 6, 6);
		pkt->has_mac = true;
		memcpy(pkt->dmac.b, p, 6);
		pkt->has_dmac = true;
		et = rd16(p + 12);
		off = ETH_HLEN;
		for (int n = 0; (et == ET_VLAN || et == ET_QINQ ||
		    et == ET_QINQ_OLD); n++) {
			if (n == MAX_VLAN_TAGS)
				return DEC_MALFORMED;
			if (off + 4 > len)
				return DEC_TRUNCATED;
			et = rd16(p + off + 2);
			off += 4;
		}
		return dec_ethertype(et, p + off, len - off, pkt);
	case LINK_SLL:
		if (len < SLL_HLEN)
			return DEC_TRUNCATED;
		/* ARPHRD_ETHER (1) with a 6-byte link-layer address. */
		if (rd16(p + 2) == 1 && rd16(p + 4) == 6) {
			memcpy(pkt->smac.b, p + 6, 6);
			pkt->has_mac = true;
		}
		return dec_ethertype(rd16(p + 14), p + SLL_HLEN,
		    len - SLL_HLEN, pkt);
	case LINK_SLL2:
		if (len < SLL2_HLEN)
			return DEC_TRUNCATED;
		if (rd16(p + 8) == 1 && p[11] == 6) {
			memcpy(pkt->smac.b, p + 12, 6);
			pkt->has_mac = true;
		}
		return dec_ethertype(rd16(p), p + SLL2_HLEN, len - SLL2_HLEN,
		    pkt);
	case LINK_RAW:
		pkt->smac = mac;
		pkt->has_mac = has_mac;
		return dec_ip(p, len, pkt, 0);
	case LINK_NULL: {
		uint32_t	 fam;

		if (len < 4)
			return DEC_TRUNCATED;
		/* Host byte order of the capturing machine: try both. */
		fam = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		if (fam > 0xffff)
			fam = rd32(p);
		if (fam != 2 && fam != 10 && fam != 24 && fam != 28 &&
		    fam != 30)
			return DEC_NOT_IP;
		return dec_ip(p + 4, len - 4, pkt, 0);
	}
	}
	return DEC_NOT_IP;
}

/* ---- reassembly --------------------------------------------------------- */

#define FRAG_MAX	65535
#define FRAG_BLOCKS	(FRAG_MAX / 8 + 1)

enum frag_state { FS_FREE = 0, FS_OPEN, FS_ACCEPTED, FS_DROPPED };

struct frag_ctx {
	uint8_t		 state;		/* enum frag_state */
	struct sg_addr	 src, dst;
	uint32_t	 id;
	uint8_t		 proto;		/* IPv4: of the key; IPv6: of the
					   first fragment, once seen */
	bool		 has_mac;	/* the sender's, from the first */
	struct sg_mac	 mac;
	uint64_t	 hv;
	uint64_t	 until;		/* state kept until then */
	uint32_t	 total;		/* 0 until the last fragment arrives */
	uint32_t	 have;		/* bytes received */
	uint32_t	 maxend;	/* highest end offset seen */
	uint32_t	 sender;	/* its slot in frag_table.snd */
	uint8_t		 seen[FRAG_BLOCKS / 8 + 1];
	uint8_t		*buf;
};

/*
 * One sender for the quota (quota_sender()): its MAC and its address.
 * Zeroed, then filled, so the same sender is the same bytes, hashed and
 * compared whole.
 */
struct frag_skey {
	uint8_t		 has_mac;
	struct sg_mac	 mac;		/* with a MAC */
	uint8_t		 pad;
	struct sg_addr	 src;
};

struct frag_sender {
	uint64_t	 hv;
	struct frag_skey key;
	uint32_t	 held;		/* its busy contexts, > 0 */
};

/*
 * Every fragment costs O(1) (expiry amortized) while time runs forward
 * (see ctx_place()), the table full or not: the busy contexts are listed
 * in order of `until' (expiry takes them from the head), the free ones in
 * a list of their own, and each sender holding one has a slot counting
 * them (a busy context is one sender's, so `n' slots are enough).  A scan
 * of every context for each new datagram cost 4.8 INVITEs a fragment at
 * 4096 (an attacker's review; test_attack frag_new_cost_4096).
 */
struct frag_table {
	struct frag_ctx	*ctx;
	uint8_t		*bufs;
	struct hidx	 ix;
	struct dlist	 order;		/* busy contexts, by until */
	struct dlist	 free;		/* free contexts */
	struct frag_sender *snd;	/* n slots */
	struct hidx	 six;		/* busy sender slots, by key */
	struct dlist	 sfree;		/* free sender slots */
	int		 n;
	uint32_t	 last_done;	/* for frag_judged() */
	uint8_t		 last_proto;	/* of the last FRAG_DONE */
	int		 per_sender;	/* contexts one sender may hold */
	sg_known_fn	 known;		/* bound senders: the last quarter */
	void		*known_arg;
	uint64_t	 timeout;
	struct frag_stats st;
};

struct frag_table *
frag_create(int contexts, uint64_t timeout)
{
	struct frag_table	*ft;

	if ((ft = calloc(1, sizeof(*ft))) == NULL)
		return NULL;
	ft->n = contexts;
	ft->timeout = timeout;
	ft->last_done = HNIL;
	/* A quarter each (at least 4), so one host's decoys leave room for
	 * the rest. */
	ft->per_sender = contexts / 4 > 4 ? contexts / 4 : contexts < 4 ?
	    contexts : 4;
	ft->ctx = sg_table_alloc((size_t)contexts, sizeof(*ft->ctx));
	ft->bufs = sg_table_alloc((size_t)contexts, FRAG_MAX);
	ft->snd = sg_table_alloc((size_t)contexts, sizeof(*ft->snd));
	if (ft->ctx == NULL || ft->bufs == NULL || ft->snd == NULL ||
	    hidx_init(&ft->ix, (uint32_t)contexts) == -1 ||
	    hidx_init(&ft->six, (uint32_t)contexts) == -1 ||
	    dlist_init(&ft->order, (uint32_t)contexts) == -1 ||
	    dlist_init(&ft->free, (uint32_t)contexts) == -1 ||
	    dlist_init(&ft->sfree, (uint32_t)contexts) == -1) {
		frag_destroy(ft);
		return NULL;
	}
	dlist_fill(&ft->free, (uint32_t)contexts);
	dlist_fill(&ft->sfree, (uint32_t)contexts);
	for (int k = 0; k < contexts; k++)
		ft->ctx[k].buf = ft->bufs + (size_t)k * FRAG_MAX;
	ft->st.capacity = (uint32_t)contexts;
	return ft;
}

void
frag_set_known(struct frag_table *ft, sg_known_fn fn, void *arg)
{
	ft->known = fn;
	ft->known_arg = arg;
}

void
frag_destroy(struct frag_table *ft)
{
	if (ft == NULL)
		return;
	hidx_fini(&ft->ix);
	hidx_fini(&ft->six);
	dlist_fini(&ft->order);
	dlist_fini(&ft->free);
	dlist_fini(&ft->sfree);
	free(ft->ctx);
	free(ft->bufs);
	free(ft->snd);
	free(ft);
}

static void
ctx_release(struct frag_table *ft, struct frag_ctx *c)
{
	uint32_t		 k = (uint32_t)(c - ft->ctx);
	struct frag_sender	*s = &ft->snd[c->sender];

	hidx_del(&ft->ix, k, c->hv);
	dlist_del(&ft->order, k);
	dlist_push_tail(&ft->free, k);
	if (--s->held == 0) {
		hidx_del(&ft->six, c->sender, s->hv);
		dlist_push_tail(&ft->sfree, c->sender);
	}
	c->state = FS_FREE;
	ft->st.in_use--;
}

/*
 * Keep a busy context `k' (out of the list) and its new `until' in order.
 * Time runs forward, so it goes to the tail at once; after a step back
 * (the clock set back, a capture out of order) it walks back past those
 * kept longer, so the order, and expiry, stay exact.
 */
static void
ctx_place(struct frag_table *ft, uint32_t k)
{
	uint32_t	 at = ft->order.tail;

	while (at != HNIL && ft->ctx[at].until > ft->ctx[k].until)
		at = ft->order.link[at].prev;
	dlist_insert_after(&ft->order, at, k);
}

/* Keep the context's state for the timeout from now. */
static void
ctx_touch(struct frag_table *ft, struct frag_ctx *c, uint64_t now)
{
	uint32_t	 k = (uint32_t)(c - ft->ctx);

	c->until = now + ft->timeout;
	dlist_del(&ft->order, k);
	ctx_place(ft, k);
}

/*
 * Linux keys an IPv4 datagram by addresses, id and protocol, an IPv6 one
 * by addresses and id alone (the protocol is the first fragment's): so
 * does sipguard, or two contexts would hold what the end host joins.
 */
static uint8_t
key_proto(const struct dec_pkt *pkt)
{
	return pkt->src.family == SG_AF_INET6 ? 0 : pkt->frag.proto;
}

static bool
same_sender(const struct frag_ctx *c, const struct dec_pkt *pkt)
{
	return c->has_mac == pkt->has_mac && (!c->has_mac ||
	    memcmp(&c->mac, &pkt->smac, sizeof(c->mac)) == 0);
}

/*
 * One sender for the quota: its MAC and its address (a sender with a
 * MAC is never one without).  By MAC alone, everyone behind a gateway
 * router was one sender: sixteen first fragments from the internet
 * took its quota, and a bound phone's fragmented INVITE through the same
 * router was refused the reserve as a sender over a quarter of it (an
 * attacker's review; test_attack frag_gateway_quota).  Forged addresses
 * behind one MAC fill the table at most to its reserve, as forged MACs
 * did.
 */
static void
quota_sender(const struct dec_pkt *pkt, struct frag_skey *k)
{
	memset(k, 0, sizeof(*k));
	if (pkt->has_mac) {
		k->has_mac = 1;
		k->mac = pkt->smac;
	}
	k->src = pkt->src;
}

/* The slot of the sender `k' (hash hv), or HNIL: it holds none. */
static uint32_t
sender_find(const struct frag_table *ft, const struct frag_skey *k,
    uint64_t hv)
{
	for (uint32_t s = hidx_first(&ft->six, hv); s != HNIL;
	    s = hidx_next(&ft->six, s))
		if (ft->snd[s].hv == hv &&
		    memcmp(&ft->snd[s].key, k, sizeof(*k)) == 0)
			return s;
	return HNIL;
}

static uint64_t
frag_hash(const struct dec_pkt *pkt)
{
	struct {
		struct sg_addr	 src, dst;
		uint32_t	 id;
		uint32_t	 proto;
	} k;

	memset(&k, 0, sizeof(k));
	k.src = pkt->src;
	k.dst = pkt->dst;
	k.id = pkt->frag.id;
	k.proto = key_proto(pkt);
	return hash_bytes(&k, sizeof(k));
}

static bool
ctx_expired(const struct frag_table *ft, const struct frag_ctx *c,
    uint64_t now)
{
	(void)ft;
	return now > c->until;
}

/*
 * The context of this fragment's datagram, or a new one.  A context is
 * kept for the timeout after the last fragment it accepted, at least the
 * kernel's own reassembly time (ipfrag_time 30 s, ip6frag_time 60 s), so
 * every fragment the end host may still hold belongs to a context here.
 * When all are busy the new datagram gets none (NULL): recycling a busy
 * one would let its remaining fragments through unjudged.
 */
static struct frag_ctx *
ctx_get(struct frag_table *ft, const struct dec_pkt *pkt, uint64_t now)
{
	uint64_t	 hv = frag_hash(pkt), shv;
	struct frag_ctx	*c;
	struct frag_skey sk;
	uint32_t	 k, si;
	int		 held;

	for (k = hidx_first(&ft->ix, hv); k != HNIL;
	    k = hidx_next(&ft->ix, k)) {
		c = &ft->ctx[k];
		if (c->hv != hv || c->id != pkt->frag.id ||
		    (key_proto(pkt) != 0 && c->proto != pkt->frag.proto) ||
		    !sg_addr_eq(&c->src, &pkt->src) ||
		    !sg_addr_eq(&c->dst, &pkt->dst))
			continue;
		if (!ctx_expired(ft, c, now))
			return c;
		ctx_release(ft, c);
		ft->st.expired++;
		break;
	}
	/* The expired leave first: the oldest are at the head. */
	while ((k = ft->order.head) != HNIL &&
	    ctx_expired(ft, &ft->ctx[k], now)) {
		ctx_release(ft, &ft->ctx[k]);
		ft->st.expired++;
	}
	quota_sender(pkt, &sk);
	shv = hash_bytes(&sk, sizeof(sk));
	si = sender_find(ft, &sk, shv);
	held = si == HNIL ? 0 : (int)ft->snd[si].held;
	/*
	 * The last quarter of the contexts is for bound senders, each
	 * holding less than a quarter of its quota: first fragments of four
	 * forged MACs, a quarter each, filled the table and a phone's
	 * fragmented INVITE was dropped (an attacker's review), and so did
	 * three and a bound subscriber's own.
	 */
	if ((k = ft->free.head) == HNIL || held >= ft->per_sender ||
	    (ft->st.in_use >= (uint32_t)(ft->n - ft->n / 4) &&
	    ft->known != NULL && (held >= (ft->per_sender / 4 > 0 ?
	    ft->per_sender / 4 : 1) || !ft->known(ft->known_arg,
	    pkt->has_mac ? &pkt->smac : NULL, &pkt->src)))) {
		ft->st.full++;
		return NULL;
	}
	c = &ft->ctx[k];
	dlist_del(&ft->free, k);
	if (si == HNIL) {
		/* n slots, fewer than n senders hold the busy contexts. */
		si = dlist_pop_head(&ft->sfree);
		ft->snd[si].hv = shv;
		ft->snd[si].key = sk;
		ft->snd[si].held = 0;
		hidx_add(&ft->six, si, shv);
	}
	ft->snd[si].held++;
	c->sender = si;
	c->until = now + ft->timeout;
	ctx_place(ft, k);
	c->state = FS_OPEN;
	ft->st.in_use++;
	c->src = pkt->src;
	c->dst = pkt->dst;
	c->id = pkt->frag.id;
	c->proto = pkt->frag.offset == 0 || key_proto(pkt) != 0 ?
	    pkt->frag.proto : 0;
	c->has_mac = pkt->has_mac;
	c->mac = pkt->smac;
	c->hv = hv;
	c->total = 0;
	c->have = 0;
	c->maxend = 0;
	memset(c->seen, 0, sizeof(c->seen));
	hidx_add(&ft->ix, (uint32_t)(c - ft->ctx), hv);
	return c;
}

static bool
blocks_seen(const struct frag_ctx *c, uint32_t start, uint32_t end,
    bool *any)
{
	bool	 all = true;

	*any = false;
	for (uint32_t b = start / 8; b < (end + 7) / 8; b++) {
		if (c->seen[b / 8] & (1u << (b % 8)))
			*any = true;
		else
			all = false;
	}
	return all;
}

/* Everything about this fragment agrees with what the context holds. */
static bool
same_as_held(const struct frag_ctx *c, const struct dec_frag *f,
    uint32_t start, uint32_t end)
{
	bool	 any;

	if (!blocks_seen(c, start, end, &any) || end > c->maxend)
		return false;
	if (!f->more && c->total != end)
		return false;
	if (f->more && c->total != 0 && end > c->total)
		return false;
	return memcmp(c->buf + start, f->data, f->len) == 0;
}

static enum frag_result
ctx_poison(struct frag_table *ft, struct frag_ctx *c, uint64_t now,
    uint64_t *counter)
{
	(*counter)++;
	c->state = FS_DROPPED;
	ctx_touch(ft, c, now);
	return FRAG_BAD;
}

enum frag_result
frag_add(struct frag_table *ft, const struct dec_pkt *pkt, uint64_t now,
    const uint8_t **data, size_t *len)
{
	struct frag_ctx		*c;
	const struct dec_frag	*f = &pkt->frag;
	uint32_t		 start = f->offset, end = start + (uint32_t)f->len;
	bool			 bad, any;

	/* Every fragment but the last carries a multiple of 8 bytes. */
	bad = end > FRAG_MAX || (f->more && (f->len % 8) != 0) ||
	    (f->more && f->len == 0);
	if ((c = ctx_get(ft, pkt, now)) == NULL)
		return FRAG_BAD;	/* table full: counted there */
	/*
	 * One datagram, one sender: a fragment from another MAC is dropped
	 * (the end host would join it in) and changes nothing, whether the
	 * datagram is held or judged (a late copy from elsewhere).
	 */
	if (!same_sender(c, pkt)) {
		ft->st.other_mac++;
		return FRAG_BAD;
	}
	if (bad) {
		return ctx_poison(ft, c, now, &ft->st.oversize);
	}
	switch (c->state) {
	case FS_DROPPED:
		ft->st.late++;
		ctx_touch(ft, c, now);
		return FRAG_BAD;
	case FS_ACCEPTED:
		/* A late copy: the same verdict if it is the same bytes. */
		if (!same_as_held(c, f, start, end))
			return ctx_poison(ft, c, now, &ft->st.overlap);
		ft->st.late++;
		ctx_touch(ft, c, now);
		return FRAG_LATE;
	default:
		break;
	}
	ctx_touch(ft, c, now);
	if (blocks_seen(c, start, end, &any) && same_as_held(c, f, start,
	    end)) {
		/* An exact duplicate: the end host ignores it too. */
		ft->st.held++;
		return FRAG_HELD;
	}
	if (any)				/* RFC 5722: an overlap */
		return ctx_poison(ft, c, now, &ft->st.overlap);
	if (!f->more) {
		if (c->total != 0 || end < c->maxend)
			return ctx_poison(ft, c, now, &ft->st.overlap);
		c->total = end;
	} else if (c->total != 0 && end > c->total)
		return ctx_poison(ft, c, now, &ft->st.overlap);
	for (uint32_t b = start / 8; b < (end + 7) / 8; b++)
		c->seen[b / 8] |= (uint8_t)(1u << (b % 8));
	memcpy(c->buf + start, f->data, f->len);
	if (start == 0)
		c->proto = f->proto;	/* IPv6: the first fragment's */
	c->have += (uint32_t)f->len;
	if (end > c->maxend)
		c->maxend = end;
	if (c->total == 0 || c->have < c->total) {
		ft->st.held++;
		return FRAG_HELD;
	}
	/* have == total and no overlaps: every byte is present. */
	*data = c->buf;
	*len = c->total;
	ft->st.done++;
	c->state = FS_ACCEPTED;		/* until frag_judged() says */
	ft->last_done = (uint32_t)(c - ft->ctx);
	ft->last_proto = c->proto;
	return FRAG_DONE;
}

void
frag_judged(struct frag_table *ft, bool dropped)
{
	if (ft->last_done == HNIL)
		return;
	if (dropped)
		ft->ctx[ft->last_done].state = FS_DROPPED;
	ft->last_done = HNIL;
}

uint8_t
frag_last_proto(const struct frag_table *ft)
{
	return ft->last_proto;
}

void
frag_stats(const struct frag_table *ft, struct frag_stats *st)
{
	*st = ft->st;
}
