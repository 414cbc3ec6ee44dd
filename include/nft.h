/*
 * nft.h: the kernel half of the blacklist (SPEC 6).  The daemon owns a
 * table "inet sipguard": four sets with element timeouts, keyed
 *   blk4   ether_addr . ipv4_addr                 (m, i)
 *   blk6   ether_addr . ipv6_addr
 *   blk4p  ether_addr . ipv4_addr . inet_service  (m, i, source port)
 *   blk6p  ether_addr . ipv6_addr . inet_service
 * and a prerouting chain at priority -150 (before the filter hook, so
 * before any NFQUEUE rule in INPUT or FORWARD) that drops a match.  All
 * of it through netlink (libnftnl + libmnl), never by running nft.
 *
 * No worker ever waits on netlink: nft_offload() (the enforcer's hook,
 * called by workers) only queues the operation; the main loop sends the
 * queue with nft_flush(), in batches of one transaction each, every
 * tenth of a second and after each control command.
 */
#ifndef SG_NFT_H
#define SG_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enforce.h"

struct nft;

/* Create the table (replacing a stale one).  NULL, err filled, on error. */
struct nft	*nft_open(char *err, size_t errlen);
/* Remove the table unless `keep', and close. */
void		 nft_close(struct nft *, bool keep);
/*
 * The enforcer's offload hook (enf_set_offload): arg is the nft.  Queues
 * the add (or refresh) or removal of one (m, i) or (m, i, port) entry;
 * when the queue is full the operation is counted as overflow and the
 * next flush rebuilds the table.
 */
void		 nft_offload(void *, const struct bl_entry *, bool add);
/*
 * Send what is queued (main loop only).  Returns 1 when the table was
 * rebuilt after an overflow: the caller offloads every entry again.
 */
int		 nft_flush(struct nft *);
/*
 * The table is still in the kernel: 0.  It was gone (a firewall reload
 * flushed the ruleset) and is built again: 1, and the caller offloads
 * every entry again.  -1: neither (netlink error).  Main loop only.
 */
int		 nft_check(struct nft *);

/*
 * Admission in the kernel (SPEC 5) while DS1 holds.  The table also has
 *   kn4, kn6     ether_addr . ip address   bound devices (m, i), with
 *                                          their bindings' expiry
 *   prx4, prx6   the proxy's addresses
 * and, for SIP (UDP and TCP to `port') from an Ethernet interface to the
 * proxy, a jump to the chain `admit'.  That chain lets whitelisted
 * prefixes and bound devices return, and limits everyone else together,
 * before the queue: to `ceiling' packets a second always (what the
 * workers can judge: a flood faster than that would overflow the queue,
 * and fail-open would pass it unjudged), and to `rate' (burst `burst')
 * while DS1 holds.  In mode = detect the chain is empty: an IDS drops
 * nothing, in the kernel either.
 *
 * nft_configure: the mode, the port (0: no admission), the ceiling (0:
 * none) and the proxy's addresses;
 * 1 when the table had to be rebuilt (the caller offloads everything
 * again), 0, or -1.  nft_admission: on or off, replacing the chain's
 * rules in one transaction.  nft_known: the binding hook (workers):
 * queues (m, i) into kn4/kn6 until `expires' (clock_now() time).
 * nft_known_many: the same for many at once, sent now (main loop: at
 * start, and after a rebuild).
 */
/* Whitelisted prefixes the chain admit holds (a rule each, walked in
 * turn by every unknown packet: about 80 ns a rule); with more, no
 * admission in the kernel (logged). */
#define NFT_ADMIT_PREFIXES	32

struct nft_known_dev {
	struct sg_mac	 m;
	struct sg_addr	 i;
	uint64_t	 expires;
};
int		 nft_configure(struct nft *, bool detect, uint16_t port,
		    uint32_t ceiling, const struct sg_addr *proxy, int nproxy);
int		 nft_admission(struct nft *, bool detect, bool on,
		    uint32_t rate, uint32_t burst, const struct wl_spec *wl,
		    uint32_t nwl);
void		 nft_known(void *, const struct sg_mac *, const struct sg_addr *,
		    uint64_t expires);
int		 nft_known_many(struct nft *, const struct nft_known_dev *,
		    uint32_t count);

struct nft_stats {
	uint64_t	 known;			/* bound devices sent */
	uint64_t	 admissions;		/* times admission came on */
	uint64_t	 added, removed, errors;
	uint64_t	 batches, resyncs;	/* transactions sent; rebuilds */
	uint64_t	 restored;		/* the table found gone, rebuilt */
	uint64_t	 queued, overflow;	/* operations queued; lost */
	uint32_t	 pending;		/* in the queue now */
};
void		 nft_stats(struct nft *, struct nft_stats *);

#endif
