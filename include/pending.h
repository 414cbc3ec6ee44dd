/*
 * pending.h: REGISTERs that module I let through, waiting for the proxy's
 * answer (SPEC 3), keyed by Call-ID + CSeq number.  Bounded on its own and
 * short-lived (register.timeout, SIP's Timer F).  Tiers in one array
 * (pending.c): a guarded entry (a REGISTER the caller vouches for: one
 * answering the proxy's challenge, or a bound device's) is recycled only
 * for another of its kind, each kind holding at most a quarter of the
 * table and QUOTA_GUARDED per source (past it: open); when full, the
 * oldest open entry goes first, so a spoofed REGISTER flood recycles its
 * own entries and cannot push out a subscriber's guarded one within its
 * round trip.
 */
#ifndef SG_PENDING_H
#define SG_PENDING_H

#include <stdbool.h>
#include <stdint.h>

#include "sipguard.h"

struct pending {
	struct sg_tuple	 t;		/* E of the REGISTER */
	uint64_t	 call_id_h;
	uint32_t	 cseq;
	uint64_t	 contact_uh;	/* user@host:port of its Contact */
	uint64_t	 contact_idh;	/* user@host of its Contact */
	bool		 has_contact;
	bool		 contact_star;
	bool		 has_auth;	/* carried credentials */
	bool		 challenged;	/* answered 401/407 */
	bool		 ambiguous;	/* sent by two devices: learn nothing */
	bool		 auth_has_response;
	uint64_t	 auth_h;	/* its digest (nonce, response) */
	uint64_t	 chal_nonce_h[4];	/* the nonces of its last 401/407
					   (SIPM_CHALLENGES), 0: none */
	int64_t		 req_expires;	/* expiry it asked for, -1 none */
	uint8_t		 method;	/* REGISTER, or (start-up window) the
					   authenticated request's */
	uint64_t	 born;
};

struct pending_stats {
	uint32_t	 in_use, capacity;
	uint64_t	 added, answered, evicted, expired;
	uint32_t	 guarded, guarded_cap;
	uint64_t	 guarded_added;
	uint64_t	 evicted_guarded;	/* for other guarded ones */
	uint64_t	 quota_open;	/* a source's past its quota: open */
};

struct pending_table;

enum pending_guard {
	PENDING_OPEN,		/* anyone's: the oldest goes first */
	PENDING_ANSWERED,	/* answers its source's challenge */
	PENDING_KNOWN,		/* from a device bound with its tuple */
};

struct pending_table *pending_create(uint32_t cap, uint64_t timeout);
void		 pending_destroy(struct pending_table *);
void		 pending_set_timeout(struct pending_table *, uint64_t);
/* The entry for this transaction: existing (retransmission) or new. */
struct pending	*pending_add(struct pending_table *, uint64_t call_id_h,
		    uint32_t cseq, uint64_t now, bool *is_new);
/*
 * The same, a new entry of kind `g', guarded under the quota of source
 * `src' (a hash of its (m, i)).  A retransmission keeps its kind.
 */
struct pending	*pending_add_guarded(struct pending_table *,
		    uint64_t call_id_h, uint32_t cseq, enum pending_guard g,
		    uint64_t src, uint64_t now, bool *is_new);
enum pending_guard pending_guard(const struct pending_table *,
		    const struct pending *);
struct pending	*pending_find(struct pending_table *, uint64_t call_id_h,
		    uint32_t cseq, uint64_t now);
void		 pending_del(struct pending_table *, struct pending *);
/*
 * The proxy refused its credentials (a 401 or 407 to them): it stays,
 * for the next attempt to find, as an open entry.  A host that sees its
 * own challenges kept 4,096 refused answers guarded inside a
 * subscriber's round trip and pushed the subscriber's out.
 */
void		 pending_demote(struct pending_table *, struct pending *);
void		 pending_expire(struct pending_table *, uint64_t now);
void		 pending_stats(const struct pending_table *,
		    struct pending_stats *);

#endif
