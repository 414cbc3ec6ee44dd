/*
 * flood.h: module II, flood statistics (SPEC 5, the paper's Table I).
 * A row per binding (indexed by binding slot) and per not-yet-bound
 * device ((m, i), or (m, i, s) behind NAT) in a bounded table of its own
 * that recycles its least recently seen row, so outsiders' floods are
 * measured without making memory grow.  Every value is on packet time.
 *
 * Training (training.duration from the engine's first packet, or a loaded
 * baseline) learns T.Dist_Avg (eq. 1), Init.C_Avg, each row's Init.D_Avg
 * and the rate of messages from unknown sources; no alarm is raised while
 * it lasts.  After it: SS, DS1, DS2, IR, a device's rise over its own
 * trained rate (issue 11; raised as IR), admission while DS1 holds, and
 * brute force / scanning from the proxy's failure answers, per source
 * and per target identity.
 */
#ifndef SG_FLOOD_H
#define SG_FLOOD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "alarm.h"
#include "conf.h"
#include "sipguard.h"

struct binding;
struct bind_table;

/* What module II says about one message. */
enum flood_verdict {
	FLOOD_PASS = 0,
	FLOOD_ALARM,		/* an alarm fired on this message: drop it */
	FLOOD_THROTTLE,		/* a row over its rate, not blockable: drop */
};

/* One alarm module II wants raised (the engine formats and enforces). */
struct flood_alarm {
	enum alarm_type	 type;
	double		 rate;		/* msgs/s of the row (or global) */
	double		 ratio;		/* Curr.D_Avg / Init.D_Avg, or 0 */
	bool		 internal;	/* a bound source */
	bool		 blockable;	/* its (m, i) is not forged */
	bool		 notice;	/* alarm only: nothing blocked or
					   dropped (the rise test, unless
					   flood.rise_block) */
	char		 cls[96];	/* attack class, SPEC 5 */
	char		 detail[96];
};

struct flood_stats {
	bool		 training;
	double		 train_left;	/* seconds */
	double		 tdist_avg;	/* T.Dist_Avg, s */
	double		 init_c_avg;	/* Init.C_Avg, msgs/s */
	double		 curr_c_avg;	/* Curr.C_Avg, msgs/s */
	double		 unbound_rate;	/* trained, msgs/s */
	bool		 ds1;
	uint32_t	 sources_in_use, sources_capacity;
	uint64_t	 sources_recycled;
	uint64_t	 admitted, refused;
	uint32_t	 scan_sketches;		/* pool size */
	uint64_t	 scan_sketches_short;	/* asked, none free */
	uint64_t	 target_rows_short;	/* a failure with no row */
	size_t		 memory;
};

struct flood;

struct flood	*flood_create(const struct sg_conf *, struct bind_table *);
void		 flood_destroy(struct flood *);

/*
 * Count one message module I accepted.  `b' is its binding (NULL for a
 * REGISTER from a not-yet-bound device).  `txn' names its transaction
 * (every copy of a retransmitted request or answer has the same; 0:
 * none): a retransmission at RFC 3261's pace is not counted again (see
 * flood.c).  Fills `a' and returns FLOOD_ALARM when an alarm fires for
 * this row (the caller raises it and blocks the offender).
 */
enum flood_verdict flood_message(struct flood *, const struct sg_tuple *,
		    const struct binding *, enum sip_method, uint64_t txn,
		    uint64_t now, struct flood_alarm *a);
/* Does DS1 hold (admission decides)?  Ask first: what admission needs
 * costs lookups the common case never has to make. */
bool		 flood_ds1(const struct flood *);
/*
 * Admission while DS1 holds (SPEC 5), decided before the parse from the
 * source (m, i) alone: a source with no binding (`bound' false) and no
 * row module II trained or whose credentials the proxy accepted
 * (flood_granted()) waits for a token
 * of the bucket filled at the trained rate of unknown sources.  False:
 * refused (the message still counts in DS1's rate).
 */
bool		 flood_admission(struct flood *, const struct sg_tuple *,
		    bool bound, uint64_t now);
/*
 * The same in two steps (see bind_source_key()): the source's key, then
 * admission by that key.  The key is bind_source_key()'s: a caller that
 * has it asks flood_source_prefetch() instead of hashing again.
 */
uint64_t	 flood_source_key(const struct flood *, const struct sg_tuple *);
void		 flood_source_prefetch(const struct flood *, uint64_t key);
bool		 flood_admission_key(struct flood *, uint64_t key, bool bound,
		    uint64_t now);
/* A message module I dropped: part of the rate DS1 watches all the same. */
void		 flood_count_dropped(struct flood *, uint64_t now);
/*
 * DS1 changes state as time passes; call after each message and from the
 * timer.  Returns 1 when DS1 is raised, -1 when it clears (`a' filled
 * either way), 0 otherwise.
 */
int		 flood_ds1_edge(struct flood *, uint64_t now,
		    struct flood_alarm *a);

/* A REGISTER from this device carried credentials after a challenge. */
void		 flood_answered(struct flood *, const struct sg_tuple *);
/* The proxy accepted the device's credentials (a 2xx to its REGISTER):
 * module II knows it (admitted while DS1 holds, kept in a full table). */
void		 flood_granted(struct flood *, const struct sg_tuple *);
/*
 * The proxy answered a REGISTER from `t' (for identity hash `dh') with a
 * failure: 403/404, or 401/407 to credentials.  Returns FLOOD_ALARM with
 * `a' filled when brute force or scanning is recognised.
 */
enum flood_verdict flood_failure(struct flood *, const struct sg_tuple *,
		    bool bound, int status, uint64_t now,
		    struct flood_alarm *a);
/*
 * The same failure counted for its target identity (t->dh), from any
 * source: FLOOD_ALARM with `a' filled (nothing blockable: no one source
 * is the offender) when flood.target_failures fail within
 * flood.target_window; the identity is then guarded for
 * flood.target_guard (flood_target_guarded).  404s are not counted.
 */
enum flood_verdict flood_target_failure(struct flood *,
		    const struct sg_tuple *, int status, uint64_t now,
		    struct flood_alarm *a);
/*
 * Is identity t->dh guarded?  Then a REGISTER carrying credentials for it
 * from a source not bound to it is dropped; its own bound devices, and
 * every first (unauthenticated) REGISTER, pass.
 */
bool		 flood_target_guarded(struct flood *, const struct sg_tuple *,
		    uint64_t now);
/* Every REGISTER from a device, for the scan count (distinct To). */
enum flood_verdict flood_register_probe(struct flood *,
		    const struct sg_tuple *, bool bound, uint64_t now,
		    struct flood_alarm *a);

/*
 * The training clock (SPEC 5): started by the first packet the engine
 * sees at all, so training ends by time even when nothing reaches module
 * II (every packet blacklisted); flood_tick() ends it on the timer.
 */
void		 flood_clock(struct flood *, uint64_t now);
void		 flood_tick(struct flood *, uint64_t now);
bool		 flood_training(const struct flood *, uint64_t now);
void		 flood_stats(const struct flood *, uint64_t now,
		    struct flood_stats *);

/*
 * The learned baseline, as text (training.baseline_file): whole, or its
 * head, its rows [from, from + n) (returns where the next page starts,
 * flood_baseline_rows_end() when done) and its last line, a page at a
 * time, for a save that holds the tables no longer than a page.
 */
int		 flood_save_baseline(struct flood *, FILE *);
void		 flood_baseline_head(const struct flood *, FILE *);
uint32_t	 flood_baseline_rows(struct flood *, FILE *, uint32_t from,
		    uint32_t n);
uint32_t	 flood_baseline_rows_end(const struct flood *);
int		 flood_baseline_tail(FILE *);
int		 flood_load_baseline(struct flood *, FILE *, char *err,
		    size_t errlen);
/* End training now (after a replay with --learn, or a loaded file). */
void		 flood_finish_training(struct flood *, uint64_t now);

#endif
