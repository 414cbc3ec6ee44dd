/*
 * cluster.h: several nodes share their blacklist and their bindings
 * through Redis (SPEC 8, issue 14).  Only (m, i) and (m, i, port)
 * blacklist entries with a MAC travel, never a spoof tuple K; a binding
 * travels with the segment it was learned on (cluster.segment), and a
 * node on another segment does not trust its MAC (cluster_bind_apply).  Workers only copy an entry into a
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

#include "bind.h"
#include "conf.h"
#include "enforce.h"

/* A binding's record: two identities of SG_ID_MAX, each at most three
 * bytes a character once escaped. */
#define CLUSTER_MSG_MAX		1280	/* an encoded message, NUL included */
#define CLUSTER_KEY_MAX		640	/* a Redis key */
#define CLUSTER_PENDING		1024	/* commands in flight, at most */

enum cluster_op {
	CLUSTER_ADD = 1,
	CLUSTER_DEL,
};

enum cluster_kind {
	CLUSTER_BL = 0,		/* a blacklist entry */
	CLUSTER_BIND,		/* a binding */
};

/*
 * A binding as it travels: what another node needs to rebuild it.  Its
 * hashes do not travel (each node keys its own): the receiver hashes d
 * and impi again.  Keyed in Redis by (i, d): the MAC is per hop.
 */
struct cluster_bind {
	struct sg_mac	 m;		/* as the learning node saw it */
	uint16_t	 port;
	struct sg_addr	 i;
	struct sg_addr	 s;		/* an IP address */
	char		 d[SG_ID_MAX];
	char		 impi[SG_ID_MAX];	/* "": none */
	char		 segment[CONF_NAME_MAX];	/* where it was learned */
};

/*
 * One message: an entry listed (its remaining life and when it was
 * first listed) or removed (when); a binding learned (its remaining life
 * and when it was last refreshed) or removed (when).  Times are
 * wall-clock milliseconds: a removal wins over a listing or a binding
 * older than it (NTP assumed; see cluster.c on skew).
 */
struct cluster_msg {
	uint8_t		 op;		/* enum cluster_op */
	uint8_t		 kind;		/* enum cluster_kind */
	union {
		struct bl_key	 key;	/* BL_MI or BL_MIP, with a MAC */
		struct cluster_bind b;	/* CLUSTER_BIND */
	};
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

struct cluster_status {
	bool		 enabled, connected, syncing;
	char		 redis[256];	/* the address, or the master's */
	char		 node[CONF_NAME_MAX];
	char		 name[CONF_NAME_MAX];
	uint64_t	 events_in, events_out, removals_in, removals_out;
	uint64_t	 ignored;	/* undecodable or refused messages */
	/* bindings: published, applied from peers, refused here */
	uint64_t	 binds_out, binds_in, bind_removals_out;
	uint64_t	 bind_removals_in;
	uint64_t	 binds_refused;	/* the sum of the three below */
	uint64_t	 refused_ip, refused_quota, refused_full;
	uint64_t	 binds_unshared;	/* not expressible: kept local */
	char		 segment[CONF_NAME_MAX];
	uint64_t	 suppressed;	/* listings a removal won over */
	uint64_t	 overflow;	/* queue full: messages lost */
	uint64_t	 removals_kept;	/* ... a publication's, not them */
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
/* The Sentinels' own password ("user password" or password; NULL or "":
 * none), sent before every question to a Sentinel. */
void		 cluster_set_sentinel_password(struct cluster *, const char *);
void		 cluster_set_apply(struct cluster *, cluster_apply, void *);

/* Any thread: an entry was listed or refreshed (copied; never blocks
 * but on the queue's mutex).  Entries cluster_shares() refuses are
 * ignored. */
void		 cluster_offer(struct cluster *, const struct bl_entry *);
/*
 * Any thread (a worker, under its lock): a binding learned or refreshed
 * from this node's proxy, or removed by a de-registration (its F), is
 * queued for the cluster; never blocks but on the queue's mutex.  One
 * that cannot be rebuilt elsewhere (a host name as SIP-IP, an identity
 * longer than SG_ID_MAX) stays local, counted.  `d' and `impi': its
 * texts (bind_d(), bind_impi()).
 */
void		 cluster_offer_binding(struct cluster *,
		    const struct binding *, const char *d, const char *impi);
void		 cluster_binding_removed(struct cluster *,
		    const struct sg_tuple *, uint64_t now);
/*
 * Main loop, (re)connected: offer this node's live blacklist entries
 * (cluster_offer) and its own live bindings again, a page at a time (a
 * table may hold far more than the queue): `room' messages at most;
 * true when done.  Set once; called with first = true at every resync,
 * then at every tick until done.
 */
typedef bool	(*cluster_republish_page)(void *, bool first, uint32_t room);
void		 cluster_set_republish_page(struct cluster *,
		    cluster_republish_page);
/* A row this node learned from its own proxy (what it republishes). */
bool		 cluster_bind_own(const struct binding *, uint64_t now);

/*
 * What applying another node's binding message did to one table.
 */
enum cluster_bind_res {
	CB_APPLIED,		/* new, with its MAC (same segment) */
	CB_IMPORTED,		/* new, MAC to be pinned (other segment) */
	CB_REFRESHED,		/* known: its life extended */
	CB_KEPT,		/* known, and not shorter: nothing done */
	CB_REMOVED,
	CB_ABSENT,		/* a removal of nothing held */
	CB_REFUSED_IP,		/* rule 3: the IP is another device's here */
	CB_REFUSED_QUOTA,	/* identities_per_device, devices_per_identity */
	CB_REFUSED_FULL,	/* the table's share for peers is full */
};

/*
 * Apply one binding message (ADD: `ttl' its remaining life, ns) to one
 * worker's table, as restored or imported state is, on this node's
 * segment `segment'.  Same segment: the binding as it is, F = {m, d, i}.
 * Another segment: imported (bind_import: no MAC; the first message
 * from i carrying d pins it).  Local quotas hold and nothing local is
 * evicted: refused instead (see cluster.c for the argument).
 */
enum cluster_bind_res cluster_bind_apply(struct bind_table *,
		    const struct sg_conf *, const struct cluster_msg *,
		    const char *segment, uint64_t ttl, uint64_t now);
/* Main loop: count what applying a message did (worker 0's result). */
void		 cluster_bind_count(struct cluster *, enum cluster_bind_res);
const char	*cluster_segment(const struct cluster *);

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
/*
 * A binding: "sgb1 STAMP OP NODE SEGMENT MAC IP SIP PORT TTL D IMPI",
 * D and IMPI escaped (%HH for anything but letters, digits and -._~@+;
 * IMPI "-" for none).  cluster_decode() reads both forms.
 */
int		 cluster_bind_encode(const struct cluster_msg *, char *,
		    size_t);
/* "<name>:b:IP:D" (or ":bdel:" for the tombstone), D escaped. */
int		 cluster_bind_key(const char *name, const struct cluster_msg *,
		    bool tombstone, char *, size_t);

#endif
