/*
 * cluster.h: several nodes share their blacklist through Redis (SPEC 8,
 * issue 14, first slice).  Only (m, i) and (m, i, port) entries with a
 * MAC travel; never a spoof tuple K.  Workers only copy an entry into a
 * bounded queue (cluster_offer, under a mutex, no allocation; a full
 * queue counts an overflow; the listing that makes it non-empty wakes
 * the main loop through an eventfd); the main loop owns the rest: two
 * hiredis async connections (commands, and the SUBSCRIBE one) whose
 * descriptors live in the daemon's epoll set, to cluster.redis or to the
 * master Sentinel names (cluster.sentinels), reconnect with backoff,
 * publication (a key per entry with its remaining life as PX, and an
 * event on <name>:events), removals (a tombstone that wins over stale
 * re-publications), and resync on (re)connect.  Incoming entries are
 * handed to the caller's apply callback, which lists them in every
 * worker without re-publishing them.  Sized at create: the queue
 * (cluster.queue messages); nothing else grows but hiredis's buffers,
 * which are bounded by CLUSTER_PENDING commands in flight.
 */
#ifndef SG_CLUSTER_H
#define SG_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "enforce.h"

#define CLUSTER_MSG_MAX		256	/* an encoded message, NUL included */
#define CLUSTER_KEY_MAX		256	/* a Redis key */
#define CLUSTER_PENDING		1024	/* commands in flight, at most */

enum cluster_op {
	CLUSTER_ADD = 1,
	CLUSTER_DEL,
};

/*
 * One message: an entry listed (its remaining life and when it was
 * first listed) or removed (when).  Times are wall-clock milliseconds:
 * a removal wins over a listing older than it (NTP assumed; see
 * cluster.c on skew).
 */
struct cluster_msg {
	uint8_t		 op;		/* enum cluster_op */
	struct bl_key	 key;		/* BL_MI or BL_MIP, with a MAC */
	uint64_t	 stamp_ms;	/* ADD: first listed; DEL: removed */
	uint64_t	 ttl_ms;	/* ADD: remaining life (the wire's) */
	uint64_t	 expires;	/* ADD, queued: clock_now() expiry */
	char		 node[CONF_NAME_MAX];
	char		 why[24];
};

/*
 * Apply n messages from other nodes to every worker (the callee locks
 * them, once for the batch); ttl[k] is message k's remaining life in ns
 * (ADD).
 */
typedef void	(*cluster_apply)(void *, const struct cluster_msg *,
		    const uint64_t *ttl, size_t n);
/* (Re)connected: offer every live local entry again (cluster_offer). */
typedef void	(*cluster_republish)(void *);

struct cluster_status {
	bool		 enabled, connected, syncing;
	char		 redis[256];	/* the address, or the master's */
	char		 node[CONF_NAME_MAX];
	char		 name[CONF_NAME_MAX];
	uint64_t	 events_in, events_out, removals_in, removals_out;
	uint64_t	 ignored;	/* undecodable or refused messages */
	uint64_t	 suppressed;	/* listings a removal won over */
	uint64_t	 overflow;	/* queue full: messages lost */
	uint64_t	 resyncs, resync_entries;
	uint64_t	 connects, failures;
	uint32_t	 queued, queue_cap, pending;
	uint64_t	 last_sync;	/* clock_now() ns; 0: never */
	uint64_t	 down_since;	/* clock_now() ns; 0: up */
	char		 last_error[128];
};

struct cluster;

/*
 * From the configuration (cluster.*) and the password (NULL or "": no
 * AUTH; "user password": an ACL user).  Does not connect: the first
 * cluster_tick() does.  NULL with a reason in err.
 */
struct cluster	*cluster_create(const struct sg_conf *, int epfd,
		    const char *password, char *err, size_t errlen);
void		 cluster_destroy(struct cluster *);
void		 cluster_set_apply(struct cluster *, cluster_apply,
		    cluster_republish, void *);

/* Any thread: an entry was listed or refreshed (copied; never blocks
 * but on the queue's mutex).  Entries cluster_shares() refuses are
 * ignored. */
void		 cluster_offer(struct cluster *, const struct bl_entry *);
/* Main loop: an operator removed the entry (blacklist del/forget). */
void		 cluster_removed(struct cluster *, const struct bl_key *,
		    uint64_t now);
bool		 cluster_shares(const struct bl_key *);
/* Main loop: blacklist forget MAC (m) or IP (i): every shared entry in
 * Redis naming it is removed too, held here or not (a SCAN, queued). */
void		 cluster_forget(struct cluster *, const struct sg_mac *m,
		    const struct sg_addr *i, uint64_t now);

/* The main loop's epoll: does `p' (data.ptr) belong to the cluster? */
bool		 cluster_owns(const struct cluster *, const void *p);
void		 cluster_event(struct cluster *, void *p, uint32_t events);
/* Every tenth of a second: connect, time out, publish the queue. */
void		 cluster_tick(struct cluster *, uint64_t now);
/* Publish what is queued now (after a command of the control socket). */
void		 cluster_flush(struct cluster *, uint64_t now);
void		 cluster_status(struct cluster *, struct cluster_status *);

/* ---- the wire format (exposed for the tests) ---- */

/*
 * "sg1 STAMP OP NODE KIND MAC IP PORT TTL WHY": one line, fields
 * separated by one space, OP add|del, KIND mi|mip.  -1 if it does not
 * fit or the key is not shared.
 */
int		 cluster_encode(const struct cluster_msg *, char *, size_t);
/* 0, or -1 for anything malformed (the message is ignored). */
int		 cluster_decode(const char *, size_t, struct cluster_msg *);
/* "<name>:bl:KIND:MAC:IP:PORT" (or ":del:" for the tombstone). */
int		 cluster_key(const char *name, const struct bl_key *,
		    bool tombstone, char *, size_t);

#endif
