/*
 * nft.c: kernel offload of (m, i) and (m, i, port) blocks, through one
 * netlink socket and nf_tables batches.  The rules are the ones nft(8)
 * would build for
 *   ether saddr . ip saddr @blk4 drop
 *   ether saddr . ip6 saddr @blk6 drop
 *   ether saddr . ip saddr . udp sport @blk4p drop   (and tcp, and ip6)
 * in a prerouting chain at priority -150: a listed source's packets are
 * dropped before they ever reach the queue.  Then admission (SPEC 5, in
 * the kernel while DS1 holds):
 *   ip daddr @prx4 udp dport PORT jump admit        (and tcp, and ip6)
 * where the chain admit holds
 *   ether saddr . ip saddr @kn4 return               (bound devices)
 *   ether saddr . ip6 saddr @kn6 return
 *   [ether saddr MAC] ip saddr PREFIX return         (each whitelisted)
 *   limit rate over RATE/second burst BURST packets counter drop
 * with RATE the workers' admission rate while DS1 holds, and otherwise
 * the ceiling: what user space can judge, never more (no fail-open).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "clock.h"
#include "log.h"
#include "nft.h"

#define TABLE		"sipguard"
#define CHAIN		"prerouting"
#define ADMIT		"admit"
#define PRIORITY	(-150)

/* Operations queued between two flushes, and per netlink batch (three
 * messages each, well inside the batch buffer). */
#define NFT_QUEUE	16384
#define NFT_BATCH_OPS	64
#define NFT_PROXIES	64

/* nft's data type numbers, for how `nft list` prints the sets. */
#define TYPE_IPV4	7
#define TYPE_IPV6	8
#define TYPE_ETHER	9
#define TYPE_PORT	13
#define CONCAT(a, b)	(((a) << 6) | (b))

enum { S4, S6, S4P, S6P, KN4, KN6, PX4, PX6, NSETS };

static const struct {
	const char	*name;
	uint32_t	 type, len;
} sets[NSETS] = {
	[S4] = { "blk4", CONCAT(TYPE_ETHER, TYPE_IPV4), 8 + 4 },
	[S6] = { "blk6", CONCAT(TYPE_ETHER, TYPE_IPV6), 8 + 16 },
	[S4P] = { "blk4p", CONCAT(CONCAT(TYPE_ETHER, TYPE_IPV4), TYPE_PORT),
	    8 + 4 + 4 },
	[S6P] = { "blk6p", CONCAT(CONCAT(TYPE_ETHER, TYPE_IPV6), TYPE_PORT),
	    8 + 16 + 4 },
	[KN4] = { "kn4", CONCAT(TYPE_ETHER, TYPE_IPV4), 8 + 4 },
	[KN6] = { "kn6", CONCAT(TYPE_ETHER, TYPE_IPV6), 8 + 16 },
	[PX4] = { "prx4", TYPE_IPV4, 4 },
	[PX6] = { "prx6", TYPE_IPV6, 16 },
};

/*
 * A kernel operation waiting for the main loop.  Workers only ever queue
 * (a copy under `qlock', no system call); nft_flush() sends the queue in
 * netlink batches.  Two arrays: the flush swaps them, so a worker never
 * waits for more than a pointer swap.
 */
struct nft_op {
	struct bl_key	 key;
	uint64_t	 ttl_ms;	/* add: the entry's remaining life */
	bool		 add;
	bool		 known;		/* kn4/kn6 (a binding), not blk */
};

struct nft {
	struct mnl_socket	*nl;
	uint32_t		 portid;
	uint32_t		 seq;
	uint32_t		 acks;		/* ACKs the batch asked for */
	pthread_mutex_t		 lock;		/* the socket, st */
	struct nft_stats	 st;
	pthread_mutex_t		 qlock;		/* the queue */
	struct nft_op		*q, *spare;
	uint32_t		 qlen;
	bool			 lost;		/* an op did not fit */
	uint64_t		 queued, overflow;
	/* admission: what the chain admit holds (rebuilt with the table) */
	uint16_t		 port;		/* 0: no admission rules */
	uint32_t		 ceiling;	/* always, DS1 or not; 0: none */
	bool			 detect;	/* mode = detect: drop nothing */
	struct sg_addr		 proxy[NFT_PROXIES];
	int			 nproxy;
	bool			 admitting;
	uint32_t		 rate, burst;
	struct wl_spec		*wl;
	uint32_t		 nwl;
	char			 buf[65536];
};

/* ---- batches ------------------------------------------------------------- */

static struct nlmsghdr *
msg(struct nft *n, struct mnl_nlmsg_batch *b, int type, uint16_t flags)
{
	if (flags & NLM_F_ACK)
		n->acks++;
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), type,
	    NFPROTO_INET, flags, n->seq++);
}

static void
batch_hdr(struct nft *n, struct mnl_nlmsg_batch *b, int type)
{
	struct nlmsghdr		*nlh = mnl_nlmsg_put_header(
				    mnl_nlmsg_batch_current(b));
	struct nfgenmsg		*g;

	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = n->seq++;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(NFNL_SUBSYS_NFTABLES);
	mnl_nlmsg_batch_next(b);
}

/*
 * Send a batch and read its answers: an ACK per message that asked, or
 * an error, after which the kernel aborts the batch and sends no more.
 * Bounded by a 1 s wait.  0, or -1 with errno set.
 */
static int
run_batch(struct nft *n, struct mnl_nlmsg_batch *b)
{
	struct pollfd	 pfd;
	int		 ret, err = 0;
	uint32_t	 want = n->acks;

	n->acks = 0;
	batch_hdr(n, b, NFNL_MSG_BATCH_END);
	if (mnl_socket_sendto(n->nl, mnl_nlmsg_batch_head(b),
	    mnl_nlmsg_batch_size(b)) < 0)
		return -1;
	pfd.fd = mnl_socket_get_fd(n->nl);
	pfd.events = POLLIN;
	while (want > 0 && err == 0) {
		if (poll(&pfd, 1, 1000) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
		ret = (int)mnl_socket_recvfrom(n->nl, n->buf, sizeof(n->buf));
		if (ret <= 0)
			return -1;
		for (struct nlmsghdr *h = (struct nlmsghdr *)n->buf;
		    mnl_nlmsg_ok(h, ret); h = mnl_nlmsg_next(h, &ret)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			{
				struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

				if (e->error != 0 && err == 0)
					err = -e->error;
				if (want > 0)
					want--;
			}
		}
	}
	if (err != 0) {
		/* Drain whatever else the aborted batch produced. */
		while (poll(&pfd, 1, 0) == 1 && mnl_socket_recvfrom(n->nl,
		    n->buf, sizeof(n->buf)) > 0)
			;
		errno = err;
		return -1;
	}
	return 0;
}

/* A transaction: begun here, its messages added, sent by batch_send(). */
static struct mnl_nlmsg_batch *
batch_begin(struct nft *n)
{
	struct mnl_nlmsg_batch	*b;

	b = mnl_nlmsg_batch_start(n->buf, sizeof(n->buf));
	batch_hdr(n, b, NFNL_MSG_BATCH_BEGIN);
	return b;
}

static int
batch_send(struct nft *n, struct mnl_nlmsg_batch *b)
{
	int	 rc = run_batch(n, b);

	mnl_nlmsg_batch_stop(b);
	return rc;
}

/* ---- the ruleset ------------------------------------------------------------ */

static void	elem_msg(struct nft *, struct mnl_nlmsg_batch *, int,
		    const uint8_t *, uint32_t, int, uint64_t);

static void
put_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(r, e);
}

static void
meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	put_expr(r, e);
}

static void
cmp_eq(struct nftnl_rule *r, uint32_t sreg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	put_expr(r, e);
}

static void
payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
    uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	put_expr(r, e);
}

/*
 * ether saddr . ip[6] saddr [. udp/tcp sport] @set drop: the guards nft
 * adds (an Ethernet interface, the right ethertype, the L4 protocol),
 * then the key in consecutive 32-bit registers, the lookup, the drop.
 */
static struct nftnl_rule *
rule_in(const char *chain)
{
	struct nftnl_rule	*r = nftnl_rule_alloc();

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	return r;
}

static void
verdict(struct nftnl_rule *r, int v, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)v);
	if (chain != NULL)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	put_expr(r, e);
}

static void
lookup(struct nftnl_rule *r, uint32_t sreg, int set)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, sets[set].name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, (uint32_t)set + 1);
	put_expr(r, e);
}

/* An Ethernet frame of the family: the guards of every rule here. */
static void
ether_family(struct nftnl_rule *r, bool v6)
{
	uint16_t	 arphrd = ARPHRD_ETHER;
	uint16_t	 etype = htons(v6 ? 0x86dd : 0x0800);

	meta(r, NFT_META_IIFTYPE, NFT_REG_1);
	cmp_eq(r, NFT_REG_1, &arphrd, sizeof(arphrd));
	payload(r, NFT_PAYLOAD_LL_HEADER, 12, 2, NFT_REG_1);
	cmp_eq(r, NFT_REG_1, &etype, sizeof(etype));
}

/* ip[6] daddr @prx[46] udp|tcp dport PORT jump admit */
static struct nftnl_rule *
jump_rule(bool v6, uint8_t l4, uint16_t port)
{
	struct nftnl_rule	*r = rule_in(CHAIN);
	uint16_t		 p = htons(port);

	ether_family(r, v6);
	meta(r, NFT_META_L4PROTO, NFT_REG_1);
	cmp_eq(r, NFT_REG_1, &l4, sizeof(l4));
	payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 24 : 16, v6 ? 16 : 4,
	    NFT_REG_1);
	lookup(r, NFT_REG_1, v6 ? PX6 : PX4);
	payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
	cmp_eq(r, NFT_REG_1, &p, sizeof(p));
	verdict(r, NFT_JUMP, ADMIT);
	return r;
}

/* [ether saddr MAC] ip[6] saddr PREFIX return: a whitelisted prefix is
 * never limited (a pinned one from its MAC). */
static struct nftnl_rule *
prefix_rule(const struct wl_spec *w)
{
	const struct sg_cidr	*c = &w->net;
	struct nftnl_rule	*r = rule_in(ADMIT);
	bool			 v6 = c->net.family == SG_AF_INET6;
	uint32_t		 len = v6 ? 16 : 4;
	uint8_t			 mask[16], zero[16];
	struct nftnl_expr	*e;

	memset(mask, 0, sizeof(mask));
	memset(zero, 0, sizeof(zero));
	for (int bit = 0; bit < c->len; bit++)
		mask[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	ether_family(r, v6);
	/* Pinned: from its MAC only, as in user space. */
	if (w->pinned) {
		payload(r, NFT_PAYLOAD_LL_HEADER, 6, 6, NFT_REG_1);
		cmp_eq(r, NFT_REG_1, w->mac.b, 6);
	}
	payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, len, NFT_REG_1);
	e = nftnl_expr_alloc("bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	put_expr(r, e);
	cmp_eq(r, NFT_REG_1, c->net.a, len);
	verdict(r, NFT_RETURN, NULL);
	return r;
}

/* ether saddr . ip[6] saddr @kn[46] return: bound devices pass. */
static struct nftnl_rule *
known_rule(bool v6)
{
	struct nftnl_rule	*r = rule_in(ADMIT);

	ether_family(r, v6);
	payload(r, NFT_PAYLOAD_LL_HEADER, 6, 6, NFT_REG32_00);
	payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4,
	    NFT_REG32_02);
	lookup(r, NFT_REG32_00, v6 ? KN6 : KN4);
	verdict(r, NFT_RETURN, NULL);
	return r;
}

/* limit rate over RATE/second burst BURST packets counter drop: the
 * counter says how much of a flood the kernel took. */
static struct nftnl_rule *
limit_rule(uint32_t rate, uint32_t burst)
{
	struct nftnl_rule	*r = rule_in(ADMIT);
	struct nftnl_expr	*e = nftnl_expr_alloc("limit");

	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, burst);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, NFT_LIMIT_F_INV);
	put_expr(r, e);
	put_expr(r, nftnl_expr_alloc("counter"));
	verdict(r, NF_DROP, NULL);
	return r;
}

/*
 * ether saddr . ip[6] saddr [. udp/tcp sport] @set drop: the guards nft
 * adds (an Ethernet interface, the right ethertype, the L4 protocol),
 * then the key in consecutive 32-bit registers, the lookup, the drop.
 */
static struct nftnl_rule *
build_rule(int set, uint8_t l4)
{
	struct nftnl_rule	*r = rule_in(CHAIN);
	bool			 v6 = set == S6 || set == S6P;
	bool			 port = set == S4P || set == S6P;

	ether_family(r, v6);
	if (port) {
		meta(r, NFT_META_L4PROTO, NFT_REG_1);
		cmp_eq(r, NFT_REG_1, &l4, sizeof(l4));
	}
	payload(r, NFT_PAYLOAD_LL_HEADER, 6, 6, NFT_REG32_00);
	payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4,
	    NFT_REG32_02);
	if (port)
		payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2,
		    v6 ? NFT_REG32_06 : NFT_REG32_03);
	lookup(r, NFT_REG32_00, set);
	verdict(r, NF_DROP, NULL);
	return r;
}

static void
add_rule(struct nft *n, struct mnl_nlmsg_batch *b, struct nftnl_rule *r)
{
	struct nlmsghdr	*nlh = msg(n, b, NFT_MSG_NEWRULE, NLM_F_APPEND |
			    NLM_F_CREATE | NLM_F_ACK);

	nftnl_rule_nlmsg_build_payload(nlh, r);
	mnl_nlmsg_batch_next(b);
	nftnl_rule_free(r);
}

/*
 * The chain admit as it should be now: emptied, then, while admitting,
 * its rules.  Added to the caller's transaction.
 */
static void
admit_msgs(struct nft *n, struct mnl_nlmsg_batch *b)
{
	struct nftnl_rule	*r = rule_in(ADMIT);
	struct nlmsghdr		*nlh;

	nlh = msg(n, b, NFT_MSG_DELRULE, NLM_F_ACK);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	mnl_nlmsg_batch_next(b);
	nftnl_rule_free(r);
	/* More prefixes than a transaction holds (a rule each, walked in
	 * turn): no admission in the kernel rather than a limit that could
	 * fall on a whitelisted peer; user space still admits. */
	if (n->port == 0 || n->detect || (!n->admitting && n->ceiling == 0) ||
	    n->nwl > NFT_ADMIT_PREFIXES)
		return;
	/* Bound devices first: the common case returns at once. */
	add_rule(n, b, known_rule(false));
	add_rule(n, b, known_rule(true));
	for (uint32_t k = 0; k < n->nwl; k++)
		add_rule(n, b, prefix_rule(&n->wl[k]));
	if (n->admitting)
		add_rule(n, b, limit_rule(n->rate, n->burst));
	else
		add_rule(n, b, limit_rule(n->ceiling, n->ceiling / 10 + 1));
}

/* The proxy's addresses in prx4/prx6, replacing what they held. */
static void
proxy_msgs(struct nft *n, struct mnl_nlmsg_batch *b)
{
	for (int set = PX4; set <= PX6; set++) {
		struct nftnl_set	*s = nftnl_set_alloc();
		struct nlmsghdr		*nlh;

		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
		nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
		nftnl_set_set_str(s, NFTNL_SET_NAME, sets[set].name);
		nlh = msg(n, b, NFT_MSG_DELSETELEM, NLM_F_ACK);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		mnl_nlmsg_batch_next(b);
		nftnl_set_free(s);
	}
	for (int k = 0; k < n->nproxy; k++) {
		bool	 v6 = n->proxy[k].family == SG_AF_INET6;

		if (n->proxy[k].family != SG_AF_INET && !v6)
			continue;
		elem_msg(n, b, v6 ? PX6 : PX4, n->proxy[k].a, v6 ? 16 : 4,
		    NFT_MSG_NEWSETELEM, 0);
	}
}

static int
create(struct nft *n)
{
	struct mnl_nlmsg_batch	*b;
	struct nftnl_table	*t;
	struct nftnl_chain	*c;
	struct nlmsghdr		*nlh;
	static const struct { int set; uint8_t l4; } rules[] = {
		{ S4, 0 }, { S6, 0 }, { S4P, 17 }, { S4P, 6 }, { S6P, 17 },
		{ S6P, 6 },
	};

	b = batch_begin(n);

	/* Add, delete, add: a stale table from a crash goes, whole. */
	t = nftnl_table_alloc();
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, TABLE);
	nlh = msg(n, b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK);
	nftnl_table_nlmsg_build_payload(nlh, t);
	mnl_nlmsg_batch_next(b);
	nlh = msg(n, b, NFT_MSG_DELTABLE, NLM_F_ACK);
	nftnl_table_nlmsg_build_payload(nlh, t);
	mnl_nlmsg_batch_next(b);
	nlh = msg(n, b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK);
	nftnl_table_nlmsg_build_payload(nlh, t);
	mnl_nlmsg_batch_next(b);
	nftnl_table_free(t);

	for (int k = 0; k < NSETS; k++) {
		struct nftnl_set *s = nftnl_set_alloc();

		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
		nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
		nftnl_set_set_str(s, NFTNL_SET_NAME, sets[k].name);
		nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)k + 1);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, sets[k].type);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sets[k].len);
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT);
		nlh = msg(n, b, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_ACK);
		nftnl_set_nlmsg_build_payload(nlh, s);
		mnl_nlmsg_batch_next(b);
		nftnl_set_free(s);
	}

	c = nftnl_chain_alloc();
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, ADMIT);
	nlh = msg(n, b, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_ACK);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	mnl_nlmsg_batch_next(b);
	nftnl_chain_free(c);

	c = nftnl_chain_alloc();
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, CHAIN);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_PRE_ROUTING);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, PRIORITY);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = msg(n, b, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_ACK);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	mnl_nlmsg_batch_next(b);
	nftnl_chain_free(c);

	for (size_t k = 0; k < sizeof(rules) / sizeof(rules[0]); k++)
		add_rule(n, b, build_rule(rules[k].set, rules[k].l4));
	/* UDP, TCP and SCTP (which carries SIP too, and is dropped in
	 * user space: engine.c's sctp_unread()), IPv4 then IPv6. */
	if (n->port != 0)
		for (int k = 0; k < 6; k++)
			add_rule(n, b, jump_rule(k >= 3, k % 3 == 0 ? 17 :
			    k % 3 == 1 ? 6 : 132, n->port));
	proxy_msgs(n, b);
	admit_msgs(n, b);
	return batch_send(n, b);
}

struct nft *
nft_open(char *err, size_t errlen)
{
	struct nft	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&n->lock, NULL);
	pthread_mutex_init(&n->qlock, NULL);
	n->seq = (uint32_t)(clock_now() / NS_PER_SEC);
	if ((n->q = calloc(NFT_QUEUE, sizeof(*n->q))) == NULL ||
	    (n->spare = calloc(NFT_QUEUE, sizeof(*n->spare))) == NULL) {
		snprintf(err, errlen, "out of memory");
		nft_close(n, true);
		return NULL;
	}
	if ((n->nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "netlink: %s", strerror(errno));
		nft_close(n, true);
		return NULL;
	}
	n->portid = mnl_socket_get_portid(n->nl);
	if (create(n) == -1) {
		snprintf(err, errlen, "creating table inet %s: %s", TABLE,
		    strerror(errno));
		nft_close(n, true);
		return NULL;
	}
	return n;
}

static int
del_table(struct nft *n)
{
	struct mnl_nlmsg_batch	*b;
	struct nftnl_table	*t = nftnl_table_alloc();
	struct nlmsghdr		*nlh;

	b = batch_begin(n);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, TABLE);
	nlh = msg(n, b, NFT_MSG_DELTABLE, NLM_F_ACK);
	nftnl_table_nlmsg_build_payload(nlh, t);
	mnl_nlmsg_batch_next(b);
	nftnl_table_free(t);
	return batch_send(n, b);
}

void
nft_close(struct nft *n, bool keep)
{
	if (n == NULL)
		return;
	if (n->nl != NULL) {
		if (keep)
			nft_flush(n);	/* what the workers queued last */
		else
			del_table(n);
		mnl_socket_close(n->nl);
	}
	pthread_mutex_destroy(&n->lock);
	pthread_mutex_destroy(&n->qlock);
	free(n->q);
	free(n->spare);
	free(n->wl);
	free(n);
}

/* ---- elements ------------------------------------------------------------------ */

/* The set and the key bytes nf_tables expects (32-bit padded fields). */
static int
elem_key(const struct bl_key *k, bool known, uint8_t key[32], uint32_t *len)
{
	bool	 v6 = k->i.family == SG_AF_INET6;
	int	 set;

	if (!k->has_m || (k->i.family != SG_AF_INET && !v6))
		return -1;		/* no MAC: not expressible here */
	memset(key, 0, 32);
	memcpy(key, k->m, 6);
	memcpy(key + 8, k->i.a, v6 ? 16 : 4);
	if (known)
		set = v6 ? KN6 : KN4;
	else if (k->kind == BL_MIP) {
		uint16_t p = htons(k->port);

		memcpy(key + 8 + (v6 ? 16 : 4), &p, 2);
		set = v6 ? S6P : S4P;
	} else
		set = v6 ? S6 : S4;
	*len = sets[set].len;
	return set;
}

/* One element message: the set from the key, with a timeout if any. */
static void
elem_msg(struct nft *n, struct mnl_nlmsg_batch *b, int set,
    const uint8_t *key, uint32_t len, int type, uint64_t ttl_ms)
{
	struct nftnl_set	*s = nftnl_set_alloc();
	struct nftnl_set_elem	*e = nftnl_set_elem_alloc();
	struct nlmsghdr		*nlh;

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, sets[set].name);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
	if (type == NFT_MSG_NEWSETELEM && ttl_ms > 0)
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, ttl_ms);
	nftnl_set_elem_add(s, e);
	nlh = msg(n, b, type, (type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0) |
	    NLM_F_ACK);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	mnl_nlmsg_batch_next(b);
	nftnl_set_free(s);
}

/*
 * One operation as messages that cannot fail on the element's state
 * (any error aborts the whole batch): an add is add (no-op if present),
 * delete, add with the new timeout, since the kernel keeps an existing
 * element's old one; a delete is add (so it exists), delete.
 */
static bool
op_msgs(struct nft *n, struct mnl_nlmsg_batch *b, const struct nft_op *op)
{
	uint8_t		 key[32];
	uint32_t	 len;
	int		 set;

	if ((set = elem_key(&op->key, op->known, key, &len)) < 0)
		return false;
	elem_msg(n, b, set, key, len, NFT_MSG_NEWSETELEM, 1);
	elem_msg(n, b, set, key, len, NFT_MSG_DELSETELEM, 0);
	if (op->add)
		elem_msg(n, b, set, key, len, NFT_MSG_NEWSETELEM, op->ttl_ms);
	return true;
}

/* Ops [0, nops) in one transaction: 0, or -1 (none applied). */
static int
send_ops(struct nft *n, const struct nft_op *ops, uint32_t nops)
{
	struct mnl_nlmsg_batch	*b = batch_begin(n);
	uint32_t		 any = 0;

	for (uint32_t k = 0; k < nops; k++)
		any += op_msgs(n, b, &ops[k]);
	if (any == 0) {
		n->acks = 0;
		mnl_nlmsg_batch_stop(b);
		return 0;
	}
	n->st.batches++;
	return batch_send(n, b);
}

static void
count_ops(struct nft *n, const struct nft_op *ops, uint32_t nops, int rc)
{
	char	 ms[SG_MACSTRLEN], is[SG_ADDRSTRLEN];

	for (uint32_t k = 0; k < nops; k++) {
		struct sg_mac	 m;

		if (rc == -1) {
			n->st.errors++;
			continue;
		}
		if (ops[k].known)
			n->st.known++;
		else if (ops[k].add)
			n->st.added++;
		else
			n->st.removed++;
		memcpy(m.b, ops[k].key.m, sizeof(m.b));
		log_debug("nft: %s %s %s port %u", ops[k].add ? "add" :
		    "delete", sg_mac_str(&m, ops[k].key.has_m, ms, sizeof(ms)),
		    sg_addr_str(&ops[k].key.i, is, sizeof(is)),
		    ops[k].key.kind == BL_MIP ? ops[k].key.port : 0);
	}
}

int
nft_flush(struct nft *n)
{
	struct nft_op	*ops;
	uint32_t	 nops;
	bool		 lost;

	if (n == NULL)
		return 0;
	pthread_mutex_lock(&n->qlock);
	ops = n->q;
	nops = n->qlen;
	lost = n->lost;
	n->q = n->spare;
	n->spare = ops;
	n->qlen = 0;
	n->lost = false;
	pthread_mutex_unlock(&n->qlock);

	pthread_mutex_lock(&n->lock);
	if (lost) {
		/*
		 * An operation was lost (a delete, maybe): the kernel's sets
		 * no longer follow the blacklist.  Replace the table in one
		 * transaction; the caller offloads every entry again.
		 */
		if (create(n) == -1)
			n->st.errors++;
		n->st.resyncs++;
		pthread_mutex_unlock(&n->lock);
		return 1;
	}
	for (uint32_t k = 0; k < nops; k += NFT_BATCH_OPS) {
		uint32_t	 m = nops - k < NFT_BATCH_OPS ? nops - k :
				    NFT_BATCH_OPS;

		if (send_ops(n, ops + k, m) == 0) {
			count_ops(n, ops + k, m, 0);
			continue;
		}
		/* One bad operation aborts its batch: the others alone. */
		for (uint32_t j = 0; j < m; j++)
			count_ops(n, ops + k + j, 1, send_ops(n, ops + k + j,
			    1));
	}
	pthread_mutex_unlock(&n->lock);
	return 0;
}

/*
 * Is the table still there?  `systemctl restart nftables' or any `nft
 * flush ruleset' removes it, and with it the kernel's blacklist.  One
 * transaction that creates the table only if it is missing (EXCL): it
 * fails with EEXIST when all is well, which aborts it and changes
 * nothing.  If it was missing, the whole table is built again.
 */
int
nft_check(struct nft *n)
{
	struct mnl_nlmsg_batch	*b;
	struct nftnl_table	*t;
	struct nlmsghdr		*nlh;
	int			 rc;

	if (n == NULL)
		return 0;
	pthread_mutex_lock(&n->lock);
	b = batch_begin(n);
	t = nftnl_table_alloc();
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, TABLE);
	nlh = msg(n, b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL |
	    NLM_F_ACK);
	nftnl_table_nlmsg_build_payload(nlh, t);
	mnl_nlmsg_batch_next(b);
	nftnl_table_free(t);
	rc = batch_send(n, b);
	if (rc == -1 && errno == EEXIST) {
		pthread_mutex_unlock(&n->lock);
		return 0;
	}
	if (rc == 0 && create(n) == 0) {
		n->st.restored++;
		pthread_mutex_unlock(&n->lock);
		return 1;
	}
	n->st.errors++;
	pthread_mutex_unlock(&n->lock);
	return -1;
}

static void
queue_op(struct nft *n, const struct bl_key *k, uint64_t ms, bool add,
    bool known)
{
	struct nft_op	*op;

	pthread_mutex_lock(&n->qlock);
	if (n->qlen == NFT_QUEUE) {
		n->overflow++;
		n->lost = true;
	} else {
		op = &n->q[n->qlen++];
		op->key = *k;
		op->ttl_ms = ms;
		op->add = add;
		op->known = known;
		n->queued++;
	}
	pthread_mutex_unlock(&n->qlock);
}

void
nft_offload(void *arg, const struct bl_entry *b, bool add)
{
	struct nft	*n = arg;
	uint64_t	 now, ms = 0;

	if (n == NULL || !b->key.has_m)
		return;
	if (add) {
		/* The entry's remaining life: it carries absolute packet
		 * time. */
		now = clock_now();
		ms = (b->expires > now ? b->expires - now : b->expires -
		    b->added) / 1000000ULL;
		if (ms == 0)
			ms = 1;
	}
	queue_op(n, &b->key, ms, add, false);
}

/* ---- admission ---------------------------------------------------------------- */

int
nft_configure(struct nft *n, bool detect, uint16_t port, uint32_t ceiling,
    const struct sg_addr *proxy, int nproxy)
{
	struct mnl_nlmsg_batch	*b;
	int			 rc = 0;
	bool			 rebuild;

	if (n == NULL)
		return 0;
	pthread_mutex_lock(&n->lock);
	rebuild = port != n->port;
	n->port = port;
	n->ceiling = ceiling;
	n->detect = detect;
	n->nproxy = nproxy < NFT_PROXIES ? nproxy : NFT_PROXIES;
	memcpy(n->proxy, proxy, (size_t)n->nproxy * sizeof(*proxy));
	if (rebuild) {
		/* The jump rules name the port: the table anew. */
		if (create(n) == -1) {
			n->st.errors++;
			rc = -1;
		} else
			rc = 1;
	} else {
		b = batch_begin(n);
		proxy_msgs(n, b);
		admit_msgs(n, b);
		if (batch_send(n, b) == -1) {
			n->st.errors++;
			rc = -1;
		}
	}
	pthread_mutex_unlock(&n->lock);
	return rc;
}

int
nft_admission(struct nft *n, bool detect, bool on, uint32_t rate,
    uint32_t burst, const struct wl_spec *wl, uint32_t nwl)
{
	struct mnl_nlmsg_batch	*b;
	struct wl_spec		*copy = NULL;
	int			 rc;

	if (n == NULL)
		return 0;
	if (nwl > 0) {
		if ((copy = calloc(nwl, sizeof(*copy))) == NULL)
			return -1;
		memcpy(copy, wl, nwl * sizeof(*wl));
	}
	pthread_mutex_lock(&n->lock);
	free(n->wl);
	n->wl = copy;
	n->nwl = copy != NULL ? nwl : 0;
	n->detect = detect;
	n->admitting = on;
	n->rate = rate > 0 ? rate : 1;
	n->burst = burst > 0 ? burst : 1;
	b = batch_begin(n);
	admit_msgs(n, b);
	if ((rc = batch_send(n, b)) == -1)
		n->st.errors++;
	else
		n->st.admissions += on;
	pthread_mutex_unlock(&n->lock);
	return rc;
}

/* The remaining life of something that ends at `expires' (clock_now()). */
static uint64_t
life_ms(uint64_t expires, uint64_t now)
{
	uint64_t	 ms = expires > now ? (expires - now) / 1000000ULL : 0;

	return ms > 0 ? ms : 1;
}

void
nft_known(void *arg, const struct sg_mac *m, const struct sg_addr *i,
    uint64_t expires)
{
	struct nft	*n = arg;
	struct bl_key	 k;

	if (n == NULL || n->port == 0)
		return;
	memset(&k, 0, sizeof(k));
	k.kind = BL_MI;
	k.has_m = true;
	memcpy(k.m, m->b, sizeof(k.m));
	k.i = *i;
	queue_op(n, &k, life_ms(expires, clock_now()), true, true);
}

int
nft_known_many(struct nft *n, const struct nft_known_dev *dev, uint32_t count)
{
	struct nft_op	 ops[NFT_BATCH_OPS];
	uint64_t	 now = clock_now();
	int		 rc = 0;

	if (n == NULL || n->port == 0)
		return 0;
	pthread_mutex_lock(&n->lock);
	for (uint32_t k = 0; k < count; k += NFT_BATCH_OPS) {
		uint32_t	 m = count - k < NFT_BATCH_OPS ? count - k :
				    NFT_BATCH_OPS;

		memset(ops, 0, sizeof(ops));
		for (uint32_t j = 0; j < m; j++) {
			ops[j].key.kind = BL_MI;
			ops[j].key.has_m = true;
			memcpy(ops[j].key.m, dev[k + j].m.b, 6);
			ops[j].key.i = dev[k + j].i;
			ops[j].ttl_ms = life_ms(dev[k + j].expires, now);
			ops[j].add = true;
			ops[j].known = true;
		}
		if (send_ops(n, ops, m) == -1) {
			n->st.errors++;
			rc = -1;
		} else
			n->st.known += m;
	}
	pthread_mutex_unlock(&n->lock);
	return rc;
}

void
nft_stats(struct nft *n, struct nft_stats *st)
{
	pthread_mutex_lock(&n->lock);
	*st = n->st;
	pthread_mutex_unlock(&n->lock);
	pthread_mutex_lock(&n->qlock);
	st->queued = n->queued;
	st->overflow = n->overflow;
	st->pending = n->qlen;
	pthread_mutex_unlock(&n->qlock);
}
