/*
 * control.c: what sipguardctl's requests do.  ctl.c hands over one line;
 * control_handle() splits it into words and runs the row of `commands'
 * it names.  The commands read and change the workers' engines under
 * their locks, through struct control: this file never sees a queue, a
 * thread or a file.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alarm.h"
#include "bind.h"
#include "clock.h"
#include "cluster.h"
#include "control.h"
#include "enforce.h"
#include "engine.h"
#include "dropcap.h"
#include "events.h"
#include "flood.h"
#include "hash.h"
#include "import.h"
#include "log.h"
#include "nft.h"
#include "state.h"
#include "whitelist.h"

/* ---- stats --------------------------------------------------------------- */

/* What `stats' shows: the workers' counters summed, taken at one time. */
struct snapshot {
	double			 uptime;	/* s */
	const char		*mode;
	int			 queues, queue_from;
	struct engine_stats	 e;
	uint64_t		 suppressed;	/* alarm log repeats held */
	struct engine_tables	 t;
	struct control_queue	 q;
	struct control_queue	 qs[CONTROL_QUEUES];	/* per queue */
	struct flood_stats	 f;		/* worker 0's baseline */
	bool			 nft;
	struct nft_stats	 n;
	struct events_stats	 ev;
	struct dropcap_stats	 dc;
	struct cluster_status	 cl;
};

enum field_kind {
	F_GROUP,	/* JSON "name":{ up to the F_END */
	F_END,
	F_INT,		/* int */
	F_U64,		/* uint64_t */
	F_STR,		/* const char * */
	F_BOOL,		/* bool: JSON true/false, text `yes'/`no' */
	F_SECS,		/* double: %.0f */
	F_RATE,		/* double: %.2f in text, %.3f in JSON */
	F_USE,		/* uint32_t in use at `at', capacity at `cap' */
	F_REASONS,	/* uint64_t[SG_R__COUNT]: those not 0 */
	F_ALARMS,	/* uint64_t[ALARM__COUNT]: all */
	F_CASES,	/* struct engine_cases: those counted */
};

#define ONLY_TEXT	1
#define ONLY_JSON	2

/*
 * One statistic.  JSON prints `"name":value' and groups nest; text
 * prints `pre', the value, then `post' (a group only its `pre' and its
 * end's `post'), and only when `when' holds if there is one; a group's
 * own `when' hides it whole from JSON and Prometheus too.
 *
 * Prometheus (control_metrics) exports the JSON rows that have a `help':
 * the family sipguard_<metric>, or sipguard_<group>_<name>, a counter
 * (_total) for F_U64, F_REASONS, F_ALARMS and F_CASES, else a gauge;
 * `label' a fixed label of its samples.  F_REASONS adds reason="...",
 * F_ALARMS type="...", F_CASES type, case and action (a sample for each
 * combination counted), F_USE is two gauges, <metric>_entries and _capacity, with
 * table="<name>", F_STR a gauge of 1 with the string as label `metric';
 * the rows of a group marked `each_queue' give one sample per queue.
 */
struct field {
	const char	*name;
	enum field_kind	 kind;
	size_t		 at, cap;	/* offsets in struct snapshot */
	const char	*pre, *post;
	const char	*yes, *no;
	int		 only;		/* 0: both */
	bool		(*when)(const struct snapshot *);
	const char	*metric, *label, *help;
	bool		 each_queue;	/* a group's rows: per queue */
};

static bool
cluster_on(const struct snapshot *s)
{
	return s->cl.enabled;
}

static bool
training(const struct snapshot *s)
{
	return s->f.training;
}

static bool
trained(const struct snapshot *s)
{
	return !s->f.training;
}

static bool
any_case(const struct snapshot *s)
{
	const struct engine_cases	*c = &s->e.alarm_cases;

	for (int t = 0; t < ALARM__COUNT; t++)
		for (int a = 0; a < ENGINE_CASE_ACTIONS; a++)
			if (c->other[t][a] > 0)
				return true;
	return c->used > 0;
}

static bool
sketches_short(const struct snapshot *s)
{
	return s->f.scan_sketches_short > 0;
}

static bool
target_rows_short(const struct snapshot *s)
{
	return s->f.target_rows_short > 0;
}

#define AT(m)	offsetof(struct snapshot, m)

/*
 * A counter added here shows in both renderings, and in the metrics once
 * it has a help text.  The order is JSON's; text wants each verdict's
 * total just before its reasons, so the drop total has a row of each.
 */
static const struct field stats_fields[] = {
	{ "uptime", F_SECS, AT(uptime), 0, .pre = "uptime ", .post = " s",
	    .metric = "uptime_seconds",
	    .help = "Seconds since the daemon started." },
	{ "mode", F_STR, AT(mode), 0, .pre = ", mode ", .metric = "mode",
	    .help = "The running mode (prevent or detect) as a label." },
	{ "queues", F_INT, AT(queues), 0, .pre = ", ",
	    .post = " queue(s)", .help = "NFQUEUE queues, a worker each." },
	{ "queue_from", F_INT, AT(queue_from), 0, .pre = " from ",
	    .post = "\n", .only = ONLY_TEXT },
	{ "packets", F_U64, AT(e.packets), 0, .pre = "packets ",
	    .help = "Packets judged." },
	{ "inbound", F_U64, AT(e.inbound), 0, .pre = " (inbound ",
	    .metric = "packets_by_direction", .label = "direction=\"inbound\"",
	    .help = "Packets judged, by direction (to the proxy, from it, "
	    "neither)." },
	{ "outbound", F_U64, AT(e.outbound), 0, .pre = ", outbound ",
	    .metric = "packets_by_direction",
	    .label = "direction=\"outbound\"", .help = "" },
	{ "transit", F_U64, AT(e.transit), 0, .pre = ", transit ",
	    .metric = "packets_by_direction",
	    .label = "direction=\"transit\"", .help = "" },
	{ "sip", F_U64, AT(e.sip), 0, .pre = "): SIP ",
	    .metric = "sip_messages", .help = "SIP messages judged." },
	{ "keepalive", F_U64, AT(e.keepalive), 0, .pre = ", keep-alives ",
	    .metric = "keepalives", .help = "Keep-alives (CRLF, STUN)." },
	{ "not_sip", F_U64, AT(e.not_sip), 0, .pre = ", not SIP ",
	    .help = "Packets on the SIP path that are not SIP." },
	{ "sctp", F_U64, AT(e.sctp), 0, .pre = " (SCTP ", .post = ")",
	    .help = "Inbound SCTP packets, not read (counted in not SIP)." },
	{ "malformed", F_U64, AT(e.malformed), 0, .pre = ", malformed ",
	    .post = "\n", .help = "Malformed SIP messages." },
	{ "accepted", F_U64, AT(e.verdict[SG_ACCEPT]), 0,
	    .pre = "accepted ", .post = ":",
	    .help = "Verdicts accept (messages, keep-alives, packets)." },
	{ "dropped", F_U64, AT(e.verdict[SG_DROP]), 0, .only = ONLY_JSON,
	    .help = "Verdicts drop (messages, keep-alives, packets)." },
	{ "accept", F_REASONS, AT(e.accept), 0, .post = "\n",
	    .metric = "verdicts", .label = "verdict=\"accept\"",
	    .help = "Verdicts by verdict and reason (the spoof case, or "
	    "what else decided)." },
	{ "dropped", F_U64, AT(e.verdict[SG_DROP]), 0, .pre = "dropped ",
	    .post = ":", .only = ONLY_TEXT },
	{ "drop", F_REASONS, AT(e.drop), 0, .post = "\n",
	    .metric = "verdicts", .label = "verdict=\"drop\"", .help = "" },
	{ "alarms", F_ALARMS, AT(e.alarms), 0, .pre = "alarms:",
	    .help = "Alarms raised, by type." },
	{ "alarms_suppressed", F_U64, AT(suppressed), 0, .pre = " (",
	    .post = " repeats suppressed in the log)\n",
	    .help = "Alarms without a log line of their own (aggregated, or "
	    "over the log budget)." },
	{ "alarm_cases", F_CASES, AT(e.alarm_cases), 0,
	    .pre = "alarms by case:", .post = "\n", .when = any_case,
	    .help = "Alarms raised, by type, case (the spoof case, what was "
	    "malformed, ...; \"-\" none, \"other\" past the table) and "
	    "action." },
	{ "tables", F_GROUP, 0, 0, .pre = "tables: " },
	{ "bindings", F_USE, AT(t.bindings), AT(t.bindings_cap),
	    .pre = "bindings ", .metric = "table",
	    .help = "A fixed-size table (they never grow), by name:" },
	{ "pending", F_USE, AT(t.pending), AT(t.pending_cap),
	    .pre = ", pending ", .metric = "table", .help = "" },
	{ "pending_guarded", F_USE, AT(t.pending_guarded),
	    AT(t.pending_guarded_cap), .pre = " (guarded ", .post = ")",
	    .metric = "table", .help = "" },
	{ "sources", F_USE, AT(t.sources), AT(t.sources_cap),
	    .pre = ", sources ", .metric = "table", .help = "" },
	{ "blacklist", F_USE, AT(t.blacklist), AT(t.blacklist_cap),
	    .pre = ", blacklist ", .metric = "table", .help = "" },
	{ "whitelist", F_USE, AT(t.whitelist), AT(t.whitelist_cap),
	    .pre = ", whitelist ", .metric = "table", .help = "" },
	{ "identity_cells", F_USE, AT(t.id_cells), AT(t.id_cells_cap),
	    .pre = ", identity cells ", .metric = "table", .help = "" },
	{ NULL, F_END, 0, 0, .post = "\n" },
	{ "whitelist_wrong_mac", F_U64, AT(e.wl_wrong_mac), 0,
	    .pre = "whitelisted prefixes from another MAC (judged): ",
	    .post = "\n", .help = "Messages from a whitelisted prefix but "
	    "not from the MAC its entry is pinned to: judged like any "
	    "other." },
	{ "lapsed", F_U64, AT(e.lapsed), 0,
	    .pre = "accepted on lapsed bindings (bindings.grace): ",
	    .post = "\n", .help = "Messages accepted on a binding past its "
	    "expiry, within bindings.grace." },
	{ "pending_guarded_evicted", F_U64, AT(t.pending_guarded_evicted), 0,
	    .pre = "guarded pending REGISTERs recycled for newer ones: ",
	    .post = "\n", .help = "Guarded pending REGISTERs (answering the "
	    "proxy's challenge with its nonce, or a bound device's) pushed "
	    "out by newer guarded ones: each a subscriber's answer that may "
	    "then match nothing (tables.pending)." },
	{ "queue", F_GROUP, 0, 0, .pre = "queue: ", .each_queue = true },
	{ "received", F_U64, AT(q.received), 0, .pre = "received ",
	    .help = "Packets received from the queue." },
	{ "enobufs", F_U64, AT(q.enobufs), 0, .pre = ", ENOBUFS ",
	    .help = "Receive errors ENOBUFS (the socket overflowed)." },
	{ "errors", F_U64, AT(q.errors), 0, .pre = ", errors ",
	    .help = "Other receive or verdict errors (after one, every "
	    "packet gets a verdict message of its own)." },
	{ "verdict_msgs", F_U64, AT(q.verdict_msgs), 0,
	    .pre = ", verdict messages ",
	    .help = "Verdict messages sent: a run of equal verdicts is one "
	    "batch verdict." },
	{ "kernel_dropped", F_U64, AT(q.kernel_dropped), 0,
	    .pre = "; kernel dropped ", .post = " (queue full)",
	    .help = "Packets the kernel dropped: the queue was full." },
	{ "user_dropped", F_U64, AT(q.user_dropped), 0, .pre = ", ",
	    .post = " (socket full)",
	    .help = "Packets the kernel dropped: the socket was full." },
	{ "idle", F_SECS, AT(q.idle), 0, .pre = "; last packet ",
	    .post = " s ago", .metric = "queue_idle_seconds",
	    .help = "Seconds since the queue's last packet." },
	{ "stall_us", F_SECS, AT(q.stall), 0, .pre = "; longest wait for "
	    "verdicts ", .post = " us", .metric = "queue_stall_microseconds",
	    .help = "The longest a batch of packets waited for its verdicts "
	    "since start (a worker stalled), microseconds." },
	{ "lock_wait_us", F_SECS, AT(q.lock_wait), 0, .pre = " (",
	    .post = " us of it for the engine's lock)",
	    .metric = "queue_lock_wait_microseconds",
	    .help = "Of that, the longest a batch waited for its worker's "
	    "lock, held by the main loop (a save, stats, the cluster), "
	    "microseconds." },
	{ NULL, F_END, 0, 0, .post = "\n" },
	{ "module2", F_GROUP, 0, 0, .pre = "module II: " },
	{ "training", F_BOOL, AT(f.training), 0, .only = ONLY_JSON,
	    .help = "1 while module II learns its baseline." },
	{ "train_left", F_SECS, AT(f.train_left), 0, .pre = "training, ",
	    .post = " s left", .when = training,
	    .metric = "module2_training_left_seconds",
	    .help = "Seconds of training left." },
	{ "tdist_avg", F_RATE, AT(f.tdist_avg), 0, .pre = "T.Dist_Avg ",
	    .post = " s", .when = trained,
	    .metric = "module2_tdist_avg_seconds",
	    .help = "T.Dist_Avg: the trained mean gap between messages." },
	{ "init_c_avg", F_RATE, AT(f.init_c_avg), 0, .pre = ", Init.C_Avg ",
	    .post = "/s", .when = trained,
	    .help = "Init.C_Avg: the trained message rate, per second." },
	{ "curr_c_avg", F_RATE, AT(f.curr_c_avg), 0, .pre = ", Curr.C_Avg ",
	    .post = "/s", .when = trained,
	    .help = "Curr.C_Avg: the current message rate, per second." },
	{ "ds1", F_BOOL, AT(f.ds1), 0, .pre = ", DS1 ", .yes = "raised",
	    .no = "clear", .when = trained,
	    .help = "1 while DS1 (a flood of the whole population) holds." },
	{ "scan_sketches_short", F_U64, AT(f.scan_sketches_short), 0,
	    .pre = ", scan sketches short ", .when = sketches_short,
	    .help = "Devices past 16 identities that found no free sketch "
	    "(flood.scan_sketches)." },
	{ "target_rows_short", F_U64, AT(f.target_rows_short), 0,
	    .pre = ", guarded identity rows recycled ",
	    .when = target_rows_short,
	    .help = "Rows of a guarded identity recycled for another's failures: "
	    "the table nearly all guards (flood.target_identities)." },
	{ NULL, F_END, 0, 0, .post = "\n" },
	{ "nft", F_GROUP, 0, 0, .pre = "nft offload: " },
	{ "enabled", F_BOOL, AT(nft), 0, .yes = "on", .no = "off",
	    .help = "1 if the blacklist is offloaded to nftables." },
	{ "added", F_U64, AT(n.added), 0, .pre = ", ", .post = " added",
	    .help = "Elements added to the kernel's sets." },
	{ "removed", F_U64, AT(n.removed), 0, .pre = ", ",
	    .post = " removed",
	    .help = "Elements removed from the kernel's sets." },
	{ "errors", F_U64, AT(n.errors), 0, .pre = ", ", .post = " errors",
	    .help = "Offload operations the kernel refused." },
	{ "batches", F_U64, AT(n.batches), 0, .pre = ", ",
	    .post = " batches", .help = "Netlink transactions sent." },
	{ "overflow", F_U64, AT(n.overflow), 0, .pre = ", ",
	    .post = " lost to a full queue",
	    .help = "Operations lost to a full offload queue." },
	{ "resyncs", F_U64, AT(n.resyncs), 0, .pre = ", ",
	    .post = " rebuilds",
	    .help = "Rebuilds of the kernel's sets after an overflow." },
	{ "restored", F_U64, AT(n.restored), 0, .pre = ", ",
	    .post = " restored after a flush",
	    .help = "Times the table was gone and was built again." },
	{ "known", F_U64, AT(n.known), 0, .pre = ", ",
	    .post = " bound devices sent",
	    .help = "Bound devices (m, i) sent to the kernel's sets kn4/kn6." },
	{ "admissions", F_U64, AT(n.admissions), 0,
	    .pre = ", admission in the kernel came on ",
	    .post = " times",
	    .help = "Times admission in the kernel came on (DS1)." },
	{ NULL, F_END, 0, 0, .post = "\n" },
	{ "events", F_GROUP, 0, 0, .pre = "event file: " },
	{ "written", F_U64, AT(ev.written), 0, .post = " written",
	    .help = "Lines written to the event file (log.json_file)." },
	{ "drops", F_U64, AT(ev.drops), 0, .pre = " (", .post = " drops)",
	    .help = "Drop lines (event_type drop) put in the event file's "
	    "buffer." },
	{ "drops_rate_skipped", F_U64, AT(ev.drops_skipped), 0, .pre = ", ",
	    .post = " drops skipped over the rate",
	    .help = "Dropped packets without a drop line: over "
	    "log.json_drops_rate." },
	{ "lost", F_U64, AT(ev.lost), 0, .pre = ", ",
	    .post = " lost to a full buffer",
	    .help = "Event lines dropped: the buffer was full." },
	{ "errors", F_U64, AT(ev.errors), 0, .pre = ", ",
	    .post = " lost to write errors",
	    .help = "Event lines dropped: no file, or a write failed." },
	{ NULL, F_END, 0, 0, .post = "\n" },
	{ "drops_capture", F_GROUP, 0, 0, .pre = "drops capture: " },
	{ "written", F_U64, AT(dc.written), 0, .post = " written",
	    .help = "Dropped packets written to the drops capture "
	    "(capture.drops_file)." },
	{ "rate_skipped", F_U64, AT(dc.rate), 0, .pre = ", ",
	    .post = " skipped over the rate",
	    .help = "Dropped packets not captured: over capture.drops_rate." },
	{ "lost", F_U64, AT(dc.lost), 0, .pre = ", ",
	    .post = " lost to a full buffer",
	    .help = "Dropped packets not captured: the buffer was full." },
	{ "errors", F_U64, AT(dc.errors), 0, .pre = ", ",
	    .post = " lost to write errors",
	    .help = "Dropped packets not captured: no file, or a write "
	    "failed." },
	{ "rotations", F_U64, AT(dc.rotations), 0, .pre = ", ",
	    .post = " rotations",
	    .help = "Files of the drops capture begun after a full one." },
	{ NULL, F_END, 0, 0, .post = "\n" },
	{ "cluster", F_GROUP, 0, 0, .pre = "cluster: ", .when = cluster_on },
	{ "enabled", F_BOOL, AT(cl.enabled), 0, .only = ONLY_JSON,
	    .help = "1 if the blacklist is shared (cluster.enabled)." },
	{ "connected", F_BOOL, AT(cl.connected), 0, .yes = "up",
	    .no = "DOWN (judging with the local state)",
	    .help = "1 while connected to Redis." },
	{ "events_out", F_U64, AT(cl.events_out), 0, .pre = ", ",
	    .post = " listings published",
	    .help = "Blacklist entries published to the cluster." },
	{ "events_in", F_U64, AT(cl.events_in), 0, .pre = ", ",
	    .post = " applied from peers",
	    .help = "Blacklist entries applied from other nodes' events." },
	{ "removals_out", F_U64, AT(cl.removals_out), 0, .pre = ", ",
	    .post = " removals published",
	    .help = "Removals (blacklist del/forget) published." },
	{ "removals_in", F_U64, AT(cl.removals_in), 0, .pre = ", ",
	    .post = " removals applied",
	    .help = "Removals applied from other nodes." },
	{ "binds_out", F_U64, AT(cl.binds_out), 0, .pre = ", ",
	    .post = " bindings published",
	    .help = "Bindings learned here published to the cluster." },
	{ "binds_in", F_U64, AT(cl.binds_in), 0, .pre = ", ",
	    .post = " bindings from peers",
	    .help = "Bindings received from other nodes' events." },
	{ "bind_removals_out", F_U64, AT(cl.bind_removals_out), 0,
	    .pre = ", ", .post = " de-registrations published",
	    .help = "Bindings removed here (de-registration) published." },
	{ "bind_removals_in", F_U64, AT(cl.bind_removals_in), 0,
	    .pre = ", ", .post = " de-registrations from peers",
	    .help = "Binding removals received from other nodes." },
	{ "binds_refused", F_U64, AT(cl.binds_refused), 0, .pre = ", ",
	    .post = " peers' bindings refused",
	    .help = "Other nodes' bindings refused here: the address is "
	    "another device's, a local quota, or the table's share for "
	    "peers is full." },
	{ "overflow", F_U64, AT(cl.overflow), 0, .pre = ", ",
	    .post = " lost to a full queue",
	    .help = "Messages lost: the outbound queue (cluster.queue) was "
	    "full." },
	{ "failures", F_U64, AT(cl.failures), 0, .pre = ", ",
	    .post = " connection failures",
	    .help = "Connections to Redis that failed or were lost." },
	{ NULL, F_END, 0, 0, .post = "\n", .when = cluster_on },
};

#undef AT

static void
add_worker(struct snapshot *s, const struct engine_stats *e,
    const struct engine_tables *t, const struct control_queue *q, bool first)
{
	s->e.packets += e->packets;
	s->e.inbound += e->inbound;
	s->e.outbound += e->outbound;
	s->e.transit += e->transit;
	s->e.sip += e->sip;
	s->e.keepalive += e->keepalive;
	s->e.not_sip += e->not_sip;
	s->e.sctp += e->sctp;
	s->e.malformed += e->malformed;
	for (int v = 0; v < 2; v++)
		s->e.verdict[v] += e->verdict[v];
	for (int r = 0; r < SG_R__COUNT; r++) {
		s->e.accept[r] += e->accept[r];
		s->e.drop[r] += e->drop[r];
	}
	for (int a = 0; a < ALARM__COUNT; a++)
		s->e.alarms[a] += e->alarms[a];
	/* Each worker's slots in its own order: merged by key. */
	for (uint32_t k = 0; k < e->alarm_cases.used; k++) {
		const struct engine_case *x = &e->alarm_cases.slot[k];

		engine_cases_add(&s->e.alarm_cases, (enum alarm_type)x->type,
		    x->kase, (enum alarm_action)x->action, x->n);
	}
	for (int ty = 0; ty < ALARM__COUNT; ty++)
		for (int a = 0; a < ENGINE_CASE_ACTIONS; a++)
			s->e.alarm_cases.other[ty][a] +=
			    e->alarm_cases.other[ty][a];
	s->t.bindings += t->bindings;
	s->t.bindings_cap += t->bindings_cap;
	s->t.id_cells += t->id_cells;
	s->t.id_cells_cap += t->id_cells_cap;
	s->t.pending += t->pending;
	s->t.pending_cap += t->pending_cap;
	s->t.pending_guarded += t->pending_guarded;
	s->t.pending_guarded_cap += t->pending_guarded_cap;
	s->t.pending_guarded_evicted += t->pending_guarded_evicted;
	s->t.sources += t->sources;
	s->t.sources_cap += t->sources_cap;
	s->t.blacklist += t->blacklist;
	s->t.blacklist_cap += t->blacklist_cap;
	s->e.wl_wrong_mac += e->wl_wrong_mac;
	s->e.lapsed += e->lapsed;
	if (first) {
		s->t.whitelist = t->whitelist;
		s->t.whitelist_cap = t->whitelist_cap;
	}
	s->q.received += q->received;
	s->q.enobufs += q->enobufs;
	s->q.errors += q->errors;
	s->q.verdict_msgs += q->verdict_msgs;
	s->q.kernel_dropped += q->kernel_dropped;
	s->q.user_dropped += q->user_dropped;
	/* The queues as one: idle as long as the busiest. */
	if (first || q->idle < s->q.idle)
		s->q.idle = q->idle;
	if (q->stall > s->q.stall)
		s->q.stall = q->stall;
	if (q->lock_wait > s->q.lock_wait)
		s->q.lock_wait = q->lock_wait;
}

static void
snapshot(struct control *c, struct snapshot *s)
{
	uint64_t	 now = clock_now();

	memset(s, 0, sizeof(*s));
	/*
	 * The engines' counters under the workers' locks, one worker at a
	 * time; the queues' (the worker's own, and a /proc file of the
	 * kernel's) need none, so a worker is never held while that file
	 * is read.
	 */
	for (int k = 0; k < c->nw; k++) {
		struct engine_stats	 e;
		struct engine_tables	 t;
		struct control_queue	 q;

		c->lock_one(c->arg, k, true);
		engine_stats(c->engines[k], &e);
		engine_tables(c->engines[k], now, &t);
		if (k == 0)
			flood_stats(engine_flood(c->engines[0]), now, &s->f);
		c->lock_one(c->arg, k, false);
		memset(&q, 0, sizeof(q));
		c->queue(c->arg, k, &q);
		add_worker(s, &e, &t, &q, k == 0);
		if (k < CONTROL_QUEUES)
			s->qs[k] = q;
	}
	if (c->nft != NULL)
		nft_stats(c->nft, &s->n);
	s->nft = c->nft != NULL;
	if (c->events != NULL)
		events_stats(c->events, &s->ev);
	if (c->dropcap != NULL)
		dropcap_stats(c->dropcap, &s->dc);
	if (c->cluster != NULL)
		cluster_status(c->cluster, &s->cl);
	s->suppressed = alarm_log_suppressed(c->alog);
	s->uptime = (double)(now - c->started) / 1e9;
	s->mode = c->conf->mode == MODE_DETECT ? "detect" : "prevent";
	s->queues = c->nw;
	s->queue_from = c->conf->queue_num;
}

/* " name=n" each, or {"name":n,...}; those at 0 only with `zeros'. */
static void
put_counts(struct ctl_buf *o, bool json, const uint64_t *v, int n,
    const char *(*name)(int), bool zeros)
{
	if (json)
		ctl_printf(o, "{");
	for (int k = 0, shown = 0; k < n; k++) {
		if (v[k] == 0 && !zeros)
			continue;
		if (json)
			ctl_printf(o, "%s\"%s\":%" PRIu64, shown ? "," : "",
			    name(k), v[k]);
		else
			ctl_printf(o, " %s=%" PRIu64, name(k), v[k]);
		shown++;
	}
	if (json)
		ctl_printf(o, "}");
}

/*
 * Row k of the case table, or of its overflow: type, case, action and
 * count; false past the end.  The overflow's rows only when not 0.
 */
static bool
case_row(const struct engine_cases *c, uint32_t *k, const char **type,
    const char **kase, const char **action, uint64_t *n)
{
	uint32_t	 j;

	for (;;) {
		if (*k < c->used) {
			const struct engine_case *x = &c->slot[*k];

			(*k)++;
			*type = alarm_type_str((enum alarm_type)x->type);
			*kase = x->kase[0] != '\0' ? x->kase : "-";
			*action = alarm_action_str((enum alarm_action)
			    x->action);
			*n = x->n;
			return true;
		}
		j = *k - c->used;
		if (j >= ALARM__COUNT * ENGINE_CASE_ACTIONS)
			return false;
		(*k)++;
		*n = c->other[j / ENGINE_CASE_ACTIONS][j % ENGINE_CASE_ACTIONS];
		if (*n == 0)
			continue;
		*type = alarm_type_str((enum alarm_type)(j /
		    ENGINE_CASE_ACTIONS));
		*kase = "other";
		*action = alarm_action_str((enum alarm_action)(j %
		    ENGINE_CASE_ACTIONS));
		return true;
	}
}

/* [{"type":..,"case":..,"action":..,"count":n},...], or " spoof/ix/block=n". */
static void
put_cases(struct ctl_buf *o, bool json, const struct engine_cases *c)
{
	const char	*t, *kase, *a;
	uint64_t	 n;
	uint32_t	 k = 0;
	bool		 first = true;

	if (json)
		ctl_printf(o, "[");
	while (case_row(c, &k, &t, &kase, &a, &n)) {
		if (json) {
			ctl_printf(o, "%s{\"type\":\"%s\",\"case\":",
			    first ? "" : ",", t);
			ctl_json_str(o, kase);
			ctl_printf(o, ",\"action\":\"%s\",\"count\":%" PRIu64
			    "}", a, n);
		} else
			ctl_printf(o, " %s/%s/%s=%" PRIu64, t, kase, a, n);
		first = false;
	}
	if (json)
		ctl_printf(o, "]");
}

static const char *
reason_name(int r)
{
	return sg_reason_str((enum sg_reason)r);
}

static const char *
alarm_name(int a)
{
	return alarm_type_str((enum alarm_type)a);
}

static void
put_value(struct ctl_buf *o, bool json, const struct field *f,
    const struct snapshot *s)
{
	const void	*v = (const char *)s + f->at;

	switch (f->kind) {
	case F_GROUP:
	case F_END:
		break;
	case F_INT:
		ctl_printf(o, "%d", *(const int *)v);
		break;
	case F_U64:
		ctl_printf(o, "%" PRIu64, *(const uint64_t *)v);
		break;
	case F_STR:
		if (json)
			ctl_json_str(o, *(const char *const *)v);
		else
			ctl_printf(o, "%s", *(const char *const *)v);
		break;
	case F_BOOL:
		if (json)
			ctl_printf(o, "%s", *(const bool *)v ? "true" :
			    "false");
		else
			ctl_printf(o, "%s", *(const bool *)v ? f->yes : f->no);
		break;
	case F_SECS:
		ctl_printf(o, "%.0f", *(const double *)v);
		break;
	case F_RATE:
		ctl_printf(o, json ? "%.3f" : "%.2f", *(const double *)v);
		break;
	case F_USE:
		ctl_printf(o, json ? "[%u,%u]" : "%u/%u", *(const uint32_t *)v,
		    *(const uint32_t *)(const void *)((const char *)s +
		    f->cap));
		break;
	case F_REASONS:
		put_counts(o, json, v, SG_R__COUNT, reason_name, false);
		break;
	case F_ALARMS:
		put_counts(o, json, v, ALARM__COUNT, alarm_name, true);
		break;
	case F_CASES:
		put_cases(o, json, v);
		break;
	}
}

/* A row's place: its group (NULL: none), and whether it goes per queue. */
static const struct field *
group_of(size_t k)
{
	const struct field	*g = NULL;

	for (size_t j = 0; j <= k; j++)
		if (stats_fields[j].kind == F_GROUP)
			g = &stats_fields[j];
		else if (stats_fields[j].kind == F_END)
			g = NULL;
	return g;
}

/* Row k is in a group whose `when' hides it (in every rendering). */
static bool
hidden(size_t k, const struct snapshot *s)
{
	const struct field	*g = group_of(k);

	return g != NULL && g->when != NULL && !g->when(s);
}

static void
render_text(struct ctl_buf *o, const struct snapshot *s)
{
	for (size_t k = 0; k < nitems(stats_fields); k++) {
		const struct field	*f = &stats_fields[k];

		if (f->only == ONLY_JSON || (f->when != NULL && !f->when(s)) ||
		    hidden(k, s))
			continue;
		ctl_printf(o, "%s", f->pre != NULL ? f->pre : "");
		put_value(o, false, f, s);
		ctl_printf(o, "%s", f->post != NULL ? f->post : "");
	}
}

static void
render_json(struct ctl_buf *o, const struct snapshot *s)
{
	bool	 first = true;

	ctl_printf(o, "{");
	for (size_t k = 0; k < nitems(stats_fields); k++) {
		const struct field	*f = &stats_fields[k];

		/* A group's `when' hides it whole (the cluster, when off). */
		if (f->kind == F_GROUP && f->when != NULL && !f->when(s)) {
			while (stats_fields[k].kind != F_END)
				k++;
			continue;
		}
		if (f->only == ONLY_TEXT)
			continue;
		if (f->kind == F_END) {
			ctl_printf(o, "}");
			first = false;
			continue;
		}
		ctl_printf(o, "%s\"%s\":", first ? "" : ",", f->name);
		if (f->kind == F_GROUP) {
			ctl_printf(o, "{");
			first = true;
			continue;
		}
		put_value(o, true, f, s);
		first = false;
	}
	ctl_printf(o, "}\n");
}

/* ---- the same table as Prometheus metrics -------------------------------- */

size_t
control_prom_label(char *buf, size_t len, const char *v)
{
	size_t	 o = 0;

	if (len < 3)
		return 0;
	buf[o++] = '"';
	for (; v != NULL && *v != '\0' && o + 3 < len; v++) {
		if (*v == '\\' || *v == '"') {
			buf[o++] = '\\';
			buf[o++] = *v;
		} else if (*v == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else
			buf[o++] = *v;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return o;
}

static bool
exported(const struct field *f)
{
	return f->help != NULL && f->only != ONLY_TEXT && f->kind != F_GROUP &&
	    f->kind != F_END;
}

static bool
is_counter(const struct field *f)
{
	return f->kind == F_U64 || f->kind == F_REASONS ||
	    f->kind == F_ALARMS || f->kind == F_CASES;
}

/* The family of row k (`part' 1: an F_USE row's capacity). */
static void
family(size_t k, int part, char *buf, size_t len)
{
	const struct field	*f = &stats_fields[k];
	const struct field	*g = group_of(k);

	if (f->kind == F_USE)
		snprintf(buf, len, "sipguard_%s_%s", f->metric, part ?
		    "capacity" : "entries");
	else if (f->metric != NULL)
		snprintf(buf, len, "sipguard_%s%s", f->metric, is_counter(f) ?
		    "_total" : "");
	else
		snprintf(buf, len, "sipguard_%s%s%s%s", g ? g->name : "",
		    g ? "_" : "", f->name, is_counter(f) ? "_total" : "");
}

/* "{a=\"x\",b=\"y\"}" of up to three labels (NULL: absent), or "". */
static void
labels(char *buf, size_t len, const char *l1, const char *l2,
    const char *l3)
{
	const char	*l[3] = { l1, l2, l3 };
	size_t		 o = 0;
	int		 n = 0;

	buf[0] = '\0';
	for (int k = 0; k < 3; k++) {
		if (l[k] == NULL || o >= len)
			continue;
		o += (size_t)snprintf(buf + o, len - o, "%s%s", n++ ? "," :
		    "{", l[k]);
	}
	if (n > 0 && o < len)
		snprintf(buf + o, len - o, "}");
}

/* name="value" with the value escaped. */
static const char *
label(char *buf, size_t len, const char *name, const char *v)
{
	char	 q[128];

	control_prom_label(q, sizeof(q), v);
	snprintf(buf, len, "%s=%s", name, q);
	return buf;
}

/* The samples of row k's `part', read from `base' (s, or a queue's). */
static void
samples(struct ctl_buf *o, size_t k, int part, const char *base,
    const char *queue)
{
	const struct field	*f = &stats_fields[k];
	const void		*v = base + f->at;
	char			 fam[96], ls[256], a[160];

	family(k, part, fam, sizeof(fam));
	switch (f->kind) {
	case F_CASES: {
		const char	*t, *kase, *act;
		char		 lt[160], lc[160], la[160], all[512], lsc[640];
		uint64_t	 n;
		uint32_t	 j = 0;

		while (case_row(v, &j, &t, &kase, &act, &n)) {
			label(lt, sizeof(lt), "type", t);
			label(lc, sizeof(lc), "case", kase);
			label(la, sizeof(la), "action", act);
			snprintf(all, sizeof(all), "%s,%s,%s", lt, lc, la);
			labels(lsc, sizeof(lsc), queue, f->label, all);
			ctl_printf(o, "%s%s %" PRIu64 "\n", fam, lsc, n);
		}
		return;
	}
	case F_REASONS:
	case F_ALARMS:
		for (int r = 0; r < (f->kind == F_REASONS ? SG_R__COUNT :
		    ALARM__COUNT); r++) {
			labels(ls, sizeof(ls), queue, f->label, label(a,
			    sizeof(a), f->kind == F_REASONS ? "reason" :
			    "type", f->kind == F_REASONS ? reason_name(r) :
			    alarm_name(r)));
			ctl_printf(o, "%s%s %" PRIu64 "\n", fam, ls,
			    ((const uint64_t *)v)[r]);
		}
		return;
	case F_USE:
		labels(ls, sizeof(ls), queue, f->label, label(a, sizeof(a),
		    "table", f->name));
		ctl_printf(o, "%s%s %u\n", fam, ls, *(const uint32_t *)(const
		    void *)(base + (part ? f->cap : f->at)));
		return;
	case F_STR:
		labels(ls, sizeof(ls), queue, f->label, label(a, sizeof(a),
		    f->metric, *(const char *const *)v));
		ctl_printf(o, "%s%s 1\n", fam, ls);
		return;
	default:
		break;
	}
	labels(ls, sizeof(ls), queue, f->label, NULL);
	ctl_printf(o, "%s%s ", fam, ls);
	switch (f->kind) {
	case F_INT:
		ctl_printf(o, "%d\n", *(const int *)v);
		break;
	case F_U64:
		ctl_printf(o, "%" PRIu64 "\n", *(const uint64_t *)v);
		break;
	case F_BOOL:
		ctl_printf(o, "%d\n", *(const bool *)v ? 1 : 0);
		break;
	case F_SECS:
	case F_RATE:
		ctl_printf(o, "%.3f\n", *(const double *)v);
		break;
	default:
		ctl_printf(o, "0\n");
		break;
	}
}

/* Row k's samples: once, or for each queue (from its own counters). */
static void
row_samples(struct ctl_buf *o, size_t k, int part, const struct snapshot *s)
{
	const struct field	*g = group_of(k);
	char			 q[32], a[160];

	if (g == NULL || !g->each_queue) {
		samples(o, k, part, (const char *)s, NULL);
		return;
	}
	for (int n = 0; n < s->queues && n < CONTROL_QUEUES; n++) {
		/* The row reads s->q: point it at this queue's copy. */
		const char *base = (const char *)&s->qs[n] -
		    offsetof(struct snapshot, q);

		snprintf(q, sizeof(q), "%d", s->queue_from + n);
		samples(o, k, part, base, label(a, sizeof(a), "queue", q));
	}
}

/*
 * The text exposition format: a family's HELP and TYPE, then all of its
 * samples, whichever rows they come from (the two verdicts, the four
 * tables); a family is never repeated.
 */
static void
render_prom(struct ctl_buf *o, const struct snapshot *s)
{
	char	 fam[96], other[96];

	for (size_t k = 0; k < nitems(stats_fields); k++) {
		const struct field	*f = &stats_fields[k];

		if (!exported(f) || hidden(k, s))
			continue;
		for (int part = 0; part < (f->kind == F_USE ? 2 : 1); part++) {
			bool	 seen = false;

			family(k, part, fam, sizeof(fam));
			for (size_t j = 0; j < k && !seen; j++)
				for (int p = 0; exported(&stats_fields[j]) &&
				    p < (stats_fields[j].kind == F_USE ? 2 : 1);
				    p++) {
					family(j, p, other, sizeof(other));
					seen |= strcmp(fam, other) == 0;
				}
			if (seen)
				continue;
			ctl_printf(o, "# HELP %s %s%s\n", fam, f->help,
			    f->kind == F_USE ? (part ? " its capacity." :
			    " entries in use.") : "");
			ctl_printf(o, "# TYPE %s %s\n", fam, is_counter(f) ?
			    "counter" : "gauge");
			for (size_t j = k; j < nitems(stats_fields); j++)
				for (int p = 0; exported(&stats_fields[j]) &&
				    p < (stats_fields[j].kind == F_USE ? 2 : 1);
				    p++) {
					family(j, p, other, sizeof(other));
					if (strcmp(fam, other) == 0)
						row_samples(o, j, p, s);
				}
		}
	}
}

void
control_metrics(struct control *c, struct ctl_buf *o)
{
	struct snapshot	 s;

	snapshot(c, &s);
	render_prom(o, &s);
}

static int
cmd_stats(struct control *c, char **args, int n, bool json,
    struct ctl_buf *o)
{
	struct snapshot	 s;

	(void)args;
	(void)n;
	snapshot(c, &s);
	if (json)
		render_json(o, &s);
	else
		render_text(o, &s);
	return 0;
}

/* ---- bindings ------------------------------------------------------------ */

static void
put_binding(struct ctl_buf *o, bool json, bool first,
    const struct bind_table *bt, const struct binding *b, uint64_t now)
{
	char		 mac[SG_MACSTRLEN], ip[SG_ADDRSTRLEN];
	char		 sip[SG_ADDRSTRLEN];
	char		 dbuf[SG_ID_MAX], ibuf[SG_ID_MAX];
	const char	*d = bind_d(bt, b, dbuf);
	const char	*impi = bind_impi(bt, b, ibuf);

	sg_mac_str(&b->m, b->has_m, mac, sizeof(mac));
	sg_addr_str(&b->i, ip, sizeof(ip));
	sg_addr_str(&b->s, sip, sizeof(sip));
	if (json) {
		ctl_printf(o, "%s{\"mac\":\"%s\",\"ip\":\"%s\",\"sip_ip\":"
		    "\"%s\",\"port\":%u,\"nat\":%s,\"identity\":", first ? "" :
		    ",", mac, ip, sip, b->port, b->nat ? "true" : "false");
		ctl_json_str(o, d);
		ctl_printf(o, ",\"impi\":");
		ctl_json_str(o, impi);
		ctl_printf(o, ",\"expires_in\":%.0f,\"lapsed\":%s}",
		    ((double)b->expires - (double)now) / 1e9,
		    b->expires <= now ? "true" : "false");
	} else
		ctl_printf(o, "%-40s %s %s sip_ip=%s port=%u%s impi=%s "
		    "expires_in=%.0f%s\n", d, mac, ip, sip, b->port,
		    b->nat ? " nat" : "", impi[0] ? impi : "-",
		    ((double)b->expires - (double)now) / 1e9,
		    b->expires <= now ? " lapsed" : "");
}

/*
 * Slots of a table looked at under one hold of a worker's lock by a
 * listing: about a quarter of a millisecond when every one is shown.
 */
#define LIST_PAGE	256

/* Which bindings a listing shows: all, one identity's, one address's. */
struct bfilter {
	const char	*identity;	/* NULL: any */
	bool		 has_addr;
	struct sg_addr	 addr;		/* its i or its s */
};

static bool
bfilter_match(const struct bfilter *f, const struct bind_table *bt,
    const struct binding *b)
{
	char	 dbuf[SG_ID_MAX];

	if (f->identity != NULL &&
	    strcasecmp(f->identity, bind_d(bt, b, dbuf)) != 0)
		return false;
	return !f->has_addr || sg_addr_eq(&f->addr, &b->i) ||
	    sg_addr_eq(&f->addr, &b->s);
}

/* A listing of bindings, slot by slot (sg_paged()). */
struct blist {
	struct control		*c;
	const struct bfilter	*f;
	struct bind_table	*bt;
	struct ctl_buf		*o;
	bool			 json;
	int			 n;
	uint64_t		 now;
	struct sg_keyset	 seen;
};

static void
blist_slot(void *arg, uint32_t s)
{
	struct blist		*l = arg;
	const struct binding	*b = bind_at(l->bt, s);

	if (b == NULL || !bind_held(l->bt, b, l->now) ||
	    !bfilter_match(l->f, l->bt, b) || (l->c->nw > 1 &&
	    !sg_keyset_add(&l->seen, bind_row_key(b))))
		return;
	put_binding(l->o, l->json, l->n == 0, l->bt, b, l->now);
	l->n++;
}

static int
list_bindings(struct control *c, const struct bfilter *f, bool json,
    struct ctl_buf *o)
{
	struct blist	 l = { .c = c, .f = f, .o = o, .json = json,
			    .now = clock_now() };

	if (json)
		ctl_printf(o, "{\"bindings\":[");
	/*
	 * Each worker learns the bindings of its own queue and holds those
	 * restored at start: list each binding once.  A worker is held a
	 * page of LIST_PAGE slots at a time, never for the whole table.
	 */
	if (c->nw > 1)
		sg_keyset_init(&l.seen, (size_t)c->nw *
		    bind_capacity(engine_bindings(c->engines[0])));
	for (int k = 0; k < c->nw; k++) {
		l.bt = engine_bindings(c->engines[k]);
		sg_paged(c->lock_one, c->arg, k, bind_capacity(l.bt),
		    LIST_PAGE, blist_slot, &l);
	}
	sg_keyset_free(&l.seen);
	if (json)
		ctl_printf(o, "],\"count\":%d}\n", l.n);
	else
		ctl_printf(o, "%d binding(s)\n", l.n);
	return 0;
}

static int
cmd_bindings(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	struct bfilter	 all = { NULL, false, { 0 } };

	(void)args;
	(void)nargs;
	return list_bindings(c, &all, json, o);
}

/* IDENTITY (user@host) or IP (the binding's source or SIP address). */
static int
cmd_bindings_show(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	struct bfilter	 f = { NULL, false, { 0 } };

	(void)nargs;
	if (sg_addr_parse(args[0], &f.addr) == 0)
		f.has_addr = true;
	else if (strchr(args[0], '@') != NULL)
		f.identity = args[0];
	else {
		ctl_printf(o, "error: neither an address nor an identity "
		    "(user@host): %s\n", args[0]);
		return -1;
	}
	return list_bindings(c, &f, json, o);
}

static int
cmd_version(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	(void)c;
	(void)args;
	(void)nargs;
	if (json)
		ctl_printf(o, "{\"version\":\"%s\"}\n", SG_VERSION);
	else
		ctl_printf(o, "sipguard %s\n", SG_VERSION);
	return 0;
}

static int
cmd_ping(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	(void)c;
	(void)args;
	(void)nargs;
	ctl_printf(o, json ? "{\"ping\":\"pong\"}\n" : "pong\n");
	return 0;
}

/*
 * FILE [DOMAIN]: the proxy's registrations (import.h).  Read and parsed
 * with no lock held; only the table inserts run under the workers' locks.
 */
/* Every worker's lock, for import_buf() (which lets go now and then). */
static void
import_hold(void *arg, bool on)
{
	struct control	*c = arg;

	if (on)
		c->lock(c->arg);
	else
		c->unlock(c->arg);
}

static int
cmd_bindings_import(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	struct bind_table	*bt[CONTROL_QUEUES];
	struct import_result	 r;
	const char		*domain = nargs > 1 ? args[1] :
				    c->conf->import_domain;
	char			 err[512], why[384];
	char			*buf;
	size_t			 len;
	uint64_t		 now = clock_now(), dumped;
	int			 rc, n = c->nw < (int)nitems(bt) ? c->nw :
				    (int)nitems(bt);

	if (args[0][0] != '/') {
		ctl_printf(o, "error: %s: not an absolute path (the daemon "
		    "reads it)\n", args[0]);
		return -1;
	}
	if (import_read(args[0], &buf, &len, now, &dumped, err,
	    sizeof(err)) == -1) {
		ctl_printf(o, "error: %s\n", err);
		return -1;
	}
	for (int k = 0; k < n; k++)
		bt[k] = engine_bindings(c->engines[k]);
	rc = import_buf(buf, len, domain, bt, n, dumped, now, import_hold, c,
	    &r, why, sizeof(why));
	free(buf);
	if (rc == -1) {
		ctl_printf(o, "error: %s: %s\n", args[0], why);
		return -1;
	}
	log_info("bindings: imported from %s (%s): %u contacts, %u new, %u "
	    "known, %u expired, %u refused (table full or quota), %u malformed",
	    args[0], r.format, r.contacts, r.imported, r.known, r.expired,
	    r.refused, r.malformed);
	if (json)
		ctl_printf(o, "{\"format\":\"%s\",\"records\":%u,"
		    "\"contacts\":%u,\"imported\":%u,\"known\":%u,"
		    "\"expired\":%u,\"refused\":%u,\"malformed\":%u}\n",
		    r.format, r.records, r.contacts, r.imported, r.known,
		    r.expired, r.refused, r.malformed);
	else
		ctl_printf(o, "imported %u of %u contacts (%s): %u known, "
		    "%u expired, %u refused (table full or quota), %u malformed\n",
		    r.imported, r.contacts, r.format, r.known, r.expired,
		    r.refused, r.malformed);
	return 0;
}

/* ---- blacklist ----------------------------------------------------------- */

/*
 * With several workers, a set to merge their blacklists by (each lists
 * its own queue's offenders; manual and restored entries are in all).
 * Left empty for one worker.  Called with every worker locked.
 */
static void
blacklist_keyset(struct control *c, struct sg_keyset *ks)
{
	size_t	 cap = 0;

	if (c->nw < 2)
		return;
	/* By capacity: entries added between a listing's pages find room. */
	for (int w = 0; w < c->nw; w++)
		cap += enf_capacity(engine_enforcer(c->engines[w]));
	sg_keyset_init(ks, cap);
}

struct listing {
	struct ctl_buf	*o;
	bool		 json;
	int		 n;
	uint64_t	 now;
	struct sg_keyset seen;		/* with several workers */
	bool		 dedup;
	struct enforcer	*e;		/* the table a listing pages */
};

static int
list_one(void *arg, const struct bl_entry *b)
{
	struct listing	*l = arg;
	char		 mac[SG_MACSTRLEN], ip[SG_ADDRSTRLEN];
	const char	*kind = b->key.kind == BL_K ? "K" : b->key.kind ==
			    BL_MI ? "mi" : "mip";

	if (l->dedup && !sg_keyset_add(&l->seen, hash_bytes(&b->key,
	    sizeof(b->key))))
		return 0;

	sg_mac_str((const struct sg_mac *)b->key.m, b->key.has_m, mac,
	    sizeof(mac));
	sg_addr_str(&b->key.i, ip, sizeof(ip));
	if (l->json) {
		ctl_printf(l->o, "%s{\"kind\":\"%s\",\"mac\":\"%s\",\"ip\":"
		    "\"%s\",\"port\":%u,\"why\":", l->n ? "," : "", kind, mac,
		    ip, b->key.port);
		ctl_json_str(l->o, b->why);
		ctl_printf(l->o, ",\"identity\":");
		ctl_json_str(l->o, b->d);
		ctl_printf(l->o, ",\"hits\":%" PRIu64 ",\"expires_in\":%.0f}",
		    b->hits, (double)(b->expires - l->now) / 1e9);
	} else {
		ctl_printf(l->o, "%-3s %s %s", kind, mac, ip);
		if (b->key.kind == BL_MIP)
			ctl_printf(l->o, " port=%u", b->key.port);
		if (b->key.kind == BL_K)
			ctl_printf(l->o, " identity=%s", b->d[0] ? b->d : "-");
		ctl_printf(l->o, " why=%s hits=%" PRIu64 " expires_in=%.0f\n",
		    b->why, b->hits, (double)(b->expires - l->now) / 1e9);
	}
	l->n++;
	return 0;
}

/* Slot s of the table a blacklist listing pages (sg_paged()). */
static void
list_slot(void *arg, uint32_t s)
{
	struct listing		*l = arg;
	const struct bl_entry	*b = enf_at(l->e, s, l->now);

	if (b != NULL)
		list_one(l, b);
}

/* "MAC IP [PORT]": the key of a manual (m, i) or (m, i, port) entry. */
static int
parse_key(char **args, int nargs, struct bl_key *k, char *why, size_t wlen)
{
	struct sg_tuple	 t;
	char		*end;
	long		 port = -1;

	memset(&t, 0, sizeof(t));
	if (nargs < 2 || nargs > 3) {
		snprintf(why, wlen, "want MAC IP [PORT]");
		return -1;
	}
	if (sg_mac_parse(args[0], &t.m) == -1) {
		snprintf(why, wlen, "bad MAC \"%s\"", args[0]);
		return -1;
	}
	t.has_m = true;
	if (sg_addr_parse(args[1], &t.i) == -1) {
		snprintf(why, wlen, "bad IP address \"%s\"", args[1]);
		return -1;
	}
	if (nargs == 3) {
		port = strtol(args[2], &end, 10);
		if (*end != '\0' || port < 1 || port > 65535) {
			snprintf(why, wlen, "bad port \"%s\"", args[2]);
			return -1;
		}
		t.sport = (uint16_t)port;
		enf_key_mip(k, &t);
	} else
		enf_key_mi(k, &t);
	return 0;
}

static int
cmd_blacklist_list(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	uint64_t	 now = clock_now();
	struct listing	 l = { .o = o, .json = json, .now = now,
			    .dedup = c->nw > 1 };

	(void)args;
	(void)nargs;
	if (json)
		ctl_printf(o, "{\"blacklist\":[");
	blacklist_keyset(c, &l.seen);
	/*
	 * Each worker lists its own queue's offenders, in its table's order
	 * (each entry says when it expires), a page of LIST_PAGE slots under
	 * its lock at a time: a full blacklist is never listed with a worker
	 * held throughout.
	 */
	for (int w = 0; w < c->nw; w++) {
		l.e = engine_enforcer(c->engines[w]);
		sg_paged(c->lock_one, c->arg, w, enf_capacity(l.e), LIST_PAGE,
		    list_slot, &l);
	}
	sg_keyset_free(&l.seen);
	if (json)
		ctl_printf(o, "],\"count\":%d}\n", l.n);
	else
		ctl_printf(o, "%d entr%s\n", l.n, l.n == 1 ? "y" : "ies");
	return 0;
}

/* MAC IP [PORT] [ttl SECONDS] */
static int
cmd_blacklist_add(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	uint64_t	 now = clock_now(), ttl = 0;
	struct bl_key	 k;
	char		 why[128];
	int		 kn = nargs, n = 0;

	if (kn >= 3 && strcmp(args[nargs - 2], "ttl") == 0) {
		char	*end;
		double	 secs = strtod(args[nargs - 1], &end);

		if (*end != '\0' || !(secs >= 1) || secs > 86400 * 30) {
			ctl_printf(o, "error: bad ttl \"%s\"\n",
			    args[nargs - 1]);
			return -1;
		}
		ttl = (uint64_t)(secs * 1e9);
		kn -= 2;
	}
	if (parse_key(args, kn, &k, why, sizeof(why)) == -1) {
		ctl_printf(o, "error: %s\n", why);
		return -1;
	}
	c->lock(c->arg);
	for (int w = 0; w < c->nw; w++)
		if (enf_add(engine_enforcer(c->engines[w]), &k, "manual", NULL,
		    ttl, now) == ACT_BLOCK)
			n++;
	c->unlock(c->arg);
	if (n == 0) {
		ctl_printf(o, "error: not listed (whitelisted source, or mode "
		    "= detect)\n");
		return -1;
	}
	ctl_printf(o, json ? "{\"added\":true}\n" : "added\n");
	log_info("blacklist: added by sipguardctl: %s %s%s%s", args[0],
	    args[1], kn == 3 ? " port " : "", kn == 3 ? args[2] : "");
	return 0;
}

/* MAC IP [PORT] */
static int
cmd_blacklist_del(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	struct bl_key	 k;
	char		 why[128];
	int		 n = 0;

	if (parse_key(args, nargs, &k, why, sizeof(why)) == -1) {
		ctl_printf(o, "error: %s\n", why);
		return -1;
	}
	c->lock(c->arg);
	for (int w = 0; w < c->nw; w++)
		n += enf_del(engine_enforcer(c->engines[w]), &k);
	c->unlock(c->arg);
	/* The cluster may hold it though this node does not. */
	if (c->cluster != NULL && cluster_shares(&k))
		cluster_removed(c->cluster, &k, clock_now());
	else if (n == 0) {
		ctl_printf(o, "error: no such entry\n");
		return -1;
	}
	if (n == 0)
		ctl_printf(o, json ? "{\"deleted\":false,\"cluster\":true}\n" :
		    "not listed here; removal sent to the cluster\n");
	else
		ctl_printf(o, json ? "{\"deleted\":true}\n" : "deleted\n");
	log_info("blacklist: deleted by sipguardctl: %s %s", args[0],
	    args[1]);
	return 0;
}

/* The shared entries a forget removes go to the cluster as removals. */
struct forgetting {
	struct control		*c;
	const struct sg_mac	*m;
	const struct sg_addr	*i;
	uint64_t		 now;
};

static int
forget_shared(void *arg, const struct bl_entry *b)
{
	struct forgetting	*f = arg;

	if ((f->m != NULL && b->key.has_m && memcmp(b->key.m, f->m->b,
	    sizeof(f->m->b)) == 0) || (f->i != NULL && sg_addr_eq(&b->key.i,
	    f->i)))
		cluster_removed(f->c->cluster, &b->key, f->now);
	return 0;
}

/* MAC | IP: every entry naming it, any kind. */
static int
cmd_blacklist_forget(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	struct sg_mac	 m;
	struct sg_addr	 i;
	struct sg_keyset seen = { NULL, 0, 0 };
	bool		 is_mac = sg_mac_parse(args[0], &m) == 0;
	int		 n = 0;

	(void)nargs;
	if (!is_mac && sg_addr_parse(args[0], &i) == -1) {
		ctl_printf(o, "error: \"%.64s\" is neither a MAC nor an IP "
		    "address\n", args[0]);
		return -1;
	}
	c->lock(c->arg);
	if (c->cluster != NULL) {
		struct forgetting f = { c, is_mac ? &m : NULL,
		    is_mac ? NULL : &i, clock_now() };

		for (int w = 0; w < c->nw; w++)
			enf_foreach(engine_enforcer(c->engines[w]), f.now,
			    forget_shared, &f);
	}
	blacklist_keyset(c, &seen);
	for (int w = 0; w < c->nw; w++)
		n += enf_forget(engine_enforcer(c->engines[w]), is_mac ? &m :
		    NULL, is_mac ? NULL : &i, c->nw > 1 ? &seen : NULL);
	c->unlock(c->arg);
	sg_keyset_free(&seen);
	/* And what other nodes hold that this one does not. */
	cluster_forget(c->cluster, is_mac ? &m : NULL, is_mac ? NULL : &i,
	    clock_now());
	if (json)
		ctl_printf(o, "{\"forgotten\":%d}\n", n);
	else
		ctl_printf(o, "forgot %d entr%s\n", n, n == 1 ? "y" : "ies");
	log_info("blacklist: %d entr%s naming %s forgotten by sipguardctl", n,
	    n == 1 ? "y" : "ies", args[0]);
	return 0;
}

/* ---- cluster ------------------------------------------------------------- */

static double
ago(uint64_t now, uint64_t t)
{
	return t != 0 && now > t ? (double)(now - t) / 1e9 : 0;
}

static int
cmd_cluster(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	struct cluster_status	 s;
	uint64_t		 now = clock_now();

	(void)args;
	(void)nargs;
	if (c->cluster == NULL) {
		ctl_printf(o, json ? "{\"enabled\":false}\n" : "cluster: off "
		    "(cluster.enabled = false)\n");
		return 0;
	}
	cluster_status(c->cluster, &s);
	if (json) {
		ctl_printf(o, "{\"enabled\":true,\"connected\":%s,"
		    "\"syncing\":%s,\"redis\":", s.connected ? "true" :
		    "false", s.syncing ? "true" : "false");
		ctl_json_str(o, s.redis);
		ctl_printf(o, ",\"node\":");
		ctl_json_str(o, s.node);
		ctl_printf(o, ",\"name\":");
		ctl_json_str(o, s.name);
		ctl_printf(o, ",\"segment\":");
		ctl_json_str(o, s.segment);
		ctl_printf(o, ",\"binds_out\":%" PRIu64 ",\"binds_in\":%"
		    PRIu64 ",\"bind_removals_out\":%" PRIu64
		    ",\"bind_removals_in\":%" PRIu64 ",\"binds_refused\":%"
		    PRIu64 ",\"refused_ip\":%" PRIu64 ",\"refused_quota\":%"
		    PRIu64 ",\"refused_full\":%" PRIu64 ",\"binds_unshared\":%"
		    PRIu64, s.binds_out, s.binds_in, s.bind_removals_out,
		    s.bind_removals_in, s.binds_refused, s.refused_ip,
		    s.refused_quota, s.refused_full, s.binds_unshared);
		ctl_printf(o, ",\"events_out\":%" PRIu64 ",\"events_in\":%"
		    PRIu64 ",\"removals_out\":%" PRIu64 ",\"removals_in\":%"
		    PRIu64 ",\"suppressed\":%" PRIu64 ",\"ignored\":%" PRIu64
		    ",\"queued\":%u,\"queue_capacity\":%u,\"in_flight\":%u,"
		    "\"overflow\":%" PRIu64 ",\"removals_kept\":%" PRIu64
		    ",\"connects\":%" PRIu64
		    ",\"failures\":%" PRIu64 ",\"resyncs\":%" PRIu64
		    ",\"resync_entries\":%" PRIu64 ",\"last_sync_ago\":",
		    s.events_out, s.events_in, s.removals_out, s.removals_in,
		    s.suppressed, s.ignored, s.queued, s.queue_cap, s.pending,
		    s.overflow, s.removals_kept, s.connects, s.failures,
		    s.resyncs, s.resync_entries);
		if (s.last_sync != 0)
			ctl_printf(o, "%.0f", ago(now, s.last_sync));
		else
			ctl_printf(o, "null");
		ctl_printf(o, ",\"down_for\":");
		if (!s.connected)
			ctl_printf(o, "%.0f,\"last_error\":", ago(now,
			    s.down_since));
		else
			ctl_printf(o, "null,\"last_error\":");
		ctl_json_str(o, s.last_error);
		ctl_printf(o, "}\n");
		return 0;
	}
	if (s.connected)
		ctl_printf(o, "cluster: connected%s\n", s.syncing ?
		    " (resync running)" : "");
	else
		ctl_printf(o, "cluster: DOWN for %.0f s (%s); judging with the "
		    "local state\n", ago(now, s.down_since), s.last_error);
	ctl_printf(o, "redis %s, node %s, segment %s, name %s\n", s.redis,
	    s.node, s.segment, s.name);
	ctl_printf(o, "bindings: %" PRIu64 " published, %" PRIu64 " from "
	    "peers; de-registrations: %" PRIu64 " published, %" PRIu64
	    " from peers; %" PRIu64 " refused (%" PRIu64 " address of "
	    "another device, %" PRIu64 " quota, %" PRIu64 " table full), %"
	    PRIu64 " kept local (not expressible)\n", s.binds_out, s.binds_in,
	    s.bind_removals_out, s.bind_removals_in, s.binds_refused,
	    s.refused_ip, s.refused_quota, s.refused_full, s.binds_unshared);
	ctl_printf(o, "listings: %" PRIu64 " published, %" PRIu64 " applied "
	    "from peers; removals: %" PRIu64 " published, %" PRIu64 " applied; "
	    "%" PRIu64 " refused (an older listing than a removal), %" PRIu64
	    " ignored (malformed)\n", s.events_out, s.events_in,
	    s.removals_out, s.removals_in, s.suppressed, s.ignored);
	ctl_printf(o, "queue: %u/%u, %" PRIu64 " lost to a full queue (%"
	    PRIu64 " removals kept in a publication's place), %u in flight\n",
	    s.queued, s.queue_cap, s.overflow, s.removals_kept, s.pending);
	if (s.last_sync != 0)
		ctl_printf(o, "last sync: %.0f s ago (%" PRIu64 " entries); ",
		    ago(now, s.last_sync), s.resync_entries);
	else
		ctl_printf(o, "last sync: never; ");
	ctl_printf(o, "%" PRIu64 " resync(s), %" PRIu64 " connection(s), %"
	    PRIu64 " failure(s)\n", s.resyncs, s.connects, s.failures);
	return 0;
}

/* ---- whitelist ------------------------------------------------------------ */

struct wlisting {
	struct control	*c;
	struct ctl_buf	*o;
	bool		 json;
	int		 n;
	uint64_t	 now;		/* s */
};

/* Seconds since a runtime entry was added. */
static uint64_t
age(const struct wlisting *l, const struct wl_entry *x)
{
	return l->now > x->added ? l->now - x->added : 0;
}

static int
list_whitelisted(void *arg, const struct wl_entry *x)
{
	struct wlisting	*l = arg;
	char		 prefix[SG_ADDRSTRLEN + 8], mac[SG_MACSTRLEN];
	uint64_t	 hits = 0;

	/* Every worker holds the same entries, each its own hits. */
	for (int w = 0; w < l->c->nw; w++) {
		const struct wl_entry *y = wl_find(engine_whitelist(
		    l->c->engines[w]), &x->spec.net);

		if (y != NULL)
			hits += y->hits;
	}
	wl_prefix_str(&x->spec.net, prefix, sizeof(prefix));
	sg_mac_str(&x->spec.mac, x->spec.pinned, mac, sizeof(mac));
	if (l->json) {
		ctl_printf(l->o, "%s{\"prefix\":\"%s\",\"mac\":", l->n ?
		    "," : "", prefix);
		if (x->spec.pinned)
			ctl_printf(l->o, "\"%s\"", mac);
		else
			ctl_printf(l->o, "null");
		ctl_printf(l->o, ",\"origin\":\"%s\",", wl_origin_name(
		    x->origin));
		if (x->added != 0)
			ctl_printf(l->o, "\"age\":%" PRIu64 ",", age(l, x));
		ctl_printf(l->o, "\"hits\":%" PRIu64 ",\"comment\":", hits);
		ctl_json_str(l->o, x->comment);
		ctl_printf(l->o, "}");
	} else {
		ctl_printf(l->o, "%-24s %s %-7s hits=%" PRIu64, prefix,
		    x->spec.pinned ? mac : "any-mac          ",
		    wl_origin_name(x->origin), hits);
		if (x->added != 0)
			ctl_printf(l->o, " age=%" PRIu64 "s", age(l, x));
		ctl_printf(l->o, "%s%s\n", x->comment[0] ? " " : "",
		    x->comment);
	}
	l->n++;
	return 0;
}

static int
cmd_whitelist_list(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	struct wlisting	 l = { .c = c, .o = o, .json = json,
			    .now = clock_now() / NS_PER_SEC };

	(void)args;
	(void)nargs;
	c->lock(c->arg);
	if (json)
		ctl_printf(o, "{\"whitelist\":[");
	wl_foreach(engine_whitelist(c->engines[0]), list_whitelisted, &l);
	c->unlock(c->arg);
	if (json)
		ctl_printf(o, "],\"count\":%d}\n", l.n);
	else if (l.n == 0)
		ctl_printf(o, "whitelist empty\n");
	return 0;
}

/* Persist a runtime change now; a failure is said, the change stays. */
static void
save_after(struct control *c, struct ctl_buf *o, bool json)
{
	char	 err[512];

	if (c->save_whitelist == NULL || c->save_whitelist(c->arg, err,
	    sizeof(err)) == 0)
		return;
	log_warnx("whitelist: not saved: %s", err);
	if (!json)
		ctl_printf(o, "warning: not saved (%s): it holds until the "
		    "next save or stop\n", err);
}

/* CIDR [MAC] [COMMENT...] */
static int
cmd_whitelist_add(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	struct wl_entry	 x = { .origin = WL_RUNTIME };
	char		 prefix[SG_ADDRSTRLEN + 8], mac[SG_MACSTRLEN], why[200];
	const char	*warn = NULL;
	int		 first = 1, rc = 0, was = 0, lifted = 0;
	size_t		 len = 0;

	/* A second word that looks like a MAC must be one: a typo never
	 * becomes a comment that leaves the entry unpinned. */
	if (nargs > 1 && wl_mac_like(args[1], strlen(args[1])))
		first = 2;
	if (wl_spec_parse(args[0], first == 2 ? args[1] : NULL, &x.spec, why,
	    sizeof(why)) == -1) {
		ctl_printf(o, "error: %s\n", why);
		return -1;
	}
	for (int k = first; k < nargs; k++) {
		int	 r = snprintf(x.comment + len, sizeof(x.comment) - len,
			    "%s%s", k > first ? " " : "", args[k]);

		if (r < 0 || (size_t)r >= sizeof(x.comment) - len) {
			ctl_printf(o, "error: comment longer than %zu "
			    "characters\n", sizeof(x.comment) - 1);
			return -1;
		}
		len += (size_t)r;
	}
	x.added = clock_now() / NS_PER_SEC;
	wl_prefix_str(&x.spec.net, prefix, sizeof(prefix));
	c->lock(c->arg);
	for (int w = 0; w < c->nw && rc >= 0; w++) {
		rc = wl_add(engine_whitelist(c->engines[w]), &x, &was);
		if (rc >= 0)
			lifted += enf_lift_whitelisted(engine_enforcer(
			    c->engines[w]), &x.spec.net);
	}
	c->unlock(c->arg);
	if (rc == -1) {
		ctl_printf(o, "error: %s is in the %s; change it there\n",
		    prefix, was == WL_CONF ? "configuration (whitelist)" :
		    "whitelist_file");
		return -1;
	}
	if (rc == -2) {
		ctl_printf(o, "error: the whitelist is full (tables.whitelist "
		    "= %u)\n", wl_capacity(engine_whitelist(c->engines[0])));
		return -1;
	}
	sg_mac_str(&x.spec.mac, x.spec.pinned, mac, sizeof(mac));
	if (!x.spec.pinned)
		warn = "not pinned to a MAC: anyone who can forge an address "
		    "in it is let through unjudged";
	else if (conf_is_gateway_mac(c->conf, &x.spec.mac))
		warn = "pinned to a gateway MAC (gateway_macs): every source "
		    "routed through it carries that MAC, so the pin stops "
		    "forgers on this segment only";
	log_info("whitelist: %s %s by sipguardctl%s%s%s%s", prefix,
	    rc == 1 ? "replaced" : "added", x.spec.pinned ? ", pinned to " :
	    ", not pinned to a MAC", x.spec.pinned ? mac : "",
	    x.comment[0] ? ": " : "", x.comment);
	if (json) {
		ctl_printf(o, "{\"added\":true,\"replaced\":%s,\"pinned\":"
		    "%s,\"lifted\":%d", rc == 1 ? "true" : "false",
		    x.spec.pinned ? "true" : "false", lifted);
		if (warn != NULL) {
			ctl_printf(o, ",\"warning\":");
			ctl_json_str(o, warn);
		}
		ctl_printf(o, "}\n");
	} else {
		ctl_printf(o, "%s %s", rc == 1 ? "replaced" : "added", prefix);
		if (x.spec.pinned)
			ctl_printf(o, ", pinned to %s", mac);
		if (lifted > 0)
			ctl_printf(o, "; %d blacklist entr%s lifted", lifted,
			    lifted == 1 ? "y" : "ies");
		ctl_printf(o, "\n");
		if (!x.spec.pinned)
			ctl_printf(o, "warning: %s; pin it: sipguardctl "
			    "whitelist add %s MAC\n", warn, prefix);
		else if (warn != NULL)
			ctl_printf(o, "warning: %s\n", warn);
	}
	save_after(c, o, json);
	return 0;
}

static int
cmd_whitelist_del(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	struct sg_cidr	 net;
	char		 prefix[SG_ADDRSTRLEN + 8];
	int		 rc = -1, was = 0;

	(void)nargs;
	if (sg_cidr_parse_exact(args[0], &net) == -1) {
		ctl_printf(o, "error: \"%.64s\" is not an address or CIDR "
		    "prefix (host bits set?)\n", args[0]);
		return -1;
	}
	wl_prefix_str(&net, prefix, sizeof(prefix));
	c->lock(c->arg);
	for (int w = 0; w < c->nw; w++)
		rc = wl_del(engine_whitelist(c->engines[w]), &net, &was);
	c->unlock(c->arg);
	if (rc == -1) {
		ctl_printf(o, "error: %s is not whitelisted (whitelist list "
		    "shows the prefixes)\n", prefix);
		return -1;
	}
	if (rc == -2) {
		ctl_printf(o, "error: %s is in the %s; remove it there and "
		    "reload\n", prefix, was == WL_CONF ?
		    "configuration (whitelist)" : "whitelist_file");
		return -1;
	}
	log_info("whitelist: %s removed by sipguardctl", prefix);
	ctl_printf(o, json ? "{\"removed\":true}\n" : "removed %s\n", prefix);
	save_after(c, o, json);
	return 0;
}

/* ---- reload, save, help -------------------------------------------------- */

static int
cmd_reload(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	(void)args;
	(void)nargs;
	(void)json;
	return c->reload(c->arg, o);
}

static int
cmd_save(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	struct state_counts	 sc;
	char			 err[512];

	(void)args;
	(void)nargs;
	if (c->save(c->arg, &sc, err, sizeof(err)) == -1) {
		log_warnx("save: %s", err);
		ctl_printf(o, "error: %s\n", err);
		return -1;
	}
	log_info("state saved: %u bindings, %u blacklist entries",
	    sc.bindings, sc.blacklist);
	if (json)
		ctl_printf(o, "{\"saved\":true,\"bindings\":%u,\"blacklist\":"
		    "%u}\n", sc.bindings, sc.blacklist);
	else
		ctl_printf(o, "saved %u bindings, %u blacklist entries to "
		    "%s/%s\n", sc.bindings, sc.blacklist, c->conf->state_dir,
		    STATE_FILE);
	return 0;
}

static int	cmd_help(struct control *, char **, int, bool,
		    struct ctl_buf *);

/*
 * The commands, those of one name in adjacent rows.  A request runs the
 * first row whose name, subcommand (the second word) and number of
 * further words fit.  None fits: a command with subcommands answers its
 * usage, any other word is an unknown command.  `help' lists the rows
 * with a help text; a subcommand's text begins with its own name.
 */
static const struct command {
	const char	*name;
	const char	*sub;		/* NULL: the name alone */
	int		 min, max;	/* words after name (and sub) */
	int		(*run)(struct control *, char **args, int nargs,
			    bool json, struct ctl_buf *);
	const char	*help;		/* NULL: not listed */
	const char	*desc;		/* what it does, for help NAME */
} commands[] = {
	{ "stats", NULL, 0, 0, cmd_stats, "stats",
	    "counters, tables, queues, module II, offload" },
	{ "bindings", NULL, 0, 0, cmd_bindings, NULL, NULL },
	{ "bindings", "list", 0, 0, cmd_bindings, "list",
	    "every registered binding (also: bindings alone)" },
	{ "bindings", "show", 1, 1, cmd_bindings_show, "show IDENTITY|IP",
	    "one subscriber's bindings, by identity or by IP or SIP IP" },
	{ "bindings", "import", 1, 2, cmd_bindings_import,
	    "import FILE [DOMAIN]",
	    "the proxy's registrations from a Kamailio ul.dump or OpenSIPS "
	    "ul_dump JSON file (an absolute path the daemon can read)" },
	{ "blacklist", NULL, 0, 0, cmd_blacklist_list, NULL, NULL },
	{ "blacklist", "list", 0, CONTROL_WORDS, cmd_blacklist_list, "list",
	    "the blacklist (also: blacklist alone)" },
	{ "blacklist", "add", 0, CONTROL_WORDS, cmd_blacklist_add,
	    "add MAC IP [PORT] [ttl SECONDS]",
	    "block (m, i) or (m, i, port) for SECONDS (blacklist.ttl)" },
	{ "blacklist", "del", 0, CONTROL_WORDS, cmd_blacklist_del,
	    "del MAC IP [PORT]", "remove one entry" },
	{ "blacklist", "forget", 1, 1, cmd_blacklist_forget, "forget MAC|IP",
	    "remove every entry naming the MAC or the IP" },
	{ "whitelist", NULL, 0, 0, cmd_whitelist_list, NULL, NULL },
	{ "whitelist", "list", 0, 0, cmd_whitelist_list, "list",
	    "every entry: prefix, MAC, where from, hits, comment" },
	{ "whitelist", "add", 1, CONTROL_WORDS, cmd_whitelist_add,
	    "add CIDR [MAC] [COMMENT]",
	    "never judge nor block CIDR (from MAC only, if given); kept in "
	    "the state file" },
	{ "whitelist", "del", 1, 1, cmd_whitelist_del, "del CIDR",
	    "remove an entry added with whitelist add" },
	{ "cluster", NULL, 0, 0, cmd_cluster, "cluster",
	    "the cluster's state: Redis, node, events in and out, queue, "
	    "last sync" },
	{ "reload", NULL, 0, 0, cmd_reload, "reload",
	    "re-read the configuration and whitelist_file (as SIGHUP)" },
	{ "save", NULL, 0, 0, cmd_save, "save", "write the state file now" },
	{ "version", NULL, 0, 0, cmd_version, "version",
	    "the daemon's version" },
	{ "ping", NULL, 0, 0, cmd_ping, "ping", "is the daemon up" },
	{ "help", NULL, 0, CONTROL_WORDS, cmd_help, NULL, NULL },
};

static bool
has_subcommands(const char *name)
{
	for (size_t k = 0; k < nitems(commands); k++)
		if (commands[k].sub != NULL && commands[k].help != NULL &&
		    strcmp(commands[k].name, name) == 0)
			return true;
	return false;
}

/* Does `help' list the command `name'? */
static bool
listed(const char *name)
{
	for (size_t k = 0; k < nitems(commands); k++)
		if (commands[k].help != NULL &&
		    strcmp(commands[k].name, name) == 0)
			return true;
	return false;
}

/* "name", or "name [sub ... | sub ...]" for a command with subcommands. */
static void
put_usage(struct ctl_buf *o, const char *name)
{
	int	 subs = 0;

	for (size_t k = 0; k < nitems(commands); k++) {
		const struct command	*cmd = &commands[k];

		if (cmd->help == NULL || strcmp(cmd->name, name) != 0)
			continue;
		if (cmd->sub == NULL)
			ctl_printf(o, "%s", cmd->help);
		else if (subs++ == 0)
			ctl_printf(o, "%s [%s", name, cmd->help);
		else
			ctl_printf(o, " | %s", cmd->help);
	}
	if (subs > 0)
		ctl_printf(o, "]");
}

/* help NAME: each form of the command, with what it does. */
static int
help_one(const char *name, struct ctl_buf *o)
{
	int	 n = 0;

	for (size_t k = 0; k < nitems(commands); k++) {
		const struct command	*cmd = &commands[k];

		if (cmd->help == NULL || strcmp(cmd->name, name) != 0)
			continue;
		ctl_printf(o, "%s%s%s\n    %s\n", cmd->sub != NULL ? name :
		    "", cmd->sub != NULL ? " " : "", cmd->help, cmd->desc);
		n++;
	}
	if (n == 0) {
		ctl_printf(o, "error: unknown command \"%.64s\" (try help)\n",
		    name);
		return -1;
	}
	return 0;
}

static int
cmd_help(struct control *c, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	int	 shown = 0;

	(void)c;
	(void)json;
	if (nargs >= 1 && strcmp(args[0], "help") != 0)
		return help_one(args[0], o);
	ctl_printf(o, "commands: ");
	for (size_t k = 0; k < nitems(commands); k++) {
		const char	*name = commands[k].name;

		if ((k > 0 && strcmp(commands[k - 1].name, name) == 0) ||
		    !listed(name))
			continue;
		if (shown++ > 0)
			ctl_printf(o, " | ");
		put_usage(o, name);
	}
	ctl_printf(o, "; help COMMAND for one; prefix json for JSON\n");
	return 0;
}

/* ---- dispatch ------------------------------------------------------------ */

static const struct command *
lookup(char **args, int n)
{
	for (size_t k = 0; k < nitems(commands); k++) {
		const struct command	*cmd = &commands[k];
		int			 rest;

		if (strcmp(cmd->name, args[0]) != 0)
			continue;
		if (cmd->sub != NULL && (n < 2 || strcmp(cmd->sub, args[1]) !=
		    0))
			continue;
		rest = n - (cmd->sub != NULL ? 2 : 1);
		if (rest >= cmd->min && rest <= cmd->max)
			return cmd;
	}
	return NULL;
}

int
control_handle(void *arg, char *line, bool json, struct ctl_buf *o)
{
	struct control		*c = arg;
	const struct command	*cmd;
	char			*args[CONTROL_WORDS], *save = NULL;
	int			 n = 0, skip;

	log_debug("control: %s%s", json ? "json " : "", line);
	for (char *t = strtok_r(line, " \t", &save); t != NULL; t = strtok_r(
	    NULL, " \t", &save)) {
		if (n == CONTROL_WORDS) {
			ctl_printf(o, "error: too many arguments\n");
			return -1;
		}
		args[n++] = t;
	}
	if (n == 0) {
		ctl_printf(o, "error: empty request\n");
		return -1;
	}
	if ((cmd = lookup(args, n)) != NULL) {
		skip = cmd->sub != NULL ? 2 : 1;
		return cmd->run(c, args + skip, n - skip, json, o);
	}
	if (has_subcommands(args[0])) {
		ctl_printf(o, "error: ");
		put_usage(o, args[0]);
		ctl_printf(o, "\n");
		return -1;
	}
	ctl_printf(o, "error: unknown command \"%.64s\" (try help)\n",
	    args[0]);
	return -1;
}
