/*
 * flood.c: module II.  Sees every message module I accepted; keeps the
 * request table of the paper (C, TS, T.Dist, Init.D_Avg, Curr.D_Avg,
 * Trs) per binding and per not-yet-bound device; raises SS, DS1, DS2, IR,
 * brute-force and scan alarms for the engine to enforce; limits unknown
 * sources to their trained rate while DS1 holds.
 *
 * Cost per message: one array index (bound) or one hash probe (unbound),
 * a ring write, a few float operations.  Nothing is allocated after
 * flood_create(); the unbound table recycles its least recently seen row.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "flood.h"
#include "hash.h"
#include "htab.h"

#define RING_MAX	16		/* largest Curr.D_Avg window (gaps) */
#define RISE_SLOTS	3		/* thirds of flood.rise_window */
#define DS_BUCKETS	64		/* per-second counters for Curr.C_Avg */
#define MS(ns)		((uint32_t)((ns) / 1000000ULL))
#define TX_SLOTS	4		/* transactions remembered per row */
#define TX_COPIES	10		/* retransmissions of one, at most */
#define TX_SPAN		32000		/* ms: Timer F = 64 x T1 */
#define MBINS		40		/* rise histogram: quarter octaves */
#define MBIN_LO		(-8.0)		/* log2 of the lowest bin's ratio */

enum {
	ROW_ANSWERED = 1,	/* completed a digest challenge */
	ROW_BOUND = 2,		/* a binding's row */
	ROW_THROTTLE = 4,	/* the last alarm's source not blockable */
	ROW_KNOWN = 8,		/* a device row in klru and mix */
	ROW_GRANTED = 16,	/* the proxy accepted its credentials */
};

/*
 * 176 bytes, one per binding slot and per device row: the fields by
 * size, none padded; what only training uses shares its bytes with what
 * only judging does (ir_since, ds2_since and burst are written only
 * after training ends).  Not blockable at its last
 * alarm, a row is rate-limited until quiet_until (ROW_THROTTLE): an
 * alarm sets both ends at once, and a new one comes only after
 * quiet_until, so a time of its own for the limit (8 bytes) would always
 * equal it or be past.
 */
struct frow {
	uint64_t	 ts;		/* TS: last message, ns */
	union {
		uint64_t ir_since;	/* IR condition true since, ns */
		struct {		/* training: the rise window's */
			float	 s1, s2;/* counts and their squares, */
		} tw;			/* summed at each third's end */
	};
	uint64_t	 quiet_until;	/* alarmed: no new alarm before, ns */
	uint32_t	 gen;		/* binding generation (bound rows) */
	uint32_t	 c;		/* C: messages counted */
	float		 tdist;		/* T.Dist: last gap, s */
	float		 init_davg;	/* Init.D_Avg, s; 0: the population's */
	float		 curr_davg;	/* Curr.D_Avg, s; 0: window not full */
	float		 trs;		/* Trs, leaky */
	union {
		float	 init_sum;	/* training: sum of gaps, s */
		float	 burst;		/* trained: the rise window's count's
					   variance / mean; 0: not known */
	};
	uint32_t	 init_n;	/* training: gaps seen */
	uint32_t	 ring[RING_MAX];/* recent arrival times, ms (wrapping) */
	uint32_t	 rise_start;	/* the newest third's start, ms */
	uint32_t	 tx_key[TX_SLOTS];/* recent transactions; 0: none */
	uint32_t	 tx_last[TX_SLOTS];/* their latest copy, ms */
	uint16_t	 rise_n[RISE_SLOTS];/* messages per third of the
					   rise window, oldest first */
	uint8_t		 rpos, rfill;
	uint8_t		 flags;
	uint8_t		 ir_run, ds2_run;
	uint8_t		 tx_n[TX_SLOTS];/* copies taken as retransmissions */
	uint8_t		 mbin;		/* its bin in the rise histogram + 1;
					   0: not counted */
	union {
		uint32_t ds2_since;	/* DS2 condition true since, ms */
		uint32_t tw_n;		/* training: rise windows summed */
	};
};

_Static_assert(sizeof(struct frow) == 176, "struct frow is unpadded");

/* Rate-limited: not blockable at its last alarm, still quiet. */
static bool
throttled(const struct frow *r, uint64_t now)
{
	return (r->flags & ROW_THROTTLE) != 0 && r->quiet_until > now;
}

/*
 * Brute force and scanning, for device rows only (a binding's row never
 * counts them): beside each srow, not in struct frow, so a binding row
 * stays small.  Distinct To identities are counted exactly up to
 * SCAN_EXACT (a PBX's lines, every small threshold); past that, in a
 * HyperLogLog sketch taken from a pool shared by all rows (few devices
 * ever send to that many identities).
 */
#define SCAN_EXACT	16
#define HLL_BITS	10
#define HLL_M		(1u << HLL_BITS)	/* +-3.3 % at one sigma */

struct dscan {
	uint64_t	 bf_start;
	uint64_t	 scan_start;
	uint32_t	 bf_count;
	uint32_t	 sketch;	/* pool index + 1; 0: none */
	uint32_t	 exact[SCAN_EXACT];/* distinct To, 32-bit hashes */
	uint8_t		 nexact;
};

struct sketch {
	uint32_t	 owner;		/* srow slot; UINT32_MAX: free */
	uint32_t	 zeros;		/* registers still 0 */
	uint64_t	 start;		/* the owner's scan_start */
	double		 sum;		/* sum of 2^-register */
	uint8_t		 reg[HLL_M];
};

/*
 * Failed authentications per target identity (To of the REGISTER), from
 * any source: a password guess spread over many sources, one guess each,
 * shows here and nowhere else.  A bounded table recycling its least
 * recently failed identity.
 */
struct trow {
	uint64_t	 start;		/* window start, ns */
	uint64_t	 guard_until;	/* credentials from unbound sources
					   dropped until, ns */
	uint64_t	 quiet_until;	/* no new alarm before, ns */
	uint32_t	 count;
};

/* 12 bytes, not 16: the key in two halves keeps it 4-byte aligned. */
struct saved {
	uint32_t	 key_hi, key_lo;
	float		 init_davg;
};

static uint64_t
saved_key(const struct saved *v)
{
	return (uint64_t)v->key_hi << 32 | v->key_lo;
}

static void
saved_put(struct saved *v, uint64_t key, float init_davg)
{
	v->key_hi = (uint32_t)(key >> 32);
	v->key_lo = (uint32_t)key;
	v->init_davg = init_davg;
}

struct flood {
	const struct sg_conf	*conf;
	struct bind_table	*bt;
	/* rows of bindings, by binding slot */
	struct frow		*brow;
	uint32_t		 nbrow;
	/* rows of devices (unbound sources, brute force, scans), LRU */
	struct frow		*srow;
	struct dscan		*sscan;		/* beside each srow */
	uint64_t		*skey;
	struct hidx		 six;
	uint64_t		*smi;		/* each row's source (m, i) */
	/*
	 * Rows module II knows (row_known(): trained, or credentials accepted) are
	 * in mix, by source, and in klru; the others in slru.  A full table
	 * recycles from slru first: a flood of spoofed sources cannot push
	 * out what training or credentials taught (issue 12: before, one
	 * second of a flood recycled every trained row, and each source
	 * was then refused while DS1 held).
	 */
	struct hidx		 mix;
	struct dlist		 slru, klru, sfree;
	uint32_t		 nsrow;
	uint64_t		 recycled;
	/* failed authentications per target identity, LRU */
	struct trow		*trow;
	uint64_t		*tkey;
	struct hidx		 tix;
	struct dlist		 tlru, tfree;
	uint32_t		 ntrow;
	/* HyperLogLog sketches for rows past SCAN_EXACT identities */
	struct sketch		*pool;
	uint32_t		 npool;
	uint64_t		 pool_short;	/* none free when asked */
	uint64_t		 trow_short;	/* failures with no row free */
	/* training */
	bool			 started, trained;
	uint64_t		 epoch;		/* first packet, ns */
	uint64_t		 train_end;
	uint64_t		 train_msgs, train_unbound;
	double			 tdist_avg, init_c_avg, unbound_rate;
	/*
	 * Each device's Init.D_Avg by its F (binding_key), sorted: from a
	 * baseline file, or the trained binding rows at training's end.  A
	 * binding that expires and comes back (a proxy outage longer than
	 * the registration) gets its device's trained rate, not the
	 * population's.  At most one entry per binding slot.
	 */
	struct saved		*saved;
	uint32_t		 nsaved, capsaved;
	/* DS1: messages per second over ds.interval */
	uint32_t		 bucket[DS_BUCKETS];
	uint64_t		 bucket_sec[DS_BUCKETS];
	/*
	 * past_sum() remembered: the messages of the whole seconds before
	 * past_sec - 1 in the last past_w, for ds.interval and for the
	 * last 2 s (0: nothing remembered).
	 */
	uint64_t		 past_sec[2];
	uint32_t		 past_w[2], past_n[2];
	bool			 ds1, ds1_announced;
	uint64_t		 ds1_below_since;
	/*
	 * The rise of the typical row (DS2): a histogram of the trained
	 * rows' Curr.D_Avg / Init.D_Avg in quarter octaves, over the rows
	 * heard in this period of ds.interval (mnow) and the one before.
	 */
	uint32_t		 mhist[2][MBINS];
	uint32_t		 mtotal[2];
	uint64_t		 mperiod;	/* mhist[mperiod & 1] is this one */
	/* admission while DS1 holds */
	double			 tokens;
	uint64_t		 tokens_at;
	uint64_t		 admitted, refused, refused_at_raise;
};

/* ---- create ----------------------------------------------------------------- */

struct flood *
flood_create(const struct sg_conf *conf, struct bind_table *bt)
{
	struct flood	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->conf = conf;
	f->bt = bt;
	f->nbrow = bind_capacity(bt);
	f->nsrow = (uint32_t)conf->tab_sources;
	f->brow = sg_table_alloc(f->nbrow, sizeof(*f->brow));
	f->srow = sg_table_alloc(f->nsrow, sizeof(*f->srow));
	f->sscan = sg_table_alloc(f->nsrow, sizeof(*f->sscan));
	f->npool = (uint32_t)conf->scan_sketches;
	f->ntrow = (uint32_t)conf->target_identities;
	f->trow = sg_table_alloc(f->ntrow, sizeof(*f->trow));
	f->tkey = sg_table_alloc(f->ntrow, sizeof(*f->tkey));
	f->pool = sg_table_alloc(f->npool, sizeof(*f->pool));
	f->skey = sg_table_alloc(f->nsrow, sizeof(*f->skey));
	f->smi = sg_table_alloc(f->nsrow, sizeof(*f->smi));
	f->capsaved = f->nbrow;
	f->saved = sg_table_alloc(f->capsaved, sizeof(*f->saved));
	if (f->saved == NULL || f->brow == NULL || f->srow == NULL ||
	    f->skey == NULL || f->sscan == NULL || f->pool == NULL ||
	    f->trow == NULL || f->tkey == NULL ||
	    hidx_init(&f->tix, f->ntrow) == -1 ||
	    dlist_init(&f->tlru, f->ntrow) == -1 ||
	    dlist_init(&f->tfree, f->ntrow) == -1 ||
	    f->smi == NULL || hidx_init(&f->six, f->nsrow) == -1 ||
	    hidx_init(&f->mix, f->nsrow) == -1 ||
	    dlist_init(&f->slru, f->nsrow) == -1 ||
	    dlist_init(&f->klru, f->nsrow) == -1 ||
	    dlist_init(&f->sfree, f->nsrow) == -1) {
		flood_destroy(f);
		return NULL;
	}
	dlist_fill(&f->sfree, f->nsrow);
	dlist_fill(&f->tfree, f->ntrow);
	/* Every binding row starts "not yet seen": gen cannot match. */
	for (uint32_t k = 0; k < f->nbrow; k++)
		f->brow[k].gen = UINT32_MAX;
	for (uint32_t k = 0; k < f->npool; k++)
		f->pool[k].owner = UINT32_MAX;
	return f;
}

void
flood_destroy(struct flood *f)
{
	if (f == NULL)
		return;
	free(f->brow);
	free(f->srow);
	free(f->sscan);
	free(f->pool);
	free(f->trow);
	free(f->tkey);
	hidx_fini(&f->tix);
	dlist_fini(&f->tlru);
	dlist_fini(&f->tfree);
	free(f->skey);
	free(f->smi);
	free(f->saved);
	hidx_fini(&f->six);
	hidx_fini(&f->mix);
	dlist_fini(&f->slru);
	dlist_fini(&f->klru);
	dlist_fini(&f->sfree);
	free(f);
}

/* ---- keys and rows ----------------------------------------------------------- */

struct dkey {
	uint8_t		 m[6];
	uint8_t		 has_m;
	uint8_t		 nat;
	struct sg_addr	 i;
	struct sg_addr	 s;
};

/* A device: (m, i), or (m, i, s) behind NAT (SPEC 4). */
static uint64_t
device_key(const struct sg_tuple *t)
{
	struct dkey	 k;

	memset(&k, 0, sizeof(k));
	if (t->has_m)
		memcpy(k.m, t->m.b, 6);
	k.has_m = t->has_m;
	k.i = t->i;
	k.nat = t->nat;
	if (t->nat)
		k.s = t->s;
	return hash_bytes(&k, sizeof(k));
}

/*
 * The source (m, i) alone, what is known of a packet before its parse:
 * the binding table's key of it, so that admission while DS1 holds
 * hashes a packet's source once for both tables.  Kept in memory only
 * (mix, smi), never in a file.
 */
static uint64_t
source_key(const struct sg_tuple *t)
{
	return bind_source_hash(t);
}

/* The key a binding's saved Init.D_Avg is filed under: its F. */
static uint64_t
binding_key(const struct sg_mac *m, bool has_m, const struct sg_addr *i,
    uint64_t dh)
{
	struct {
		uint8_t		 m[6];
		uint8_t		 has_m;
		uint8_t		 pad;
		struct sg_addr	 i;
		uint64_t	 dh;
	} k;

	memset(&k, 0, sizeof(k));
	if (has_m)
		memcpy(k.m, m->b, 6);
	k.has_m = has_m;
	k.i = *i;
	k.dh = dh;
	return hash_bytes(&k, sizeof(k));
}

static float
saved_init(const struct flood *f, uint64_t key)
{
	/* Sorted by key at load: binary search. */
	uint32_t	 lo = 0, hi = f->nsaved;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (saved_key(&f->saved[mid]) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < f->nsaved && saved_key(&f->saved[lo]) == key)
		return f->saved[lo].init_davg;
	return 0;
}

static void
row_reset(struct frow *r)
{
	memset(r, 0, sizeof(*r));
}

/*
 * A binding's row belongs to it while their generations match: a slot
 * freed (its generation moves on) and reused starts a fresh row, with no
 * word from the binding table.
 */
static bool
row_of_live_binding(const struct flood *f, uint32_t slot)
{
	const struct binding	*b = bind_at(f->bt, slot);

	return b != NULL && f->brow[slot].gen == b->gen;
}

static struct frow *
bound_row(struct flood *f, const struct binding *b)
{
	uint32_t	 slot = bind_slot(f->bt, b);
	struct frow	*r = &f->brow[slot];

	if (r->gen != b->gen) {
		row_reset(r);
		r->gen = b->gen;
		r->flags = ROW_BOUND;
		if (f->nsaved > 0)
			r->init_davg = saved_init(f, binding_key(&b->m,
			    b->has_m, &b->i, b->dh));
	}
	return r;
}

/*
 * What module II knows of a device without a binding: its trained rate,
 * or credentials the proxy accepted.  Answering a challenge is not
 * enough (it proves the address, which makes the row blockable, but junk
 * credentials do it: an attacker's one address, a Via host a row, made
 * rows without end that admission then let through and a full table
 * never recycled).
 */
static bool
row_known(const struct frow *r)
{
	return r->init_davg > 0 || (r->flags & ROW_GRANTED) != 0;
}

/* Known rows of one source, at most; past them a row stays unknown. */
#define KNOWN_PER_SOURCE	16

/* Walked for a source's known rows (KNOWN_PER_SOURCE of its own, and
 * others' sharing the bucket): past it, not known. */
#define SOURCE_WALK		32

static uint32_t
known_rows(const struct flood *f, uint64_t key)
{
	uint32_t	 n = 0, k = 0;

	for (uint32_t s = hidx_first(&f->mix, key); s != HNIL &&
	    k < SOURCE_WALK; s = hidx_next(&f->mix, s), k++)
		if (f->smi[s] == key)
			n++;
	return n;
}

/* A device row module II now knows: from slru to klru, and into mix. */
static void
row_learned(struct flood *f, uint32_t s)
{
	if ((f->srow[s].flags & ROW_KNOWN) ||
	    known_rows(f, f->smi[s]) >= KNOWN_PER_SOURCE)
		return;
	f->srow[s].flags |= ROW_KNOWN;
	dlist_del(&f->slru, s);
	dlist_push_tail(&f->klru, s);
	hidx_add(&f->mix, s, f->smi[s]);
}

/* The slot of a device's row, created (or recycled) if need be. */
static uint32_t
device_slot(struct flood *f, const struct sg_tuple *t)
{
	uint64_t	 key = device_key(t);
	uint32_t	 s;

	for (s = hidx_first(&f->six, key); s != HNIL;
	    s = hidx_next(&f->six, s))
		if (f->skey[s] == key) {
			struct dlist	*l = f->srow[s].flags & ROW_KNOWN ?
					    &f->klru : &f->slru;

			/* Most recently seen goes to the young end. */
			dlist_del(l, s);
			dlist_push_tail(l, s);
			return s;
		}
	if ((s = dlist_pop_head(&f->sfree)) == HNIL) {
		/*
		 * Full: recycle the row seen least recently, one module II
		 * does not know first, while unknown rows hold a quarter of
		 * the table at least (brute force and scans of new sources
		 * are counted in them: known rows never take it all).
		 */
		if (f->slru.count == 0 || f->slru.count < f->nsrow / 4) {
			s = dlist_pop_head(&f->klru);
			hidx_del(&f->mix, s, f->smi[s]);
		} else
			s = dlist_pop_head(&f->slru);
		hidx_del(&f->six, s, f->skey[s]);
		f->recycled++;
	}
	row_reset(&f->srow[s]);
	/* A sketch its previous owner held is free again (owner check). */
	memset(&f->sscan[s], 0, sizeof(f->sscan[s]));
	f->skey[s] = key;
	hidx_add(&f->six, s, key);
	f->smi[s] = source_key(t);
	dlist_push_tail(&f->slru, s);
	return s;
}

static struct frow *
device_row(struct flood *f, const struct sg_tuple *t)
{
	return &f->srow[device_slot(f, t)];
}

/* ---- training ----------------------------------------------------------------- */

bool
flood_training(const struct flood *f, uint64_t now)
{
	return !f->trained && (!f->started || now < f->train_end);
}

/* A gap below a microsecond is a capture artefact (every gap 0 in
 * training): never divide by it. */
#define GAP_FLOOR	1e-6

static double
row_init(const struct flood *f, const struct frow *r)
{
	double	 v = r->init_davg > 0 ? r->init_davg : f->tdist_avg;

	return v > GAP_FLOOR ? v : GAP_FLOOR;
}

static int
cmp_saved(const void *a, const void *b)
{
	uint64_t	 x = saved_key(a), y = saved_key(b);

	return x < y ? -1 : x > y;
}

/*
 * Keep the trained Init.D_Avg of every bound row under its device's F,
 * so it outlives the binding (issue 11: every phone of a re-registration
 * storm after an 8-minute outage lost its binding; the new binding's row
 * was judged against T.Dist_Avg, the population's mean gap, 11 s, while
 * a busy line's own is 3 s: its BLF answers at its ordinary pace looked
 * like a 10-fold rise to IR).  Table allocated at create: nothing here.
 */
static void
keep_trained(struct flood *f)
{
	f->nsaved = 0;
	for (uint32_t k = 0; k < f->nbrow && f->nsaved < f->capsaved; k++) {
		const struct binding	*b = bind_at(f->bt, k);

		if (!row_of_live_binding(f, k) || !(f->brow[k].init_davg > 0))
			continue;
		saved_put(&f->saved[f->nsaved], binding_key(&b->m, b->has_m,
		    &b->i, b->dh), f->brow[k].init_davg);
		f->nsaved++;
	}
	qsort(f->saved, f->nsaved, sizeof(*f->saved), cmp_saved);
}

static void
finish_row(struct flood *f, struct frow *r, double *sum, uint32_t *z)
{
	double		 mean, m, v;
	uint32_t	 n = r->tw_n;

	m = n > 0 ? r->tw.s1 / n : 0;
	v = n > 0 ? r->tw.s2 / n - m * m : 0;
	r->ir_since = 0;
	r->ds2_since = 0;
	if (r->init_n == 0) {
		r->burst = 0;
		return;
	}
	mean = r->init_sum / r->init_n;
	/* A spread needs 20 windows (5 minutes at 45 s); else unknown. */
	r->burst = n >= 20 && m > 0 ? (float)(v > 0 ? v / m : 1e-3) : 0;
	*sum += mean;
	(*z)++;
	/* A row's own average needs samples; else the population's. */
	if (r->init_n >= (uint32_t)f->conf->min_samples)
		r->init_davg = (float)mean;
}

void
flood_finish_training(struct flood *f, uint64_t now)
{
	double		 sum = 0, secs;
	uint32_t	 z = 0;

	if (f->trained)
		return;
	for (uint32_t k = 0; k < f->nbrow; k++)
		if (row_of_live_binding(f, k))
			finish_row(f, &f->brow[k], &sum, &z);
	for (uint32_t s = f->klru.head; s != HNIL; s = f->klru.link[s].next)
		finish_row(f, &f->srow[s], &sum, &z);
	for (uint32_t s = f->slru.head, next; s != HNIL; s = next) {
		next = f->slru.link[s].next;
		finish_row(f, &f->srow[s], &sum, &z);
		if (row_known(&f->srow[s]))
			row_learned(f, s);
	}
	keep_trained(f);
	/* Eq. 1: T.Dist_Avg = sum of the rows' mean gaps / z (C != 0). */
	if (z > 0)
		f->tdist_avg = sum / z;
	else if (f->tdist_avg <= 0)
		f->tdist_avg = 60;	/* nothing seen: a quiet minute */
	/* The rates are over the training period, however late the first
	 * message after its end arrives to close it. */
	if (f->started && now > f->train_end)
		now = f->train_end;
	secs = f->started && now > f->epoch ? (double)(now - f->epoch) / 1e9 :
	    0;
	if (secs > 0 && f->train_msgs > 0) {
		f->init_c_avg = (double)f->train_msgs / secs;
		f->unbound_rate = (double)f->train_unbound / secs;
	}
	f->trained = true;
}

/* ---- DS1: Curr.C_Avg over ds.interval ------------------------------------------- */

static uint32_t
ds_window(const struct flood *f)
{
	uint32_t	 w = (uint32_t)(f->conf->ds_interval / NS_PER_SEC);

	return w < 1 ? 1 : w > DS_BUCKETS - 1 ? DS_BUCKETS - 1 : w;
}

static void
ds_count(struct flood *f, uint64_t now)
{
	uint64_t	 sec = now / NS_PER_SEC;
	uint32_t	 b = (uint32_t)(sec % DS_BUCKETS);

	/*
	 * A count in any second but the remembered one may change the
	 * remembered sums (time going back, a bucket reused): forgotten.
	 * One in that second changes its own bucket only, never a past one
	 * (ds_window() < DS_BUCKETS).
	 */
	if (f->past_sec[0] != sec + 1)
		f->past_sec[0] = 0;
	if (f->past_sec[1] != sec + 1)
		f->past_sec[1] = 0;
	if (f->bucket_sec[b] != sec) {
		f->bucket_sec[b] = sec;
		f->bucket[b] = 0;
	}
	f->bucket[b]++;
}

/* Messages of the `w' whole seconds before `sec'. */
static uint32_t
past_sum(const struct flood *f, uint64_t sec, uint32_t w)
{
	uint32_t	 n = 0, b;

	for (uint32_t k = 1; k <= w; k++) {
		b = (uint32_t)((sec - k) % DS_BUCKETS);
		if (f->bucket_sec[b] == sec - k)
			n += f->bucket[b];
	}
	return n;
}

/* The current second counts too once it holds more than that average. */
static double
rate_of(const struct flood *f, uint64_t sec, uint32_t w, uint32_t n)
{
	uint32_t	 b = (uint32_t)(sec % DS_BUCKETS);

	if (f->bucket_sec[b] == sec && f->bucket[b] > n / w)
		return (double)(n + f->bucket[b]) / (w + 1);
	return (double)n / w;
}

/*
 * Messages per second over the last `w' whole seconds; the current second
 * counts too once it holds more than that average (a flood shows in its
 * first second, a quiet start of a second does not drag the rate down).
 * Every message module II judges asks it three times (trend(), for SS,
 * IR and the rise; DS1 over ds.interval and over 2 s), each a walk of
 * up to ds.interval buckets that only change when a second ends: the
 * past seconds' sum is remembered for the second it was taken in, so
 * the walk is once a second, not once a message.  Same sum, same answer.
 */
static double
rate_over(struct flood *f, uint64_t now, uint32_t w)
{
	uint64_t	 sec = now / NS_PER_SEC;
	int		 m = w == 2;

	if (f->past_sec[m] != sec + 1 || f->past_w[m] != w) {
		f->past_n[m] = past_sum(f, sec, w);
		f->past_w[m] = w;
		f->past_sec[m] = sec + 1;
	}
	return rate_of(f, sec, w, f->past_n[m]);
}

/* Curr.C_Avg: over ds.interval. */
static double
curr_c_avg(struct flood *f, uint64_t now)
{
	return rate_over(f, now, ds_window(f));
}

static double
ds1_threshold(const struct flood *f)
{
	double	 tr = f->conf->ds_tolerance_ratio * f->init_c_avg;

	if (tr < f->conf->ds_tolerance)
		tr = f->conf->ds_tolerance;
	return f->init_c_avg + tr;
}

int
flood_ds1_edge(struct flood *f, uint64_t now, struct flood_alarm *a)
{
	double	 c, bar;

	if (flood_training(f, now) || !f->trained)
		return 0;
	c = curr_c_avg(f, now);
	bar = ds1_threshold(f);		/* Init.C_Avg + tr */
	/*
	 * Two views of Curr.C_Avg: over ds.interval against Init.C_Avg + tr,
	 * steady enough not to take a busy hour for an attack; and over the
	 * last 2 s against ds_fast_ratio x Init.C_Avg, so a massive flood
	 * raises DS1 within a second or two.
	 */
	if (c <= bar) {
		double	 fast = rate_over(f, now, 2);

		if (fast > f->conf->ds_fast_ratio * f->init_c_avg &&
		    fast > bar)
			c = fast;
	}
	if (c > bar) {
		f->ds1_below_since = 0;
		if (!f->ds1) {
			f->ds1 = true;
			f->tokens = f->conf->admission_burst;
			f->tokens_at = now;
			f->refused_at_raise = f->refused;
			memset(a, 0, sizeof(*a));
			a->type = ALARM_DS1;
			a->rate = c;
			snprintf(a->cls, sizeof(a->cls), "distributed");
			snprintf(a->detail, sizeof(a->detail),
			    "Curr.C_Avg %.1f/s > Init.C_Avg %.1f/s + tr",
			    c, f->init_c_avg);
			return 1;
		}
		return 0;
	}
	/*
	 * Hysteresis: DS1 clears once Curr.C_Avg, itself an average over
	 * ds.interval, has stayed below Init.C_Avg + tr/2 for a quarter of
	 * that interval, so a flood hovering near the threshold does not
	 * switch admission and DS2 on and off.
	 */
	if (!f->ds1)
		return 0;
	if (c > (bar + f->init_c_avg) / 2) {
		f->ds1_below_since = 0;
		return 0;
	}
	if (f->ds1_below_since == 0)
		f->ds1_below_since = now;
	if (now - f->ds1_below_since < f->conf->ds_interval / 4)
		return 0;
	f->ds1 = false;
	f->ds1_below_since = 0;
	memset(a, 0, sizeof(*a));
	a->type = ALARM_DS1;
	a->rate = c;
	snprintf(a->cls, sizeof(a->cls), "distributed");
	snprintf(a->detail, sizeof(a->detail),
	    "cleared: Curr.C_Avg %.1f/s; %llu refused by admission", c,
	    (unsigned long long)(f->refused - f->refused_at_raise));
	return -1;
}

/* ---- per-message statistics ------------------------------------------------------ */

/* Curr.D_Avg: the mean gap over the last `window' gaps (0: not enough). */
static float
curr_davg(const struct frow *r, int window)
{
	uint32_t	 newest, oldest;

	if (r->rfill < window + 1)
		return 0;
	newest = r->ring[(r->rpos + RING_MAX - 1) % RING_MAX];
	oldest = r->ring[(r->rpos + RING_MAX - 1 - window) % RING_MAX];
	return (float)(newest - oldest) / 1000.0f / (float)window;
}

static void
classify(struct flood_alarm *a, const struct flood *f, bool internal,
    enum sip_method m, bool distributed)
{
	const char	*target;

	(void)f;
	if (m == SIPM_REGISTER)
		target = distributed && !internal ? "state-exhaustion" :
		    "cpu-exhaustion";
	else if (m == SIPM_INVITE || m == SIPM_MESSAGE || m == SIPM_REFER ||
	    m == SIPM_NONE)
		target = internal ? "end-user-flood" : "cpu-exhaustion";
	else
		target = "cpu-exhaustion";
	snprintf(a->cls, sizeof(a->cls), "%s,%s,%s,%s",
	    internal ? "internal" : "external",
	    m == SIPM_REGISTER ? "register" : "non-register",
	    distributed ? "distributed" : "single-source", target);
}

static bool
blockable(const struct flood *f, const struct sg_tuple *t,
    const struct frow *r)
{
	/* SPEC 6: behind a gateway MAC, only a source seen answering. */
	if (t->has_m && bind_is_gateway(f->bt, &t->m, true))
		return (r->flags & (ROW_BOUND | ROW_ANSWERED)) != 0;
	return true;
}

static enum flood_verdict
fire(struct flood *f, struct frow *r, const struct sg_tuple *t,
    enum alarm_type type, enum sip_method m, float davg, double ratio,
    uint64_t now, struct flood_alarm *a)
{
	bool	 internal = (r->flags & ROW_BOUND) != 0;

	memset(a, 0, sizeof(*a));
	a->type = type;
	a->rate = davg > 0 ? 1.0 / davg : 0;
	a->ratio = ratio;
	a->internal = internal;
	a->blockable = blockable(f, t, r);
	classify(a, f, internal, m, type == ALARM_DS2);
	r->quiet_until = now + f->conf->blacklist_ttl;
	r->trs = 0;
	r->ir_run = r->ds2_run = 0;
	if (!a->blockable)
		r->flags |= ROW_THROTTLE;
	else
		r->flags &= (uint8_t)~ROW_THROTTLE;
	return FLOOD_ALARM;
}

/* Curr.C_Avg / Init.C_Avg, never below 1. */
static double
trend(struct flood *f, uint64_t now)
{
	double	 t;

	if (f->init_c_avg <= 0)
		return 1;
	t = curr_c_avg(f, now) / f->init_c_avg;
	return t < 1 ? 1 : t;
}

/* Admission while DS1 holds: a token bucket at the trained rate. */
static bool
admit(struct flood *f, uint64_t now)
{
	double	 rate = f->conf->admission_factor * f->unbound_rate;

	if (rate < f->conf->admission_rate)
		rate = f->conf->admission_rate;
	f->tokens += (double)(now - f->tokens_at) / 1e9 * rate;
	f->tokens_at = now;
	if (f->tokens > f->conf->admission_burst)
		f->tokens = f->conf->admission_burst;
	if (f->tokens >= 1) {
		f->tokens -= 1;
		f->admitted++;
		return true;
	}
	f->refused++;
	return false;
}

/*
 * A source module II knows (row_known()): mix holds known rows only, at
 * most KNOWN_PER_SOURCE a source, so an attacker's own rows (one per Via
 * host he writes) neither count nor hide another source's past the walk.
 */
static bool
known_source(const struct flood *f, uint64_t key)
{
	int		 n = 0;

	for (uint32_t s = hidx_first(&f->mix, key); s != HNIL &&
	    n < SOURCE_WALK; s = hidx_next(&f->mix, s), n++)
		if (f->smi[s] == key)
			return true;
	return false;
}

bool
flood_ds1(const struct flood *f)
{
	return f->ds1;
}

bool
flood_admission(struct flood *f, const struct sg_tuple *t, bool bound,
    uint64_t now)
{
	return flood_admission_key(f, flood_source_key(f, t), bound, now);
}

uint64_t
flood_source_key(const struct flood *f, const struct sg_tuple *t)
{
	uint64_t	 key = source_key(t);

	hidx_prefetch(&f->mix, key);
	return key;
}

void
flood_source_prefetch(const struct flood *f, uint64_t key)
{
	hidx_prefetch(&f->mix, key);
}

bool
flood_admission_key(struct flood *f, uint64_t key, bool bound, uint64_t now)
{
	if (!f->ds1 || bound || known_source(f, key))
		return true;
	if (admit(f, now))
		return true;
	/* Refused, still part of the rate DS1 watches. */
	ds_count(f, now);
	return false;
}

/*
 * Forgeries are messages the proxy is sent all the same, and each was
 * parsed in full: a flood of them from many sources raises DS1, and
 * admission then holds the unknown sources before the parse (an
 * attacker's review: crafted REGISTERs that fail module I, 12.8 times an
 * INVITE each, never raised it).
 */
void
flood_count_dropped(struct flood *f, uint64_t now)
{
	ds_count(f, now);
}

/*
 * SPEC 5: training starts with the first packet the engine sees, whatever
 * becomes of it (dropped by the blacklist, outbound, not SIP), and ends
 * by time: a first minute of drops is a minute of training.
 */
void
flood_clock(struct flood *f, uint64_t now)
{
	if (f->started)
		return;
	f->started = true;
	f->epoch = now;
	f->train_end = now + f->conf->training_duration;
}

void
flood_tick(struct flood *f, uint64_t now)
{
	if (f->started && !f->trained && !flood_training(f, now))
		flood_finish_training(f, now);
}

static bool
training_phase(struct flood *f, uint64_t now)
{
	bool	 training;

	flood_clock(f, now);	/* a caller that skipped the engine */
	training = flood_training(f, now);
	if (!training && !f->trained)
		flood_finish_training(f, now);
	return training;
}

/* A message on row r: its gap since the last (-1: the first), in s. */
static float
row_record(struct flood *f, struct frow *r, uint64_t now)
{
	float	 gap = -1;

	if (r->c > 0 && now >= r->ts)
		gap = (float)((double)(now - r->ts) / 1e9);
	r->c++;
	r->ts = now;
	r->ring[r->rpos] = MS(now - f->epoch);
	r->rpos = (uint8_t)((r->rpos + 1) % RING_MAX);
	if (r->rfill < RING_MAX)
		r->rfill++;
	return gap;
}

static void
train_sample(struct flood *f, struct frow *r, bool bound, float gap)
{
	f->train_msgs++;
	if (!bound)
		f->train_unbound++;
	if (gap >= 0) {
		r->tdist = gap;
		r->init_sum += gap;
		r->init_n++;
	}
}

/*
 * SS: gaps below T.Dist_Avg add to Trs, which leaks with time: one unit
 * per ss_decay, or faster for a row trained at a high rate
 * (ss_rate_factor x its own rate, times the population's trend), so a
 * busy line in the busy hour never builds Trs, while a flood does within
 * ss_threshold messages.
 */
static void
ss_update(struct flood *f, struct frow *r, float gap, double init,
    double tr)
{
	double	 leak = 1e9 / (double)f->conf->ss_decay;
	double	 own = f->conf->ss_rate_factor * tr / init;

	if (own > leak)
		leak = own;
	r->trs -= (float)(gap * leak);
	if (r->trs < 0)
		r->trs = 0;
	if (gap < f->tdist_avg)
		r->trs += 1;
}

/*
 * IR (eq. 2), sustained over ir.samples messages.  The ratio is taken
 * against the population's trend: in the busy hour every row's gaps
 * shrink, and a row is judged by how much faster it went than everyone
 * else (DS2 is the test for rows that rise together).  A row sending
 * less than flood.min_rate is never judged by a ratio: at a few messages
 * a minute, a call set-up shrinks the mean gap of a window as much as a
 * flood would.
 */
static bool
ir_fires(struct flood *f, struct frow *r, float davg, double ratio,
    double tr, uint64_t now)
{
	const struct sg_conf	*c = f->conf;

	if (!(davg > 0 && 1.0 / davg >= c->min_rate) ||
	    ratio * tr >= c->ir_ratio) {
		r->ir_run = 0;
		return false;
	}
	if (r->ir_run == 0)
		r->ir_since = now;
	if (r->ir_run < UINT8_MAX)
		r->ir_run++;
	/* Sustained: a burst ends before the window forgets it. */
	return r->ir_run >= c->ir_samples && now - r->ir_since >= c->ir_hold;
}

/*
 * Rise: a device raising its own rate, whatever DS1 says (issue 11: 20
 * of 150 busy devices at 4x move the global rate only 1.4x; DS1 never
 * fires, so DS2 never looks).  The row counts its messages in the three
 * thirds of flood.rise_window (a sliding window at a third's grain: two
 * counters' worth of state, O(1)).  It rises when, against its own
 * trained rate (Init.D_Avg; a row without one is not judged: it has no
 * rate of its own to rise from):
 *  - the window holds at least rise_factor x its trained count, times
 *    the population's trend beyond rise_trend (a morning ramp or a busy
 *    hour lifts every row: the bar rises with them), and at least
 *    rise_min messages (a device trained at one REGISTER an hour that
 *    sends three after an outage is no evidence of anything);
 *  - and every third holds at least three quarters of its share: the
 *    rise is sustained over the whole window, not one burst (a
 *    re-registration with its re-subscriptions, a reboot).
 * The newest third is judged on its time so far: the bar is the count
 * expected over the two whole thirds and the part of the newest (it
 * used to be the whole window's, so a rise was named only as the newest
 * third filled, 45 s or more after its onset).  A count is noisy, the
 * more so the smaller: the window must also exceed the bar by
 * rise_margin x the square root of its count times the row's own
 * spread: a Poisson count's variance is its mean, and a row's trained
 * variance / mean of its window count (rise_train()) says how much more
 * or less its own varies.  A busy line's busy-lamp answers come in
 * clusters (spread 1-4 in bench/eval's populations), a phone
 * registering every minute hardly varies (0.3-0.7).  The spread is
 * clamped to [rise_spread_min, rise_spread_max], and a row with none
 * (trained too briefly, or its rate restored from a baseline file or
 * a lapsed binding) takes the maximum: judged as the burstiest.  At
 * margin 2 and spread 2.25, a row expecting 50 messages needs 42 %
 * more, one expecting 200 needs 21 % more; at spread 0.25, a third of
 * that (issue 11, measured: README "Module II measured").
 */
static void
rise_count(struct flood *f, struct frow *r, uint64_t now)
{
	uint32_t	 t = MS(now - f->epoch), third, k;

	third = (uint32_t)(f->conf->rise_window / 1000000ULL / RISE_SLOTS);
	if (third == 0)
		third = 1;
	k = (t - r->rise_start) / third;
	if (k >= RISE_SLOTS) {
		memset(r->rise_n, 0, sizeof(r->rise_n));
		r->rise_start = t - (t - r->rise_start) % third;
	} else if (k > 0) {
		for (uint32_t j = 0; j < RISE_SLOTS; j++)
			r->rise_n[j] = j + k < RISE_SLOTS ?
			    r->rise_n[j + k] : 0;
		r->rise_start += k * third;
	}
	if (r->rise_n[RISE_SLOTS - 1] < UINT16_MAX)
		r->rise_n[RISE_SLOTS - 1]++;
}

/*
 * Training: the spread of the row's own rise-window count.  At the end of
 * each third, the window ending there is summed (its count and square):
 * a busy line's busy-lamp answers come in clusters, so its count varies
 * more than a Poisson count of the same mean; a phone registering every
 * minute varies less.  The first message only starts the window.
 */
static void
rise_train(struct flood *f, struct frow *r, uint64_t now, bool first)
{
	uint32_t	 t = MS(now - f->epoch), third, k;

	third = (uint32_t)(f->conf->rise_window / 1000000ULL / RISE_SLOTS);
	if (third == 0)
		third = 1;
	if (first) {
		memset(r->rise_n, 0, sizeof(r->rise_n));
		r->rise_start = t - t % third;
		r->tw.s1 = r->tw.s2 = 0;
		r->tw_n = 0;
	} else {
		k = (t - r->rise_start) / third;
		for (uint32_t j = 0; j < k && j < RISE_SLOTS; j++) {
			float	 w = 0;

			for (uint32_t i = j; i < RISE_SLOTS; i++)
				w += r->rise_n[i];
			r->tw.s1 += w;
			r->tw.s2 += w * w;
		}
		r->tw_n += k;
	}
	rise_count(f, r, now);
}

static bool
rise_fires(struct flood *f, const struct frow *r, double tr, uint64_t now,
    double *sum_out, double *span_out, double *times)
{
	const struct sg_conf	*c = f->conf;
	double			 third = (double)c->rise_window / 1e9 /
				    RISE_SLOTS;
	double			 lift = tr / c->rise_trend;
	double			 bar, need, span, sum = 0, part;
	double			 spread = r->burst > 0 ? r->burst :
				    c->rise_spread_max;	/* none: the widest */

	if (r->init_davg <= 0)
		return false;
	spread = spread < c->rise_spread_min ? c->rise_spread_min :
	    spread > c->rise_spread_max ? c->rise_spread_max : spread;
	/* The count of one third at rise_factor x the trained rate. */
	bar = c->rise_factor * third / row_init(f, r) * (lift > 1 ? lift : 1);
	/* The newest third is still filling: judged on its time so far. */
	part = (double)(MS(now - f->epoch) - r->rise_start) / 1e3 / third;
	part = part < 0 ? 0 : part > 1 ? 1 : part;
	for (int j = 0; j < RISE_SLOTS; j++) {
		double	 share = j == RISE_SLOTS - 1 ? bar * part : bar;

		if (r->rise_n[j] < 0.75 * share)
			return false;
		sum += r->rise_n[j];
	}
	span = (RISE_SLOTS - 1 + part) * third;
	need = bar * (RISE_SLOTS - 1 + part);
	*sum_out = sum;
	*span_out = span;
	*times = sum * row_init(f, r) / span;
	return sum >= need + c->rise_margin * sqrt(spread * need) &&
	    sum >= c->rise_min;
}

/*
 * Retransmissions (RFC 3261 17.1.2.2, 17.2.2).  Over UDP a request nobody
 * answers is sent again after T1 = 0.5 s, the interval doubling up to
 * T2 = 4 s, until Timer F (32 s): 11 copies with one Via branch, CSeq and
 * method; a UAS repeats its answer for each copy it gets.  The proxy's
 * transaction layer absorbs them (Kamailio's tm), and a phone whose
 * proxy is down sends 11 copies of each refresh and keep-alive: counted
 * as messages, a proxy outage made every quiet phone look like a 10-fold
 * rise (issue 11).  So a transaction counts once: a copy of one of the
 * row's last TX_SLOTS transactions (the engine's key: branch, Call-ID,
 * CSeq, method, status) is no new message for any rate test (SS, IR,
 * rise, DS2) when it is at most the 10th copy and comes no sooner after
 * the copy before it than three quarters of RFC 3261's interval for it
 * (0.5, 1, 2, 4 s, then 4 s each); a transaction quiet for Timer F is
 * over.  Anything else counts in full: copies faster than that
 * schedule (timed from the previous copy, so held-back copies sent at
 * once are a burst, counted) or beyond the 10th, so the same request at
 * a high rate is as visible to SS as different ones.  The key covers
 * what the proxy reads to tell a new request (engine.c txn_key): a
 * "copy" that differs is a new message.  What a row can hide: 10 copies
 * of each of TX_SLOTS transactions, each counted once, every 24 s at
 * the soonest, some 1.7 messages a second.  DS1 does not count copies
 * either: in a proxy outage every phone retransmits, and a DS1 raised by
 * copies would refuse the lapsed phones' first REGISTERs (admission) and
 * let DS2 block busy lines once the proxy is back (measured: make eval,
 * rereg-storm).  What a flood of copies hides from it is what the
 * proxy's transaction layer absorbs: identical messages (the key), at
 * the timers' pace; the kernel's ceiling holds whatever DS1 says.  Not
 * for a throttled row: its rate limit takes every copy.
 */
static const uint16_t tx_gap[TX_COPIES] = { 500, 1000, 2000, 4000, 4000,
    4000, 4000, 4000, 4000, 4000 };

static bool
retransmission(struct flood *f, struct frow *r, uint64_t txn, uint64_t now)
{
	uint32_t	 key = (uint32_t)(txn ^ txn >> 32);
	uint32_t	 t = MS(now - f->epoch), oldest = 0, age = 0;

	if (txn == 0 || throttled(r, now))
		return false;
	if (key == 0)
		key = 1;
	for (uint32_t j = 0; j < TX_SLOTS; j++) {
		uint32_t	 since = t - r->tx_last[j];

		if (r->tx_key[j] != key) {
			if (r->tx_key[j] == 0)
				since = UINT32_MAX;	/* free: take it */
			if (since >= age) {
				age = since;
				oldest = j;
			}
			continue;
		}
		r->tx_last[j] = t;
		if (since > TX_SPAN) {
			/* The transaction is over: a new one, counted. */
			r->tx_n[j] = 0;
			return false;
		}
		if (r->tx_n[j] < TX_COPIES &&
		    since >= tx_gap[r->tx_n[j]] * 3u / 4u) {
			r->tx_n[j]++;
			return true;
		}
		return false;
	}
	r->tx_key[oldest] = key;
	r->tx_last[oldest] = t;
	r->tx_n[oldest] = 0;
	return false;
}

/*
 * The typical row's rise, for DS2.  A morning ramp or a busy hour lifts
 * every row (measured: in a ramp every phone about doubles, and noise
 * takes some past DS2's 2.5-fold; once DS1 rose on the global rate, DS2
 * blocked 40 legitimate lines), while the insiders of a distributed
 * flood are a minority of the active rows and do not move the median.
 * Each trained row with a Curr.D_Avg sits in one bin of a histogram of
 * log2(Curr.D_Avg / Init.D_Avg), quarter octaves from 1/256 to 2^2; it
 * remembers its bin (mbin) and moves when its ratio does: O(1) a
 * message.  A row counts in the period of ds.interval it was last heard
 * in and the one before; older periods are cleared, so a quiet row
 * leaves within two periods (its own last-heard time, r->ts, tells
 * which period holds it: no sweep).  The median is read only when a row
 * is a DS2 candidate: MBINS steps.
 */
static uint64_t
mperiod_of(const struct flood *f, uint64_t t)
{
	return (t - f->epoch) / f->conf->ds_interval;
}

static void
mhist_roll(struct flood *f, uint64_t now)
{
	uint64_t	 p = mperiod_of(f, now);

	if (p == f->mperiod)
		return;
	if (p == f->mperiod + 1) {
		memset(f->mhist[p & 1], 0, sizeof(f->mhist[0]));
		f->mtotal[p & 1] = 0;
	} else {
		memset(f->mhist, 0, sizeof(f->mhist));
		f->mtotal[0] = f->mtotal[1] = 0;
	}
	f->mperiod = p;
}

/* Row r, last heard at prev (has_prev), now has davg and ratio. */
static void
mhist_update(struct flood *f, struct frow *r, uint64_t prev, bool has_prev,
    float davg, double ratio, uint64_t now)
{
	uint32_t	 h, b;
	double		 x;

	mhist_roll(f, now);
	h = (uint32_t)(f->mperiod & 1);
	if (r->mbin != 0 && has_prev && prev >= f->epoch &&
	    mperiod_of(f, prev) == f->mperiod &&
	    f->mhist[h][r->mbin - 1] > 0) {
		f->mhist[h][r->mbin - 1]--;
		f->mtotal[h]--;
	}
	r->mbin = 0;
	if (!(davg > 0 && r->init_davg > 0 && ratio > 0))
		return;
	x = (log2(ratio) - MBIN_LO) * 4;
	b = x <= 0 ? 0 : x >= MBINS - 1 ? MBINS - 1 : (uint32_t)x;
	f->mhist[h][b]++;
	f->mtotal[h]++;
	r->mbin = (uint8_t)(b + 1);
}

/* The median row's Curr.D_Avg / Init.D_Avg (1: too few rows to say). */
static double
mhist_median(const struct flood *f)
{
	uint32_t	 total = f->mtotal[0] + f->mtotal[1], cum = 0;

	if (total < 10)
		return 1;
	for (uint32_t b = 0; b < MBINS; b++) {
		cum += f->mhist[0][b] + f->mhist[1][b];
		if (2 * cum >= total)
			return exp2(MBIN_LO + (b + 0.5) / 4);
	}
	return 1;
}

/*
 * DS2: while DS1 holds, rows whose gaps shrank below x times the median
 * row's ratio: a row is judged by its rise beyond the typical row's,
 * when the typical row rose at most ds2_lift-fold.  A typical row that
 * rose further is no busy hour but the whole population flooding (a
 * call centre's every agent at 3x): judged by x alone.  The condition
 * must hold for ds2_samples messages and ds2_hold (0: no time).
 */
static bool
ds2_fires(struct flood *f, struct frow *r, float davg, double ratio,
    uint64_t now)
{
	double	 bar = f->conf->ds2_ratio, m;

	if (f->ds1 && davg > 0 && ratio < bar && f->conf->ds2_lift > 1) {
		m = mhist_median(f);
		if (m < 1 && m * f->conf->ds2_lift >= 1)
			bar *= m;
	}
	if (!(f->ds1 && davg > 0 && ratio < bar)) {
		r->ds2_run = 0;
		return false;
	}
	if (r->ds2_run == 0)
		r->ds2_since = MS(now - f->epoch);
	if (r->ds2_run < UINT8_MAX)
		r->ds2_run++;
	return r->ds2_run >= f->conf->ds2_samples &&
	    MS(now - f->epoch) - r->ds2_since >= MS(f->conf->ds2_hold);
}

enum flood_verdict
flood_message(struct flood *f, const struct sg_tuple *t,
    const struct binding *b, enum sip_method m, uint64_t txn, uint64_t now,
    struct flood_alarm *a)
{
	struct frow	*r;
	float		 gap, davg;
	double		 init, ratio, sum, span, times, tr;
	uint64_t	 prev;
	bool		 has_prev, training = training_phase(f, now);

	r = b != NULL ? bound_row(f, b) : device_row(f, t);
	if (retransmission(f, r, txn, now))
		return FLOOD_PASS;
	ds_count(f, now);
	prev = r->ts;
	has_prev = r->c > 0;
	gap = row_record(f, r, now);
	if (training) {
		train_sample(f, r, b != NULL, gap);
		rise_train(f, r, now, gap < 0);
		return FLOOD_PASS;
	}
	if (gap < 0)
		return FLOOD_PASS;
	r->tdist = gap;
	init = row_init(f, r);
	/* The population's trend, the same for SS, IR and the rise: nothing
	 * between them counts a message. */
	tr = trend(f, now);
	ss_update(f, r, gap, init, tr);
	rise_count(f, r, now);
	davg = curr_davg(r, f->conf->window);
	r->curr_davg = davg;
	ratio = davg > 0 ? davg / init : 1;
	mhist_update(f, r, prev, has_prev, davg, ratio, now);

	if (throttled(r, now) && gap < init)
		return FLOOD_THROTTLE;
	if (r->quiet_until > now)
		return FLOOD_PASS;
	if (r->trs > f->conf->ss_threshold)
		return fire(f, r, t, ALARM_SS, m, davg > 0 ? davg : gap, ratio,
		    now, a);
	if (ir_fires(f, r, davg, ratio, tr, now))
		return fire(f, r, t, ALARM_IR, m, davg, ratio, now, a);
	if (rise_fires(f, r, tr, now, &sum, &span, &times)) {
		/*
		 * A busy line's clustered traffic can look the same for tens
		 * of seconds (issue 11, measured): a notice unless the
		 * operator asks for blocks, and a notice leaves the row's
		 * other tests as they were (quieting SS and IR for the
		 * blacklist's TTL would let a notice open the way to a
		 * flood).  The next needs a whole window again.
		 */
		if (f->conf->rise_block)
			fire(f, r, t, ALARM_IR, m, davg, ratio, now, a);
		else {
			memset(a, 0, sizeof(*a));
			a->type = ALARM_IR;
			a->ratio = ratio;
			a->internal = (r->flags & ROW_BOUND) != 0;
			a->blockable = blockable(f, t, r);
			classify(a, f, a->internal, m, false);
			a->notice = true;
		}
		a->rate = sum / span;
		memset(r->rise_n, 0, sizeof(r->rise_n));
		snprintf(a->detail, sizeof(a->detail), "rise: %.0f messages "
		    "in %.0f s, %.1fx its own trained rate", sum, span, times);
		return FLOOD_ALARM;
	}
	if (ds2_fires(f, r, davg, ratio, now))
		return fire(f, r, t, ALARM_DS2, m, davg, ratio, now, a);
	return FLOOD_PASS;
}

/* ---- brute force and scanning --------------------------------------------------------- */

/* Its address is its own: blockable (SPEC 6), not known for that. */
void
flood_answered(struct flood *f, const struct sg_tuple *t)
{
	f->srow[device_slot(f, t)].flags |= ROW_ANSWERED;
}

void
flood_granted(struct flood *f, const struct sg_tuple *t)
{
	uint32_t	 s = device_slot(f, t);

	f->srow[s].flags |= ROW_ANSWERED | ROW_GRANTED;
	row_learned(f, s);
}

enum flood_verdict
flood_failure(struct flood *f, const struct sg_tuple *t, bool bound,
    int status, uint64_t now, struct flood_alarm *a)
{
	uint32_t	 slot = device_slot(f, t);
	struct frow	*r = &f->srow[slot];
	struct dscan	*d = &f->sscan[slot];

	(void)status;
	if (bound)
		r->flags |= ROW_BOUND;
	if (d->bf_count == 0 || now - d->bf_start > f->conf->bf_window) {
		d->bf_start = now;
		d->bf_count = 0;
	}
	d->bf_count++;
	if (d->bf_count < (uint32_t)f->conf->bf_failures ||
	    r->quiet_until > now)
		return FLOOD_PASS;
	fire(f, r, t, ALARM_BRUTEFORCE, SIPM_REGISTER, 0, 0, now, a);
	a->rate = d->bf_count / ((double)(now - d->bf_start) / 1e9 + 1e-3);
	snprintf(a->detail, sizeof(a->detail), "%u failures in %.0f s",
	    d->bf_count, (double)(now - d->bf_start) / 1e9);
	d->bf_count = 0;
	return FLOOD_ALARM;
}

/* ---- brute force per target identity ------------------------------------ */

/* The row of identity hash `dh' (HNIL: none and not `create'). */
/* Guarded rows looked past for one to recycle, at most. */
#define TARGET_SKIP	8

static uint32_t
target_slot(struct flood *f, uint64_t dh, bool create, uint64_t now)
{
	uint32_t	 s;

	for (s = hidx_first(&f->tix, dh); s != HNIL;
	    s = hidx_next(&f->tix, s))
		if (f->tkey[s] == dh) {
			if (create) {
				dlist_del(&f->tlru, s);
				dlist_push_tail(&f->tlru, s);
			}
			return s;
		}
	if (!create)
		return HNIL;
	if ((s = dlist_pop_head(&f->tfree)) == HNIL) {
		/*
		 * The least recently failed row goes, but not one whose
		 * guard (or quiet time) still holds: its guesses are dropped
		 * before they count as failures, so it is not refreshed, and
		 * failures for 16,384 other identities lifted a guard while
		 * its guesser paused (an attacker's review).  Such a row goes
		 * to the back.  Past TARGET_SKIP of them (the table nearly
		 * all guards: 20 failures each for thousands of identities)
		 * the next goes all the same, so that a new identity's
		 * failures are still counted (stats: target_rows_short).
		 */
		for (int k = 0; ; k++) {
			s = dlist_pop_head(&f->tlru);
			if ((f->trow[s].guard_until <= now &&
			    f->trow[s].quiet_until <= now) || k == TARGET_SKIP)
				break;
			dlist_push_tail(&f->tlru, s);
		}
		if (f->trow[s].guard_until > now ||
		    f->trow[s].quiet_until > now)
			f->trow_short++;
		hidx_del(&f->tix, s, f->tkey[s]);
	}
	memset(&f->trow[s], 0, sizeof(f->trow[s]));
	f->tkey[s] = dh;
	hidx_add(&f->tix, s, dh);
	dlist_push_tail(&f->tlru, s);
	return s;
}

enum flood_verdict
flood_target_failure(struct flood *f, const struct sg_tuple *t, int status,
    uint64_t now, struct flood_alarm *a)
{
	const struct sg_conf	*c = f->conf;
	struct trow		*r;
	uint32_t		 s;
	double			 secs;

	/* A 404 says the identity does not exist: nothing to guess. */
	if (status == 404 || f->ntrow == 0)
		return FLOOD_PASS;
	if ((s = target_slot(f, t->dh, true, now)) == HNIL)
		return FLOOD_PASS;
	r = &f->trow[s];
	if (r->count == 0 || now - r->start > c->target_window) {
		r->start = now;
		r->count = 0;
	}
	r->count++;
	if (r->count < (uint32_t)c->target_failures || r->quiet_until > now)
		return FLOOD_PASS;
	secs = (double)(now - r->start) / 1e9;
	memset(a, 0, sizeof(*a));
	a->type = ALARM_BRUTEFORCE;
	a->rate = r->count / (secs + 1e-3);
	a->blockable = false;	/* no source to block: SPEC 6 */
	snprintf(a->cls, sizeof(a->cls), "register,distributed,"
	    "password-guessing");
	if (c->target_guard > 0)
		snprintf(a->detail, sizeof(a->detail), "%u failed "
		    "authentications in %.0f s, any source; guarded %.0f s",
		    r->count, secs, (double)c->target_guard / 1e9);
	else
		snprintf(a->detail, sizeof(a->detail), "%u failed "
		    "authentications in %.0f s, any source", r->count, secs);
	r->guard_until = now + c->target_guard;
	r->quiet_until = now + (c->target_guard > c->target_window ?
	    c->target_guard : c->target_window);
	r->count = 0;
	return FLOOD_ALARM;
}

bool
flood_target_guarded(struct flood *f, const struct sg_tuple *t, uint64_t now)
{
	uint32_t	 s = f->ntrow > 0 ? target_slot(f, t->dh, false, now) :
			    HNIL;

	return s != HNIL && f->trow[s].guard_until > now;
}

/* ---- distinct identities: exact, then HyperLogLog ----------------------- */

static struct sketch *
sketch_of(struct flood *f, uint32_t slot)
{
	const struct dscan	*d = &f->sscan[slot];
	struct sketch		*k;

	if (d->sketch == 0)
		return NULL;
	k = &f->pool[d->sketch - 1];
	return k->owner == slot && k->start == d->scan_start ? k : NULL;
}

static void
sketch_release(struct flood *f, uint32_t slot)
{
	struct sketch	*k = sketch_of(f, slot);

	if (k != NULL)
		k->owner = UINT32_MAX;
	f->sscan[slot].sketch = 0;
}

static void
hll_add(struct sketch *k, uint32_t h)
{
	uint32_t	 idx = h >> (32 - HLL_BITS);
	uint32_t	 w = h << HLL_BITS;
	uint8_t		 rank = w != 0 ? (uint8_t)(__builtin_clz(w) + 1) :
			    (uint8_t)(32 - HLL_BITS + 1);

	if (rank <= k->reg[idx])
		return;
	if (k->reg[idx] == 0)
		k->zeros--;
	k->sum += ldexp(1.0, -rank) - ldexp(1.0, -k->reg[idx]);
	k->reg[idx] = rank;
}

/* Flajolet et al. 2007, with linear counting for the small range. */
static double
hll_estimate(const struct sketch *k)
{
	double	 m = HLL_M, alpha = 0.7213 / (1 + 1.079 / m);
	double	 e = alpha * m * m / k->sum;

	if (e <= 2.5 * m && k->zeros > 0)
		e = m * log(m / k->zeros);
	return e;
}

/*
 * A sketch for the row in `slot', which has just outgrown its exact set:
 * a free one, or one whose owner moved on (row recycled, window over).
 * None when every sketch counts a live scan: the row stays at
 * SCAN_EXACT until one frees (an alarm or a window's end frees its own;
 * flood.scan_sketches sizes the pool).  O(pool), once per row and window.
 */
static struct sketch *
sketch_take(struct flood *f, uint32_t slot, uint64_t now)
{
	struct dscan	*d = &f->sscan[slot];

	for (uint32_t n = 0; n < f->npool; n++) {
		struct sketch	*k = &f->pool[n];

		if (k->owner != UINT32_MAX && k->owner < f->nsrow &&
		    f->sscan[k->owner].sketch == n + 1 &&
		    f->sscan[k->owner].scan_start == k->start &&
		    now - k->start <= f->conf->bf_window)
			continue;	/* a live count */
		k->owner = slot;
		k->start = d->scan_start;
		k->zeros = HLL_M;
		k->sum = HLL_M;
		memset(k->reg, 0, sizeof(k->reg));
		d->sketch = n + 1;
		for (int e = 0; e < d->nexact; e++)
			hll_add(k, d->exact[e]);
		return k;
	}
	f->pool_short++;
	return NULL;
}

/* Count identity hash `h' for the row in `slot'; the distinct count. */
static double
scan_count(struct flood *f, uint32_t slot, uint32_t h, uint64_t now)
{
	struct dscan	*d = &f->sscan[slot];
	struct sketch	*k = sketch_of(f, slot);

	if (k == NULL) {
		for (int e = 0; e < d->nexact; e++)
			if (d->exact[e] == h)
				return d->nexact;
		if (d->nexact < SCAN_EXACT) {
			d->exact[d->nexact++] = h;
			return d->nexact;
		}
		if ((k = sketch_take(f, slot, now)) == NULL)
			return d->nexact;
	}
	hll_add(k, h);
	return hll_estimate(k);
}

enum flood_verdict
flood_register_probe(struct flood *f, const struct sg_tuple *t, bool bound,
    uint64_t now, struct flood_alarm *a)
{
	uint32_t	 slot = device_slot(f, t);
	struct frow	*r = &f->srow[slot];
	struct dscan	*d = &f->sscan[slot];
	double		 n;

	if (bound)
		r->flags |= ROW_BOUND;
	if (now - d->scan_start > f->conf->bf_window || d->nexact == 0) {
		sketch_release(f, slot);
		d->scan_start = now;
		d->nexact = 0;
	}
	/* The high half of the keyed 64-bit hash of the To identity. */
	n = scan_count(f, slot, (uint32_t)(t->dh >> 32), now);
	if (n < f->conf->scan_identities || r->quiet_until > now)
		return FLOOD_PASS;
	fire(f, r, t, ALARM_SCAN, SIPM_REGISTER, 0, 0, now, a);
	a->rate = n / ((double)(now - d->scan_start) / 1e9 + 1e-3);
	snprintf(a->detail, sizeof(a->detail), "%.0f identities in %.0f s", n,
	    (double)(now - d->scan_start) / 1e9);
	sketch_release(f, slot);
	d->nexact = 0;
	return FLOOD_ALARM;
}

/* ---- stats ------------------------------------------------------------------------------- */

void
flood_stats(const struct flood *f, uint64_t now, struct flood_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->training = flood_training(f, now);
	if (st->training && f->started && f->train_end > now)
		st->train_left = (double)(f->train_end - now) / 1e9;
	else if (!f->started)
		st->train_left = (double)f->conf->training_duration / 1e9;
	st->tdist_avg = f->tdist_avg;
	st->init_c_avg = f->init_c_avg;
	st->curr_c_avg = rate_of(f, now / NS_PER_SEC, ds_window(f),
	    past_sum(f, now / NS_PER_SEC, ds_window(f)));
	st->unbound_rate = f->unbound_rate;
	st->ds1 = f->ds1;
	st->sources_in_use = f->slru.count + f->klru.count;
	st->sources_capacity = f->nsrow;
	st->sources_recycled = f->recycled;
	st->admitted = f->admitted;
	st->refused = f->refused;
	st->scan_sketches = f->npool;
	st->scan_sketches_short = f->pool_short;
	st->target_rows_short = f->trow_short;
	st->memory = sizeof(*f) + (size_t)f->nbrow * sizeof(struct frow) +
	    (size_t)f->npool * sizeof(struct sketch) +
	    (size_t)f->ntrow * (sizeof(struct trow) + sizeof(uint64_t) +
	    3 * sizeof(struct hlink)) + hidx_memory(&f->tix, f->ntrow) +
	    (size_t)f->nsrow * (sizeof(struct frow) + sizeof(struct dscan) +
	    2 * sizeof(uint64_t) +
	    3 * sizeof(struct hlink)) + hidx_memory(&f->six, f->nsrow) +
	    hidx_memory(&f->mix, f->nsrow) +
	    (size_t)f->capsaved * sizeof(struct saved);
}

/* ---- baseline file ------------------------------------------------------------------------ */

/*
 * Values are written with 17 significant digits, which read back to the
 * same double (and a row's float) bit for bit: with a fixed six decimals
 * a gap under 0.5 us was saved as 0, and the loader refused its own file.
 */
int
flood_save_baseline(struct flood *f, FILE *fp)
{
	flood_baseline_head(f, fp);
	flood_baseline_rows(f, fp, 0, f->nbrow);
	return flood_baseline_tail(fp);
}

void
flood_baseline_head(const struct flood *f, FILE *fp)
{
	fprintf(fp, "sipguard-baseline 1\n");
	fprintf(fp, "tdist_avg %.17g\ninit_c_avg %.17g\nunbound_rate %.17g\n",
	    f->tdist_avg, f->init_c_avg, f->unbound_rate);
}

uint32_t
flood_baseline_rows(struct flood *f, FILE *fp, uint32_t from, uint32_t n)
{
	char		 mac[SG_MACSTRLEN], ip[SG_ADDRSTRLEN];
	uint32_t	 k, end;

	if (from >= f->nbrow)
		return f->nbrow;
	end = n > f->nbrow - from ? f->nbrow : from + n;

	for (k = from; k < end; k++) {
		const struct frow	*r = &f->brow[k];
		const struct binding	*b = bind_at(f->bt, k);
		char			 d[SG_ID_MAX];

		if (!row_of_live_binding(f, k) || r->init_davg <= 0)
			continue;
		/* d holds no blanks (a lower-cased URI), so %s reads back. */
		fprintf(fp, "row %s %s %.17g %s\n",
		    sg_mac_str(&b->m, b->has_m, mac, sizeof(mac)),
		    sg_addr_str(&b->i, ip, sizeof(ip)), r->init_davg,
		    bind_d(f->bt, b, d));
	}
	return k;
}

uint32_t
flood_baseline_rows_end(const struct flood *f)
{
	return f->nbrow;
}

int
flood_baseline_tail(FILE *fp)
{
	fprintf(fp, "end\n");
	return ferror(fp) ? -1 : 0;
}

int
flood_load_baseline(struct flood *f, FILE *fp, char *err, size_t errlen)
{
	char		 line[512], mac[32], ip[64], d[SG_ID_MAX + 8];
	double		 v, davg;
	int		 lineno = 0, ended = 0, tdist = 0;
	uint32_t	 cap = f->capsaved;

	/* The table is flood_create()'s, sized to the bindings. */
	f->nsaved = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, "sipguard-baseline 1\n") != 0)
				goto bad;
			continue;
		}
		/*
		 * T.Dist_Avg is 0 when every trained gap was (messages in
		 * the same nanosecond): what training left, so read back.
		 */
		if (sscanf(line, "tdist_avg %lf", &v) == 1 && v >= 0 &&
		    v < 1e7) {
			f->tdist_avg = v;
			tdist = 1;
		} else if (sscanf(line, "init_c_avg %lf", &v) == 1 && v >= 0 &&
		    v < 1e9)
			f->init_c_avg = v;
		else if (sscanf(line, "unbound_rate %lf", &v) == 1 &&
		    v >= 0 && v < 1e9)
			f->unbound_rate = v;
		else if (sscanf(line, "row %31s %63s %lf %135s", mac, ip,
		    &davg, d) == 4) {
			struct sg_mac	 m;
			struct sg_addr	 i;
			bool		 has_m = strcmp(mac, "none") != 0;

			if ((has_m && sg_mac_parse(mac, &m) == -1) ||
			    sg_addr_parse(ip, &i) == -1 || !(davg > 0) ||
			    davg > 1e7)
				goto bad;
			if (!has_m)
				memset(&m, 0, sizeof(m));
			if (f->nsaved == cap)
				continue;	/* more rows than bindings */
			saved_put(&f->saved[f->nsaved], binding_key(&m, has_m,
			    &i, hash_bytes(d, strlen(d))), (float)davg);
			f->nsaved++;
		} else if (strcmp(line, "end\n") == 0) {
			ended = 1;
			break;
		} else
			goto bad;
	}
	if (!ended || !tdist) {
		snprintf(err, errlen, ended ? "no tdist_avg line" :
		    "truncated (no end line)");
		f->nsaved = 0;
		return -1;
	}
	qsort(f->saved, f->nsaved, sizeof(*f->saved), cmp_saved);
	f->trained = true;
	f->started = true;
	return 0;
bad:
	snprintf(err, errlen, "line %d: not a baseline line", lineno);
	f->nsaved = 0;
	return -1;
}
