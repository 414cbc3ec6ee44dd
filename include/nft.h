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
 * Calls are serialised inside; any thread may call them.
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
/* Add (or refresh) / remove one (m, i) or (m, i, port) entry. */
int		 nft_add(struct nft *, const struct bl_key *, uint64_t ttl_ns);
int		 nft_del(struct nft *, const struct bl_key *);
/* The enforcer's offload hook (enf_set_offload): arg is the nft. */
void		 nft_offload(void *, const struct bl_entry *, bool add);

struct nft_stats {
	uint64_t	 added, removed, errors;
};
void		 nft_stats(struct nft *, struct nft_stats *);

#endif
