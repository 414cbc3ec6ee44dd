/*
 * enforce.h: the policy enforcer of SPEC 6.  The blacklist is checked
 * before anything else; entries expire (blacklist.ttl) and are keyed by
 * what an offender cannot forge cheaply, so forged traffic can never get
 * an innocent party listed:
 *   BL_K    the full tuple K = {m, i, s, d}   (module I spoof cases)
 *   BL_MI   (m, i)                            (flood offender, host MAC)
 *   BL_MIP  (m, i, source port)               (offender behind NAT)
 * Whitelisted sources are never listed.  In mode = detect nothing is
 * listed and the would-be action is reported as a notice.  The table has
 * a fixed size; when full the oldest entry is recycled (counted).
 */
#ifndef SG_ENFORCE_H
#define SG_ENFORCE_H

#include <stdbool.h>
#include <stdint.h>

#include "alarm.h"
#include "conf.h"
#include "sipguard.h"

enum bl_kind {
	BL_K = 1,
	BL_MI,
	BL_MIP,
};

struct bl_key {
	uint8_t		 kind;		/* enum bl_kind */
	uint8_t		 has_m;
	uint8_t		 m[6];
	struct sg_addr	 i;
	struct sg_addr	 s;		/* BL_K only */
	uint16_t	 port;		/* BL_MIP only */
	uint8_t		 pad[6];
	uint64_t	 dh;		/* BL_K only */
};

struct bl_entry {
	struct bl_key	 key;
	uint64_t	 added, expires;
	uint64_t	 hits;
	char		 why[24];	/* alarm type or case that listed it */
	char		 d[SG_ID_MAX];	/* identity, for display (BL_K) */
};

struct enf_stats {
	uint32_t	 entries, capacity;
	uint64_t	 added, refreshed, removed, evicted, expired;
	uint64_t	 refused;	/* a K that found only blocks: full */
	uint64_t	 hits_l3, hits_k;
};

/* Kernel offload hook: called for BL_MI/BL_MIP adds and removals. */
typedef void	(*enf_offload)(void *, const struct bl_entry *, bool add);

struct enforcer;
struct whitelist;

struct enforcer	*enf_create(const struct sg_conf *);
void		 enf_destroy(struct enforcer *);
void		 enf_set_conf(struct enforcer *, const struct sg_conf *);
void		 enf_set_offload(struct enforcer *, enf_offload, void *);
/* Sources it lets through are never listed (a pinned entry: its MAC). */
void		 enf_set_whitelist(struct enforcer *, const struct whitelist *);

void		 enf_key_k(struct bl_key *, const struct sg_tuple *);
void		 enf_key_mi(struct bl_key *, const struct sg_tuple *);
void		 enf_key_mip(struct bl_key *, const struct sg_tuple *);

/* Before parsing: is (m, i) or (m, i, port) listed? */
bool		 enf_check_l3(struct enforcer *, const struct sg_tuple *,
		    uint64_t now);
/* After parsing (not for REGISTER): is K listed? */
bool		 enf_check_k(struct enforcer *, const struct sg_tuple *,
		    uint64_t now);

/*
 * List `key' for `ttl' (0: blacklist.ttl).  Returns the action taken:
 * ACT_BLOCK, ACT_NOTICE in detect mode, ACT_DROP when the source is
 * whitelisted (never listed).
 */
enum alarm_action enf_add(struct enforcer *, const struct bl_key *,
		    const char *why, const char *d, uint64_t ttl,
		    uint64_t now);
int		 enf_del(struct enforcer *, const struct bl_key *);
/* The live entry of `key', or NULL (valid until the table changes). */
const struct bl_entry *enf_find(struct enforcer *, const struct bl_key *,
		    uint64_t now);
/*
 * Remove every entry naming MAC `m' or address `i' (either may be NULL).
 * Returns how many were removed; with `seen', only those whose key was
 * not in it yet (the same entry held by several workers counts once).
 */
int		 enf_forget(struct enforcer *, const struct sg_mac *,
		    const struct sg_addr *, struct sg_keyset *seen);
/* Remove the entries the whitelist now lets through (after it grew):
 * those in `only', or all (NULL).  How many. */
int		 enf_lift_whitelisted(struct enforcer *, const struct sg_cidr *);
/* The proxy vouched for K (a 200 to its REGISTER): forget spoof entries. */
void		 enf_forgive(struct enforcer *, const struct sg_tuple *);
void		 enf_expire(struct enforcer *, uint64_t now);
void		 enf_stats(const struct enforcer *, struct enf_stats *);
/* Visit live entries (ctl, state); stop when `fn' returns non-zero. */
/* Slot by slot (a page at a time): the live entry in `slot', or NULL. */
uint32_t	 enf_capacity(const struct enforcer *);
const struct bl_entry *enf_at(const struct enforcer *, uint32_t slot,
		    uint64_t now);
void		 enf_foreach(struct enforcer *, uint64_t now,
		    int (*fn)(void *, const struct bl_entry *), void *);

#endif
