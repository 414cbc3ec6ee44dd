/*
 * spoof.h: module I, the cross-layer spoof check of SPEC 4.  Pure
 * decisions: given the tuple E, the parsed message and the binding table,
 * say accept or drop and name the case.  Alarms and blacklisting are the
 * engine's business.  The only state here is the memory of digest
 * (nonce, response) pairs for REGISTER rule 2, bounded and expiring.
 */
#ifndef SG_SPOOF_H
#define SG_SPOOF_H

#include "bind.h"
#include "conf.h"
#include "sipmsg.h"
#include "sipguard.h"

struct spoof_result {
	enum sg_verdict		 verdict;
	enum sg_reason		 reason;	/* the case label */
	struct bind_match	 ec;
};

struct spoof_stats {
	uint32_t	 nonces, capacity;
	uint64_t	 evicted;
};

struct spoof;

struct spoof	*spoof_create(const struct sg_conf *);
void		 spoof_destroy(struct spoof *);
void		 spoof_set_conf(struct spoof *, const struct sg_conf *);

/* The case label of a flag pattern (m i s d), non-REGISTER table. */
enum sg_reason	 spoof_case(unsigned flags);
/* SPEC 2 intra-packet check: may s differ from i? */
bool		 spoof_intra_ok(const struct sg_conf *, const struct sg_tuple *);

/* Any request but REGISTER, and any response from a user agent. */
void		 spoof_check(struct spoof *, struct bind_table *,
		    const struct sg_tuple *, const struct sipm *, uint64_t now,
		    struct spoof_result *);
/* A REGISTER: the four rules of SPEC 4, in order. */
void		 spoof_register(struct spoof *, struct bind_table *,
		    const struct sg_tuple *, const struct sipm *, uint64_t now,
		    struct spoof_result *);
void		 spoof_stats(const struct spoof *, struct spoof_stats *);

#endif
