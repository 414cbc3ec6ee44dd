/*
 * pending.h: REGISTERs that module I let through, waiting for the proxy's
 * answer (SPEC 3), keyed by Call-ID + CSeq number.  Bounded on its own and
 * short-lived (register.timeout, SIP's Timer F): when full the oldest
 * entry goes first, so a spoofed REGISTER flood only ever recycles its own
 * entries and a legitimate REGISTER waits milliseconds for its 200.
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
	int64_t		 req_expires;	/* expiry it asked for, -1 none */
	uint8_t		 method;	/* REGISTER, or (start-up window) the
					   authenticated request's */
	uint64_t	 born;
};

struct pending_stats {
	uint32_t	 in_use, capacity;
	uint64_t	 added, answered, evicted, expired;
};

struct pending_table;

struct pending_table *pending_create(uint32_t cap, uint64_t timeout);
void		 pending_destroy(struct pending_table *);
void		 pending_set_timeout(struct pending_table *, uint64_t);
/* The entry for this transaction: existing (retransmission) or new. */
struct pending	*pending_add(struct pending_table *, uint64_t call_id_h,
		    uint32_t cseq, uint64_t now, bool *is_new);
struct pending	*pending_find(struct pending_table *, uint64_t call_id_h,
		    uint32_t cseq, uint64_t now);
void		 pending_del(struct pending_table *, struct pending *);
void		 pending_expire(struct pending_table *, uint64_t now);
void		 pending_stats(const struct pending_table *,
		    struct pending_stats *);

#endif
