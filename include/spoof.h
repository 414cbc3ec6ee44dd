/*
 * spoof.h: module I, the cross-layer spoof check of SPEC 4.  Pure
 * decisions: given the tuple E, the parsed message and the binding table,
 * say accept or drop and name the case.  Alarms and blacklisting are the
 * engine's business.  The only state here is the memory of digest
 * (nonce, response) pairs for REGISTER rule 2: tables.nonces entries,
 * allocated at creation, expiring after register.replay_window, in two
 * tiers so that forged REGISTERs cannot flush it (spoof.c says how):
 * pairs the proxy confirmed with a 2xx (3/4 of the table) and the rest.
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
	bool			 pinned;	/* an import got its MAC */
	bool			 lapsed;	/* vii on a lapsed binding */
};

struct spoof_stats {
	uint32_t	 nonces, capacity;
	uint64_t	 evicted;	/* live pairs pushed out, any tier */
	uint32_t	 confirmed, confirmed_cap, unconfirmed_cap;
	uint64_t	 evicted_confirmed;	/* the table is too small */
	uint64_t	 quota_replaced;	/* an owner's own oldest pair */
	uint64_t	 expired, confirmations;
};

struct spoof;

struct spoof	*spoof_create(const struct sg_conf *);
void		 spoof_destroy(struct spoof *);

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
/*
 * The proxy answered a REGISTER with a 2xx: protect its (nonce, response),
 * `auth_h' (sipm.auth_h, when auth_has_response), seen from `t' (the
 * REGISTER's E, with impih/dh: the quota is per digest username).
 */
void		 spoof_confirm(struct spoof *, uint64_t auth_h,
		    const struct sg_tuple *, uint64_t now);
void		 spoof_stats(const struct spoof *, struct spoof_stats *);

#endif
