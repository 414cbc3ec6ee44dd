/*
 * bind.h: the registration table W of SPEC 3 and 4.  Bindings are learned
 * only from the proxy's 200 OK to a REGISTER (pending.h holds REGISTERs
 * until then).  Capacity is fixed at creation; a live binding is never
 * evicted to make room: bind_learn() refuses and the caller alarms.  The
 * identity texts live in a pool of their own, sized at creation too
 * (tables.identity_bytes per binding, on average): when it has no room
 * for a new binding's texts, the binding is refused the same way.
 *
 * Lookups: the exact binding key F = {m, d, i} costs one Bloom probe and
 * one chain read.  The best partial match Ec (for the case label) comes
 * from secondary indexes on m (host MACs only), i, d and public s; each
 * chain walk is capped, so a label may be imprecise in pathological
 * tables, but the accept decision (exact K) never is.
 */
#ifndef SG_BIND_H
#define SG_BIND_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "sipguard.h"

/*
 * One binding, 120 bytes: the fields ordered so that none is padded, no
 * index hash kept (bind.c computes them again to unlink a row), and the
 * identity texts in the table's pool (idpool.h): read them with bind_d()
 * and bind_impi().
 */
struct binding {
	struct sg_mac	 m;
	bool		 has_m;
	bool		 nat;		/* s is a tolerated private SIP-IP */
	uint16_t	 port;		/* source port at registration */
	/*
	 * Imported from the proxy's registrations (bind_import()): m is
	 * not known yet.  Such a row is in no F, m or device index and
	 * never an exact match; bind_pin() gives it the MAC of the first
	 * message from i carrying d, and it is then a binding like any.
	 */
	bool		 pin;
	bool		 live;
	struct sg_addr	 i, s;
	uint32_t	 gen;		/* bumped whenever the slot is reused */
	uint32_t	 d_ref, impi_ref;	/* bind_d(), bind_impi() */
	uint64_t	 dh, impih, contact_idh;
	uint64_t	 created, refreshed, expires;	/* ns */
	uint64_t	 seq;		/* creation order: deterministic ties */
};

/* Which elements of E a binding shares (SPEC 4 flags, m i s d). */
#define BM_M	8u
#define BM_I	4u
#define BM_S	2u
#define BM_D	1u

struct bind_match {
	const struct binding	*b;	/* NULL: no binding shares anything */
	unsigned		 flags;
	const struct binding	*f;	/* F's own row, lapsed too: what
					   bind_find() would answer */
};

enum bind_res {
	BIND_NEW,
	BIND_REFRESHED,
	BIND_FULL,
	BIND_QUOTA,		/* the device has identities_per_device */
	BIND_POOL_FULL,		/* no room for d and the IMPI's texts */
};

struct bind_stats {
	uint32_t	 live, capacity;
	uint64_t	 learned, refreshed, removed, expired, full;
	uint64_t	 quota;		/* refused: identities_per_device */
	uint64_t	 quota_replaced;	/* an identity's oldest device */
	uint32_t	 gateway_macs;	/* learned, beyond the configured */
	size_t		 memory;	/* bytes, bloom filter included */
	uint64_t	 bloom_probes, bloom_hits, bloom_false;
	uint32_t	 pending;	/* imported, MAC not pinned yet */
	uint64_t	 imported, pinned;
	uint64_t	 lapsed_reclaimed;	/* for a new one, table full */
	/* The identity texts' pool (tables.identity_bytes). */
	uint32_t	 id_cells, id_cells_used;
	uint64_t	 id_full;	/* refused: no room for the texts */
	uint64_t	 id_kept;	/* a new IMPI not kept: no room */
};

struct bind_table;

struct bind_table *bind_create(const struct sg_conf *);
void		 bind_destroy(struct bind_table *);
void		 bind_set_conf(struct bind_table *, const struct sg_conf *);

/* Exact F = {m, d, i}: Bloom probe, then the slot. */
const struct binding *bind_find(struct bind_table *, const struct sg_tuple *,
		    uint64_t now);
/* Ec of SPEC 4.  `response': d may also name the registered Contact. */
void		 bind_match(struct bind_table *, const struct sg_tuple *,
		    bool response, uint64_t now, struct bind_match *);
/*
 * Any binding, live or not yet reclaimed, from the source (m, i): what
 * is known before the parse.
 */
bool		 bind_has_source(const struct bind_table *,
		    const struct sg_tuple *);
/*
 * The same in two steps, for a caller with other work to overlap with
 * the memory access: the source's key (its bucket starts on its way to
 * the cache), then the answer.
 */
uint64_t	 bind_source_key(const struct bind_table *,
		    const struct sg_tuple *);
bool		 bind_has_source_key(const struct bind_table *, uint64_t);
/* That key alone (module II files its known sources under it too). */
uint64_t	 bind_source_hash(const struct sg_tuple *);
/* A binding on the same device (m, i, and s behind NAT), any identity. */
const struct binding *bind_find_device(struct bind_table *,
		    const struct sg_tuple *, uint64_t now);
bool		 bind_is_gateway(const struct bind_table *,
		    const struct sg_mac *, bool has_m);
/* REGISTER rule 3: a live binding of another device holding this IP. */
const struct binding *bind_ip_other_device(struct bind_table *,
		    const struct sg_tuple *, uint64_t now);
/* REGISTER rule 4: identities bound on this device; *has_d if this one. */
int		 bind_device_identities(struct bind_table *,
		    const struct sg_tuple *, uint64_t now, bool *has_d);

/* Create or refresh the binding for tuple `t' until `expires'. */
enum bind_res	 bind_learn(struct bind_table *, const struct sg_tuple *,
		    uint64_t contact_idh, uint64_t expires, uint64_t now,
		    const struct binding **);
/* De-registration: remove F of `t'; returns 1 if one was removed. */
int		 bind_remove(struct bind_table *, const struct sg_tuple *);
/* Contact: * with expires 0: every binding of identity hash `dh'. */
int		 bind_remove_identity(struct bind_table *, uint64_t dh);
/* Reclaim expired bindings, looking at no more than `budget' slots. */
void		 bind_expire(struct bind_table *, uint64_t now,
		    uint32_t budget);

/*
 * An imported binding {i, s, d} with no MAC (t->m ignored) until
 * `expires'.  Returns 1 added, 0 if a binding of d at i exists already
 * (it is kept: the proxy's dump never replaces what sipguard saw), -1
 * if the table is full, -2 if d holds devices_per_identity bindings.
 * A binding of d at i with no MAC (one the state file restored, which
 * saves an unpinned binding's MAC as "none") waits for its MAC again: 1.
 */
int		 bind_import(struct bind_table *, const struct sg_tuple *,
		    uint64_t expires, uint64_t now);
/*
 * The imported binding of t->d at t->i (and t->s, if stated) whose MAC
 * is not known yet, made a normal binding with t->m: the first message
 * from that address carrying that identity pins it.  NULL if none, or
 * if t->m is a host MAC and another device's live binding holds t->i
 * (REGISTER rule 3 holds for a pin too).
 */
const struct binding *bind_pin(struct bind_table *, const struct sg_tuple *,
		    uint64_t now);

/*
 * Kept after its expiry (bindings.grace): a lapsed binding is found by
 * its exact F alone (bind_find), and saved and listed as lapsed.
 */
bool		 bind_held(const struct bind_table *, const struct binding *,
		    uint64_t now);
uint64_t	 bind_grace(const struct bind_table *);
/*
 * The identity d and the IMPI of a binding as text ("" when there is
 * none), whole (at most SG_ID_MAX - 1 bytes): in the pool, or copied to
 * buf, SG_ID_MAX bytes.  Valid until the binding or buf changes.
 */
const char	*bind_d(const struct bind_table *, const struct binding *,
		    char *buf);
const char	*bind_impi(const struct bind_table *, const struct binding *,
		    char *buf);

/* The tuple a binding was learned from: its F, device and hashes (no
 * texts: bind_d(), bind_impi()). */
void		 bind_tuple(const struct binding *, struct sg_tuple *);

uint32_t	 bind_slot(const struct bind_table *, const struct binding *);
const struct binding *bind_at(const struct bind_table *, uint32_t slot);
uint32_t	 bind_capacity(const struct bind_table *);
/*
 * A keyed hash of the binding's F = {m, d, i} and device: equal for the
 * same binding in two workers' tables (state save and `bindings' listing
 * show it once).
 */
uint64_t	 bind_row_key(const struct binding *);
/*
 * For the cluster (cluster.c), which applies other nodes' bindings as it
 * applies restored or imported ones.  The live rows of identity `dh'
 * (any MAC, imported ones too; now = 0: expired ones not yet reclaimed
 * too): their number, the first `max' of them in out[].
 */
int		 bind_identity_rows(struct bind_table *, uint64_t dh,
		    uint64_t now, const struct binding **out, int max);
/* Remove one row, whatever its kind (an imported one waiting too). */
void		 bind_drop(struct bind_table *, const struct binding *);
/* A row's life made `expires' if that is later (never shortened). */
void		 bind_extend(struct bind_table *, const struct binding *,
		    uint64_t expires);
/* Rows in use (live or expired, not reclaimed yet): O(1). */
uint32_t	 bind_live(const struct bind_table *);
/*
 * Re-insert a saved binding and its texts d and impi (state restore):
 * 1, or 0 skipped (past its grace; lapsed where it would take a live
 * row's quota; a quota refused), -1 refused (table or pool full).
 */
int		 bind_restore(struct bind_table *, const struct binding *,
		    const char *d, const char *impi, uint64_t now);
void		 bind_stats(const struct bind_table *, struct bind_stats *);

#endif
