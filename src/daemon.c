/*
 * daemon.c: the live service.  One worker thread per NFQUEUE, each with
 * its own engine (with --queue-balance the kernel hashes both directions
 * of a phone-proxy pair to one queue, so a worker sees a phone's
 * requests and the proxy's answers to it).  The main thread runs one
 * epoll loop over signals (signalfd), a one-second timer (timerfd) and
 * the control socket; it never judges packets.  A worker holds its
 * engine's lock while judging a batch; the main thread takes it for
 * ticks, reloads and saves, and control.c (the commands of the socket,
 * which see the service through struct control) for statistics and
 * blacklist changes.  What a worker must not wait on, the main loop
 * writes: the kernel's sets, the alarm lines of the log (journal, syslog,
 * stderr: workers queue them, alarm_log_set_writer()), the event file
 * (log.json_file: workers only queue formatted lines), the metrics file, the drops capture
 * (capture.drops_file: workers only queue the dropped packets), the
 * cluster's Redis (cluster.c: workers only queue the entries they list).
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "bind.h"
#include "capture_nfq.h"
#include "clock.h"
#include "cluster.h"
#include "conf.h"
#include "control.h"
#include "ctl.h"
#include "daemon.h"
#include "dropcap.h"
#include "enforce.h"
#include "engine.h"
#include "events.h"
#include "flood.h"
#include "hash.h"
#include "import.h"
#include "log.h"
#include "nft.h"
#include "state.h"
#include "whitelist.h"

#define WAIT_MS		200	/* a worker notices a stop within this */
#define ALOG_KEYS	4096

struct daemon;

struct worker {
	struct daemon	*d;
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	struct engine	*e;
	struct cap_nfq	*q;
	bool		 started;
	bool		 trained;	/* training end logged */
	bool		 pin_logged;	/* the pinned proxy MAC logged */
	uint64_t	 rx;		/* packets, at rx_at (mono ns) */
	uint64_t	 rx_at;
	const uint8_t	*pkt;		/* being judged: for alarms */
	size_t		 pktlen;
	/* The packet being judged, for the drops capture and events: */
	uint64_t	 now;
	enum sg_reason	 drop_reason;	/* its first drop, or none */
	bool		 alarmed;	/* its first alarm: */
	enum alarm_type	 alarm_type;
	enum alarm_action alarm_action;
	char		 alarm_case[24];
	/* Its drop event: the bucket asked at the first drop, and the
	 * message's fields copied then if it gave a token. */
	bool		 ev_asked, ev_admitted, ev_sip;
	char		 ev_method[SG_METHOD_MAX];
	int		 ev_code;
	char		 ev_call_id[SG_CALLID_MAX];
	char		 ev_from[SG_ID_MAX], ev_to[SG_ID_MAX];
};

struct daemon {
	const char	*conffile;
	const char *const *sets;
	int		 nsets;
	struct sg_conf	 conf;
	struct worker	*w;
	int		 nw;
	struct engine	**engines;
	struct alarm_log *alog;
	struct events	*events;	/* log.json_file */
	struct dropcap	*dropcap;	/* capture.drops_file */
	struct nft	*nft;
	struct cluster	*cluster;	/* cluster.enabled */
	/* Set while entries from other nodes are listed (every worker
	 * locked): the hook must not publish them back. */
	bool		 cluster_applying;
	int		 rp_phase;	/* republished: entries, bindings */
	int		 rp_worker;	/* ... in which worker */
	uint32_t	 rp_slot;
	struct ctl	*ctl;
	struct control	 control;	/* what the commands see */
	int		 epfd, sigfd, timerfd;
	int		 alogfd;	/* the alarm lines' wake-up */
	atomic_bool	 stop;
	uint64_t	 started, last_save, last_tick, last_nft_check;
	uint64_t	 last_metrics;
	/* admission in the kernel (nft.admission_port) while DS1 holds */
	bool		 admitting;
	uint32_t	 admit_rate;
	uint64_t	 admit_wl;	/* the whitelist's generation sent */
	bool		 admit_detect;
	uint64_t	 admit_sent;	/* 0: send it again */
	bool		 metrics_failing;	/* its failure logged */
	bool		 idle_logged;	/* the queues' silence logged */
	char		 baseline[512];
	bool		 foreground;
};

/* ---- workers ------------------------------------------------------------- */

/*
 * A dropped packet to the drops capture, its comment naming why:
 * "sipguard drop: reason=ix alarm=spoof case=ix action=block queue=0"
 * (no alarm: reason and queue alone).  A copy into a buffer; the main
 * loop writes it.
 */
static void
capture_drop(struct worker *w, const uint8_t *p, size_t len, uint64_t now)
{
	char	 c[DROPCAP_COMMENT_MAX];
	int	 n;

	n = snprintf(c, sizeof(c), "sipguard drop: reason=%s",
	    w->drop_reason != SG_R_NONE ? sg_reason_str(w->drop_reason) :
	    "-");
	if (w->alarmed && n > 0 && (size_t)n < sizeof(c))
		n += snprintf(c + n, sizeof(c) - (size_t)n,
		    " alarm=%s case=%s action=%s",
		    alarm_type_str(w->alarm_type),
		    w->alarm_case[0] != '\0' ? w->alarm_case : "-",
		    alarm_action_str(w->alarm_action));
	if (n > 0 && (size_t)n < sizeof(c))
		snprintf(c + n, sizeof(c) - (size_t)n, " queue=%u",
		    cap_nfq_num(w->q));
	dropcap_push(w->d->dropcap, p, len, now, c);
}

/*
 * A dropped packet to the event file (event_type "drop"), if the bucket
 * (log.json_drops_rate) gave it a token: formatted here, pushed under
 * the buffer's short lock; the main loop writes it.
 */
static void
event_drop(struct worker *w, const uint8_t *p, size_t len,
    const struct sg_mac *mac, uint64_t now)
{
	struct events_drop	 d;
	char			 line[EVENTS_LINE_MAX];
	size_t			 n;

	if (!w->ev_asked)
		w->ev_admitted = events_drop_admit(w->d->events, now);
	if (!w->ev_admitted)
		return;
	memset(&d, 0, sizeof(d));
	d.now = now;
	d.l3 = p;
	d.l3len = len;
	d.mac = mac;
	d.reason = w->drop_reason != SG_R_NONE ?
	    sg_reason_str(w->drop_reason) : NULL;
	d.queue = cap_nfq_num(w->q);
	if ((d.alarmed = w->alarmed)) {
		d.type = w->alarm_type;
		d.kase = w->alarm_case;
		d.action = w->alarm_action;
	}
	if ((d.sip = w->ev_sip)) {
		d.method = w->ev_method;
		d.code = w->ev_code;
		d.call_id = w->ev_call_id;
		d.from = w->ev_from;
		d.to = w->ev_to;
	}
	if ((n = events_drop(&d, line, sizeof(line))) > 0)
		events_push_drop(w->d->events, line, n);
}

static enum sg_verdict
judge(void *arg, const uint8_t *p, size_t len, const struct sg_mac *mac,
    enum engine_dir dir, unsigned csum, uint64_t now)
{
	struct worker	*w = arg;
	enum sg_verdict	 v;

	w->pkt = p;
	w->pktlen = len;
	w->now = now;
	w->drop_reason = SG_R_NONE;
	w->alarmed = false;
	w->ev_asked = w->ev_admitted = w->ev_sip = false;
	v = engine_packet_flags(w->e, LINK_RAW, p, len, mac, dir, csum, now);
	w->pkt = NULL;
	if (v == SG_DROP && dropcap_on(w->d->dropcap))
		capture_drop(w, p, len, now);
	if (v == SG_DROP && events_drops_on(w->d->events))
		event_drop(w, p, len, mac, now);
	return v;
}

/* The message's fields for its drop event (fixed arrays, cut). */
static void
keep_sip(struct worker *w, const struct sipm *m)
{
	w->ev_sip = true;
	snprintf(w->ev_method, sizeof(w->ev_method), "%s", m->request ?
	    m->method_str : "");
	w->ev_code = m->request ? 0 : m->status;
	snprintf(w->ev_call_id, sizeof(w->ev_call_id), "%s", m->call_id);
	snprintf(w->ev_from, sizeof(w->ev_from), "%s", m->from);
	snprintf(w->ev_to, sizeof(w->ev_to), "%s", m->to);
}

/*
 * Worker w's observer: the first message of the packet that was dropped
 * names the reason (a TCP segment may carry several).
 */
static void
worker_result(void *arg, const struct sg_result *r)
{
	struct worker	*w = arg;

	if (r->verdict != SG_DROP || w->drop_reason != SG_R_NONE)
		return;
	w->drop_reason = r->reason;
	/* The message is gone once the engine returns: its fields are
	 * copied now, and only for a drop that will have a line. */
	if (w->pkt != NULL && events_drops_on(w->d->events)) {
		w->ev_asked = true;
		w->ev_admitted = events_drop_admit(w->d->events, w->now);
		if (w->ev_admitted && r->msg != NULL)
			keep_sip(w, r->msg);
	}
}

/*
 * Worker w's alarm sink: the packet being judged goes with the alarm,
 * so that the event file can name its ports (alarms of a tick or of a
 * command have none).  Runs in the worker, under its lock.
 */
static void
worker_alarm(void *arg, const struct alarm *a)
{
	struct worker	*w = arg;
	struct alarm	 b = *a;

	if (w->pkt != NULL && !w->alarmed && (dropcap_on(w->d->dropcap) ||
	    events_drops_on(w->d->events))) {
		w->alarmed = true;
		w->alarm_type = a->type;
		w->alarm_action = a->action;
		snprintf(w->alarm_case, sizeof(w->alarm_case), "%s",
		    a->kase != NULL ? a->kase : "");
	}
	b.l3 = w->pkt;
	b.l3len = w->pktlen;
	alarm_log_emit(w->d->alog, &b);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	while (!atomic_load(&w->d->stop)) {
		if (cap_nfq_run(w->q, WAIT_MS, &w->lock, judge, w) == -1) {
			log_warn("queue %u", cap_nfq_num(w->q));
			/* A broken socket: keep answering nothing, but do
			 * not spin; the kernel's --queue-bypass applies
			 * once we are gone. */
			usleep(100000);
		}
	}
	return NULL;
}

/* ---- state --------------------------------------------------------------- */

/*
 * Worker w's lock was released: if the worker waits for it, it takes it
 * before the main loop may take it again.  A mutex is not fair: released
 * and taken again at once, page after page, it kept a worker waiting
 * through a whole listing of 60,000 bindings (109 ms).  Bounded, in case
 * the worker is slow to be scheduled.
 */
#define LET_IN_NS	(NS_PER_SEC / 1000)

static void
let_worker_in(struct worker *w)
{
	uint64_t	 t0 = clock_mono();

	while (w->q != NULL && cap_nfq_lock_wanted(w->q) &&
	    clock_mono() - t0 < LET_IN_NS)
		sched_yield();
}

/*
 * Worker w's lock alone, taken (hold) or released: what reads a whole
 * table (a save, a listing, the cluster's republication) holds one worker
 * a page at a time, never every worker while it formats, writes or
 * fsyncs (a save of 60,000 bindings held them all for 130 ms).
 */
static void
hold_worker(void *arg, int w, bool hold)
{
	struct daemon	*d = arg;

	if (hold)
		pthread_mutex_lock(&d->w[w].lock);
	else {
		pthread_mutex_unlock(&d->w[w].lock);
		let_worker_in(&d->w[w]);
	}
}

static void
lock_all(struct daemon *d)
{
	for (int k = 0; k < d->nw; k++)
		pthread_mutex_lock(&d->w[k].lock);
}

static void
unlock_all(struct daemon *d)
{
	for (int k = d->nw - 1; k >= 0; k--)
		pthread_mutex_unlock(&d->w[k].lock);
	for (int k = 0; k < d->nw; k++)
		let_worker_in(&d->w[k]);
}

static int	save_whitelist(struct daemon *, uint32_t *, char *, size_t);

static int
save_state(struct daemon *d, struct state_counts *c, char *err, size_t len)
{
	uint64_t	 now = clock_now();
	bool		 training;
	int		 rc;

	rc = state_save(d->conf.state_dir, d->engines, d->nw, now,
	    hold_worker, d, c, err, len);
	/* The baseline once learned (worker 0 speaks for all). */
	hold_worker(d, 0, true);
	training = flood_training(engine_flood(d->engines[0]), now);
	hold_worker(d, 0, false);
	if (rc == 0 && !training && state_baseline_save(d->engines[0],
	    d->baseline, now, hold_worker, d, err, len) == -1)
		rc = -1;
	if (rc == 0) {
		uint32_t	 nwl;

		rc = save_whitelist(d, &nwl, err, len);
	}
	if (rc == 0)
		d->last_save = now;
	return rc;
}

/* ---- configuration ------------------------------------------------------- */

static void	offload_all(struct daemon *);
static void	share_hook(void *, const struct bind_table *,
		    const struct binding *, const struct sg_tuple *, uint64_t);

static int
offload_one(void *arg, const struct bl_entry *b)
{
	struct daemon	*d = arg;

	if (b->key.kind != BL_K)
		nft_offload(d->nft, b, d->conf.mode != MODE_DETECT);
	return 0;
}

/*
 * The enforcer's hook, in a worker (under its lock) or in the main loop
 * (every worker locked): the kernel's copy, and the cluster's.  Only
 * copies into queues; the main loop sends.
 */
static void
offload_hook(void *arg, const struct bl_entry *b, bool add)
{
	struct daemon	*d = arg;

	if (d->nft != NULL)
		nft_offload(d->nft, b, add);
	/* Expiry and eviction are local: only listings travel; removals
	 * are an operator's (control.c). */
	if (add && d->cluster != NULL && !d->cluster_applying)
		cluster_offer(d->cluster, b);
}

/*
 * Settings the running daemon was built around (its queues, sockets,
 * directories) change only at restart: keep the running values, and say
 * which ones wait.
 */
static void
keep_restart_only(struct sg_conf *next, const struct sg_conf *cur)
{
	char	 names[256] = "";

#define KEEP(cond, name, field) do {					\
	if (cond) {							\
		if (strlen(names) + strlen(name) + 3 < sizeof(names))	\
			strcat(strcat(names, names[0] ? ", " : ""), name); \
		memcpy(&next->field, &cur->field, sizeof(cur->field));	\
	}								\
} while (0)
	KEEP(next->queue_num != cur->queue_num, "queue.num", queue_num);
	KEEP(next->queue_count != cur->queue_count, "queue.count",
	    queue_count);
	KEEP(next->queue_maxlen != cur->queue_maxlen, "queue.maxlen",
	    queue_maxlen);
	KEEP(next->queue_fail_open != cur->queue_fail_open,
	    "queue.fail_open", queue_fail_open);
	KEEP(next->queue_batch != cur->queue_batch, "queue.batch",
	    queue_batch);
	KEEP(next->nft_enabled != cur->nft_enabled, "nft.enabled",
	    nft_enabled);
	KEEP(strcmp(next->control_socket, cur->control_socket) != 0,
	    "control.socket", control_socket);
	KEEP(strcmp(next->state_dir, cur->state_dir) != 0, "state.dir",
	    state_dir);
	KEEP(strcmp(next->baseline_file, cur->baseline_file) != 0,
	    "training.baseline_file", baseline_file);
	KEEP(next->cluster_enabled != cur->cluster_enabled, "cluster.enabled",
	    cluster_enabled);
	KEEP(strcmp(next->cluster_node, cur->cluster_node) != 0,
	    "cluster.node", cluster_node);
	KEEP(strcmp(next->cluster_segment, cur->cluster_segment) != 0,
	    "cluster.segment", cluster_segment);
	KEEP(strcmp(next->cluster_name, cur->cluster_name) != 0,
	    "cluster.name", cluster_name);
	KEEP(strcmp(next->cluster_redis, cur->cluster_redis) != 0,
	    "cluster.redis", cluster_redis);
	KEEP(strcmp(next->cluster_sentinels, cur->cluster_sentinels) != 0,
	    "cluster.sentinels", cluster_sentinels);
	KEEP(strcmp(next->cluster_master, cur->cluster_master) != 0,
	    "cluster.master", cluster_master);
	KEEP(strcmp(next->cluster_password_file, cur->cluster_password_file) !=
	    0, "cluster.password_file", cluster_password_file);
	KEEP(strcmp(next->cluster_sentinel_password_file,
	    cur->cluster_sentinel_password_file) != 0,
	    "cluster.sentinel_password_file", cluster_sentinel_password_file);
	KEEP(next->cluster_timeout != cur->cluster_timeout, "cluster.timeout",
	    cluster_timeout);
	KEEP(next->cluster_queue != cur->cluster_queue, "cluster.queue",
	    cluster_queue);
#undef KEEP
	if (names[0] != '\0')
		log_warnx("reload: %s take%s effect at restart", names,
		    strchr(names, ',') ? "" : "s");
}

/*
 * whitelist_file: read whole first (-1 with the file and line in err,
 * nothing applied), then given to every worker with the configuration,
 * under one lock (its entries replace the file's previous ones).  With
 * the configuration's it must fit the running table.
 */
static int
whitelist_read(const struct daemon *d, const struct sg_conf *conf,
    struct wl_entry **x, uint32_t *n, char *err, size_t errlen)
{
	uint32_t	 cap = (uint32_t)d->conf.tab_whitelist;
	char		 why[600];

	if (wl_load_file(conf->whitelist_file, cap, x, n, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "whitelist_file %s", why);
		return -1;
	}
	if (*n + (uint32_t)conf->nwhitelist > cap) {
		snprintf(err, errlen, "whitelist_file %s: %u entries and %d in "
		    "the configuration do not fit tables.whitelist (%u)",
		    conf->whitelist_file, *n, conf->nwhitelist, cap);
		free(*x);
		*x = NULL;
		return -1;
	}
	return 0;
}

static int
copy_entry(void *arg, const struct wl_entry *x)
{
	struct wl_entry	**p = arg;

	*(*p)++ = *x;
	return 0;
}

static void
whitelist_log(const struct sg_conf *conf, uint32_t n, uint32_t lost)
{
	if (conf->whitelist_file[0] != '\0')
		log_info("whitelist: %u entries from %s", n,
		    conf->whitelist_file);
	if (lost > 0)
		log_warnx("whitelist: %u runtime entr%s gave way to the "
		    "configuration or the file (same prefix, or no room)",
		    lost, lost == 1 ? "y" : "ies");
}

/* The runtime whitelist entries (worker 0's: all hold the same), to
 * state.dir/whitelist.  Copied under the lock, written after. */
static int
save_whitelist(struct daemon *d, uint32_t *count, char *err, size_t len)
{
	struct whitelist	*wl = engine_whitelist(d->w[0].e);
	struct wl_entry		*x, *p;
	uint32_t		 n;
	int			 rc;

	pthread_mutex_lock(&d->w[0].lock);
	n = wl_count(wl);
	if ((x = calloc(n > 0 ? n : 1, sizeof(*x))) != NULL) {
		p = x;
		wl_foreach(wl, copy_entry, &p);
	}
	pthread_mutex_unlock(&d->w[0].lock);
	if (x == NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	rc = state_whitelist_save(d->conf.state_dir, x, n, count, err, len);
	free(x);
	return rc;
}

static int
reload(struct daemon *d, struct ctl_buf *out)
{
	struct sg_conf		 next;
	struct conf_errors	 errs;
	struct wl_entry		*wl;
	uint32_t		 nwl, lost = 0;
	char			 why[700];
	int			 ignored = 0;

	sd_notify(0, "RELOADING=1");
	if (conf_load(d->conffile, d->sets, d->nsets, &next, &errs) == -1) {
		log_warnx("reload: configuration rejected, the running one "
		    "is kept:\n%s", errs.buf);
		if (out != NULL)
			ctl_printf(out, "error: configuration rejected, the "
			    "running one is kept\n%s", errs.buf);
		sd_notify(0, "READY=1");
		return -1;
	}
	keep_restart_only(&next, &d->conf);
	if (whitelist_read(d, &next, &wl, &nwl, why, sizeof(why)) == -1) {
		log_warnx("reload: %s; the running configuration is kept",
		    why);
		if (out != NULL)
			ctl_printf(out, "error: %s; the running configuration "
			    "is kept\n", why);
		sd_notify(0, "READY=1");
		return -1;
	}
	lock_all(d);
	for (int k = 0; k < d->nw; k++) {
		ignored |= engine_reload(d->w[k].e, &next);
		lost = engine_whitelist_file(d->w[k].e, wl, nwl);
	}
	unlock_all(d);
	free(wl);
	whitelist_log(&next, nwl, lost);
	if (ignored)
		log_warnx("reload: table sizes take effect at restart");
	alarm_log_set_interval(d->alog, next.log_aggregate);
	if (strcmp(next.log_json_file, d->conf.log_json_file) != 0)
		events_reopen(d->events, next.log_json_file);
	events_set_drops_rate(d->events, (uint32_t)next.log_json_drops_rate);
	dropcap_configure(d->dropcap, next.drops_file,
	    (uint64_t)next.drops_size, next.drops_files,
	    (uint32_t)next.drops_rate);
	alarm_log_set_budget(d->alog, (uint32_t)next.log_budget,
	    (uint32_t)next.log_burst, (uint32_t)next.log_budget_total);
	if (conf_facility(&next) != conf_facility(&d->conf))
		log_set_facility(conf_facility(&next));
	if (d->nft != NULL && (next.admission_port != d->conf.admission_port ||
	    next.admission_ceiling != d->conf.admission_ceiling ||
	    next.nproxy != d->conf.nproxy || memcmp(next.proxy, d->conf.proxy,
	    sizeof(next.proxy)) != 0)) {
		int	 rc = nft_configure(d->nft, next.mode == MODE_DETECT,
			    (uint16_t)next.admission_port,
			    (uint32_t)next.admission_ceiling, next.proxy,
			    next.nproxy);

		d->conf.admission_port = next.admission_port;
		if (rc == 1)
			offload_all(d);
		d->admitting = false;
		d->admit_sent = 0;
	}
	{
		bool	 mode_changed = next.mode != d->conf.mode;

		d->conf = next;
		/*
		 * detect drops nothing: the kernel's copy of the blacklist
		 * goes; back to prevent, it returns.
		 */
		if (mode_changed && d->nft != NULL) {
			lock_all(d);
			for (int k = 0; k < d->nw; k++)
				enf_foreach(engine_enforcer(d->w[k].e),
				    clock_now(), offload_one, d);
			unlock_all(d);
		}
	}
	log_info("reload: configuration %s applied", d->conffile ?
	    d->conffile : "(defaults)");
	if (out != NULL)
		ctl_printf(out, "reloaded %s\n", d->conffile ? d->conffile :
		    "(defaults)");
	sd_notify(0, "READY=1");
	return 0;
}

/* ---- what control.c sees of the service ---------------------------------- */

/* Queue drops the kernel counted (/proc/net/netfilter/nfnetlink_queue). */
static void
kernel_queue(uint16_t qnum, uint64_t *qdrop, uint64_t *udrop)
{
	FILE		*fp = fopen("/proc/net/netfilter/nfnetlink_queue", "r");
	char		 line[256];
	unsigned int	 q, pid, tot, mode, range, qd, ud, seq, one;

	*qdrop = *udrop = 0;
	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "%u %u %u %u %u %u %u %u %u", &q, &pid, &tot,
		    &mode, &range, &qd, &ud, &seq, &one) == 9 && q == qnum) {
			*qdrop = qd;
			*udrop = ud;
		}
	fclose(fp);
}

static void
on_lock(void *arg)
{
	lock_all(arg);
}

static void
on_unlock(void *arg)
{
	unlock_all(arg);
}

static void
on_queue(void *arg, int k, struct control_queue *cq)
{
	struct daemon		*d = arg;
	struct cap_nfq_stats	 q;

	cap_nfq_stats(d->w[k].q, &q);
	cq->received = q.packets;
	cq->enobufs = q.enobufs;
	cq->verdict_msgs = q.verdict_msgs;
	cq->errors = q.errors;
	cq->idle = (double)(clock_mono() - d->w[k].rx_at) / 1e9;
	cq->stall = (double)q.batch_max_ns / 1e3;
	cq->lock_wait = (double)q.lock_wait_max_ns / 1e3;
	kernel_queue(cap_nfq_num(d->w[k].q), &cq->kernel_dropped,
	    &cq->user_dropped);
}

static int
on_reload(void *arg, struct ctl_buf *out)
{
	return reload(arg, out);
}

static int
on_save(void *arg, struct state_counts *c, char *err, size_t errlen)
{
	return save_state(arg, c, err, errlen);
}

static int
on_save_whitelist(void *arg, char *err, size_t errlen)
{
	uint32_t	 n;

	return save_whitelist(arg, &n, err, errlen);
}

/* ---- the loop ------------------------------------------------------------ */

/*
 * The kernel operations the workers queued, sent (SPEC 6: no worker ever
 * waits on netlink).  After an overflow the table was rebuilt: every
 * entry goes again.
 */
/*
 * Every binding with a MAC into the kernel's set of bound devices: at
 * start and after the table was rebuilt.  Copied under the workers'
 * locks, sent after (the workers never wait on netlink).
 */
/* The bound devices copied for the kernel's set (sg_paged()). */
struct known_copy {
	struct nft_known_dev	*dev;
	size_t			 n;
	struct bind_table	*bt;
	uint64_t		 now, grace;
};

static void
known_slot(void *arg, uint32_t s)
{
	struct known_copy	*kc = arg;
	const struct binding	*b = bind_at(kc->bt, s);

	if (b == NULL || !b->has_m || b->expires + kc->grace <= kc->now)
		return;
	kc->dev[kc->n].m = b->m;
	kc->dev[kc->n].i = b->i;
	kc->dev[kc->n++].expires = b->expires + kc->grace;
}

/* Binding slots copied under one hold of a worker's lock (a few ns each). */
#define OFFLOAD_PAGE	16384

static void
offload_known(struct daemon *d)
{
	struct known_copy	 kc = { .grace = d->conf.bind_grace,
				    .now = clock_now() };
	size_t			 cap = 0;

	if (d->nft == NULL || d->conf.admission_port == 0)
		return;
	for (int k = 0; k < d->nw; k++)
		cap += bind_capacity(engine_bindings(d->w[k].e));
	if ((kc.dev = calloc(cap > 0 ? cap : 1, sizeof(*kc.dev))) == NULL) {
		log_warnx("nft: no memory to offload the bindings");
		return;
	}
	/* Copied a page at a time, one worker held (a firewall reload
	 * rebuilds the set while the workers judge). */
	for (int k = 0; k < d->nw; k++) {
		kc.bt = engine_bindings(d->w[k].e);
		sg_paged(hold_worker, d, k, bind_capacity(kc.bt),
		    OFFLOAD_PAGE, known_slot, &kc);
	}
	if (nft_known_many(d->nft, kc.dev, (uint32_t)kc.n) == -1)
		log_warnx("nft: the bound devices could not all be offloaded");
	free(kc.dev);
}

static void
offload_all(struct daemon *d)
{
	lock_all(d);
	for (int k = 0; k < d->nw; k++)
		enf_foreach(engine_enforcer(d->w[k].e), clock_now(),
		    offload_one, d);
	unlock_all(d);
	nft_flush(d->nft);
	offload_known(d);
	d->admit_sent = 0;	/* the chain admit anew, if DS1 holds */
}

/*
 * SPEC 5 in the kernel: while DS1 holds on any queue, SIP to the proxy
 * from sources neither bound nor whitelisted is limited in the kernel to
 * the rate the workers admit (their sum), before the queue; off when DS1
 * clears.  While on, the chain is replaced when the rate moves by more
 * than a quarter or the whitelist changes (a replaced rule starts a new
 * bucket and a new counter: not for nothing).
 */
static int
collect_prefix(void *arg, const struct wl_entry *x)
{
	struct wl_spec	**p = arg;

	*(*p)++ = x->spec;
	return 0;
}

static void
admission(struct daemon *d, uint64_t now)
{
	struct whitelist	*w0;
	struct wl_spec		*wl = NULL, *p;
	uint32_t		 nwl = 0;
	uint64_t		 gen = 0;
	double			 rate = 0;
	bool			 ds1 = false;
	/* IDS: the kernel drops nothing either. */
	bool			 detect = d->conf.mode == MODE_DETECT;

	if (d->nft == NULL || d->conf.admission_port == 0)
		return;
	w0 = engine_whitelist(d->w[0].e);
	/* Ten times a second: one worker's lock at a time, never all of
	 * them held together while the others finish their batches. */
	for (int k = 0; k < d->nw; k++) {
		struct flood_stats	 fs;
		double			 r;

		pthread_mutex_lock(&d->w[k].lock);
		flood_stats(engine_flood(d->w[k].e), now, &fs);
		if (k == 0)
			gen = wl_generation(w0);
		pthread_mutex_unlock(&d->w[k].lock);
		ds1 |= fs.ds1;
		r = d->conf.admission_factor * fs.unbound_rate;
		rate += r > d->conf.admission_rate ? r : d->conf.admission_rate;
	}
	if (rate < 1)
		rate = 1;
	if (d->admit_sent != 0 && ds1 == d->admitting && gen == d->admit_wl &&
	    detect == d->admit_detect && (!ds1 || (rate < d->admit_rate * 1.25 &&
	    rate > d->admit_rate * 0.75)))
		return;
	/* The whitelist's prefixes return before the limit. */
	pthread_mutex_lock(&d->w[0].lock);
	nwl = wl_count(w0);
	if ((wl = calloc(nwl > 0 ? nwl : 1, sizeof(*wl))) == NULL)
		nwl = 0;
	else {
		p = wl;
		wl_foreach(w0, collect_prefix, &p);
	}
	pthread_mutex_unlock(&d->w[0].lock);
	if (nwl > NFT_ADMIT_PREFIXES && gen != d->admit_wl)
		log_warnx("nft: %u whitelisted prefixes, more than the kernel's "
		    "admission holds (%d): admission in user space only",
		    nwl, NFT_ADMIT_PREFIXES);
	if (nft_admission(d->nft, detect, ds1, (uint32_t)rate,
	    (uint32_t)d->conf.admission_burst, wl, nwl) == 0) {
		if (ds1 && !d->admitting)
			log_info("DS1: admission in the kernel on: SIP to the "
			    "proxy from sources neither bound nor whitelisted "
			    "limited to %.0f/s before the queue", rate);
		else if (!ds1 && d->admitting)
			log_info("DS1 clear: admission in the kernel back to "
			    "its ceiling (%d/s)", d->conf.admission_ceiling);
		d->admitting = ds1;
		d->admit_detect = detect;
		d->admit_rate = (uint32_t)rate;
		d->admit_wl = gen;
		d->admit_sent = now;
	}
	free(wl);
}

static void
flush_kernel(struct daemon *d)
{
	if (d->nft == NULL || nft_flush(d->nft) == 0)
		return;
	log_warnx("nft: operations lost to a full queue: the kernel's sets "
	    "were rebuilt from the blacklist");
	offload_all(d);
}

/*
 * No queue has had a packet for queue.idle_warning: the rules that feed
 * them may be gone (a firewall reload), and nothing is judged.
 */
static void
check_queues(struct daemon *d)
{
	uint64_t	 mono = clock_mono(), idle = UINT64_MAX;

	for (int k = 0; k < d->nw; k++) {
		struct worker		*w = &d->w[k];
		struct cap_nfq_stats	 q;

		cap_nfq_stats(w->q, &q);
		if (q.packets != w->rx) {
			w->rx = q.packets;
			w->rx_at = mono;
		}
		if (mono - w->rx_at < idle)
			idle = mono - w->rx_at;
	}
	if (d->conf.queue_idle_warning == 0)
		return;
	if (!d->idle_logged && idle >= d->conf.queue_idle_warning) {
		log_warnx("no packet queued for %llu s: are the NFQUEUE rules "
		    "in place? (a firewall reload removes them; see "
		    "sipguard(8))", (unsigned long long)(idle / NS_PER_SEC));
		d->idle_logged = true;
	} else if (d->idle_logged && idle < d->conf.queue_idle_warning) {
		log_info("packets are queued again");
		d->idle_logged = false;
	}
}

/* Every NFT_CHECK_S seconds: the table may have been flushed away. */
#define NFT_CHECK_S	2

static void
check_kernel(struct daemon *d, uint64_t now)
{
	if (d->nft == NULL || now - d->last_nft_check < SEC(NFT_CHECK_S))
		return;
	d->last_nft_check = now;
	if (nft_check(d->nft) != 1)
		return;
	log_warnx("nft: table inet sipguard was gone (a firewall reload?): "
	    "built again, with the blacklist");
	offload_all(d);
}

/* metrics.file is read by node_exporter, another user: 0644. */
static int
fill_metrics(void *arg, FILE *fp)
{
	const struct ctl_buf	*b = arg;

	if (b->failed || fchmod(fileno(fp), 0644) == -1)
		return -1;
	return fwrite(b->p, 1, b->len, fp) == b->len ? 0 : -1;
}

/* Every metrics.interval: the counters of `stats', for Prometheus. */
static void
write_metrics(struct daemon *d, uint64_t now)
{
	struct ctl_buf	 b;
	char		 err[512];

	if (d->conf.metrics_file[0] == '\0' || (d->last_metrics != 0 &&
	    now - d->last_metrics < d->conf.metrics_interval))
		return;
	d->last_metrics = now;
	memset(&b, 0, sizeof(b));
	control_metrics(&d->control, &b);
	if (state_write_atomic(d->conf.metrics_file, fill_metrics, &b, err,
	    sizeof(err)) == -1) {
		if (!d->metrics_failing)
			log_warnx("metrics: %s", err);
		d->metrics_failing = true;
	} else
		d->metrics_failing = false;
	free(b.p);
}

static void
tick(struct daemon *d)
{
	uint64_t		 now = clock_now();
	struct state_counts	 c;
	char			 err[512];

	for (int k = 0; k < d->nw; k++) {
		struct worker		*w = &d->w[k];
		struct flood_stats	 fs;

		struct sg_mac		 mac;
		bool			 has_mac;
		char			 mb[SG_MACSTRLEN];

		pthread_mutex_lock(&w->lock);
		engine_tick(w->e, now);
		if (engine_proxy_mac(w->e, &mac, &has_mac) == 1) {
			if (!w->pin_logged)
				log_info("queue %u: proxy MAC pinned from its "
				    "first answer: %s (list proxy.macs to "
				    "change it)", cap_nfq_num(w->q),
				    sg_mac_str(&mac, has_mac, mb, sizeof(mb)));
			w->pin_logged = true;
		} else
			w->pin_logged = false;
		if (!w->trained) {
			flood_stats(engine_flood(w->e), now, &fs);
			if (!fs.training && fs.init_c_avg > 0) {
				w->trained = true;
				log_info("queue %u: training done: T.Dist_Avg "
				    "%.2f s, Init.C_Avg %.2f msgs/s",
				    cap_nfq_num(w->q), fs.tdist_avg,
				    fs.init_c_avg);
			}
		}
		pthread_mutex_unlock(&w->lock);
	}
	alarm_log_flush(d->alog, now);
	alarm_log_write(d->alog);
	write_metrics(d, now);
	check_kernel(d, now);
	check_queues(d);
	ctl_tick(d->ctl, clock_mono());
	if (d->conf.state_interval > 0 && now - d->last_save >=
	    d->conf.state_interval) {
		if (save_state(d, &c, err, sizeof(err)) == -1)
			log_warnx("periodic save: %s", err);
	}
	sd_notify(0, "WATCHDOG=1");
}

static int
signals(struct daemon *d)
{
	struct signalfd_siginfo	 si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			log_info("SIGHUP: reloading %s", d->conffile ?
			    d->conffile : "(defaults)");
			reload(d, NULL);
			break;
		case SIGUSR1:
			/* logrotate moved the event file. */
			if (events_reopen(d->events, NULL) == 0 &&
			    d->conf.log_json_file[0] != '\0')
				log_info("SIGUSR1: event file %s reopened",
				    d->conf.log_json_file);
			break;
		case SIGTERM:
		case SIGINT:
			log_info("%s: stopping", strsignal((int)si.ssi_signo));
			return 1;
		default:
			break;
		}
	}
	return 0;
}

/*
 * The main loop: signals, the timer (a tenth of a second: the kernel's
 * sets follow the blacklist that closely; the engines tick every
 * second), the control socket (a command's kernel and cluster operations
 * go at once), the cluster's Redis connections and its wake-up (a
 * worker's first listing on an empty queue), until a stop.
 */
static void
serve(struct daemon *d)
{
	while (!atomic_load(&d->stop)) {
		struct epoll_event	 ev[16];
		int			 n;

		n = epoll_wait(d->epfd, ev, 16, 1000);
		for (int k = 0; k < n; k++) {
			void	*p = ev[k].data.ptr;

			if (p == &d->sigfd) {
				if (signals(d) == 1)
					atomic_store(&d->stop, true);
			} else if (p == &d->alogfd) {
				uint64_t	 x;

				(void)!read(d->alogfd, &x, sizeof(x));
				alarm_log_write(d->alog);
			} else if (p == &d->timerfd) {
				uint64_t	 x;

				(void)!read(d->timerfd, &x, sizeof(x));
				flush_kernel(d);
				admission(d, clock_now());
				events_flush(d->events);
				dropcap_flush(d->dropcap);
				if (d->cluster != NULL)
					cluster_tick(d->cluster, clock_now());
				if (clock_mono() - d->last_tick >= NS_PER_SEC) {
					d->last_tick = clock_mono();
					tick(d);
				}
			} else if (cluster_owns(d->cluster, p)) {
				cluster_event(d->cluster, p, ev[k].events);
			} else if (ctl_owns(d->ctl, p)) {
				ctl_event(d->ctl, p, ev[k].events);
				flush_kernel(d);
				cluster_flush(d->cluster, clock_now());
			}
		}
	}
}

/* ---- start and stop ------------------------------------------------------ */

/* The state directory, the hash key its file was saved with, the baseline. */
static int
setup_state_dir(struct daemon *d, char *err, size_t errlen)
{
	char	 why[512];
	int	 rc;

	if (mkdir(d->conf.state_dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", d->conf.state_dir,
		    strerror(errno));
		return -1;
	}
	/* The hash key of the saved hashes comes first. */
	rc = state_load_key(d->conf.state_dir, why, sizeof(why));
	if (rc == -1)
		log_warnx("state ignored: %s", why);
	if (rc != 0 && hash_init() == -1) {
		snprintf(err, errlen, "libsodium initialisation failed");
		return -1;
	}
	if (d->conf.baseline_file[0] != '\0')
		snprintf(d->baseline, sizeof(d->baseline), "%s",
		    d->conf.baseline_file);
	else
		snprintf(d->baseline, sizeof(d->baseline), "%s/%s",
		    d->conf.state_dir, BASELINE_FILE);
	return 0;
}

/* Worker k's engine, its alarm sink and kernel copy, its baseline. */
static int
setup_worker(struct daemon *d, int k, char *err, size_t errlen)
{
	struct worker	*w = &d->w[k];
	char		 why[512];

	w->d = d;
	pthread_mutex_init(&w->lock, NULL);
	if ((w->e = engine_create(&d->conf)) == NULL) {
		snprintf(err, errlen, "cannot allocate the tables "
		    "(tables.*, blacklist.size too large?)");
		return -1;
	}
	d->engines[k] = w->e;
	engine_set_alarm_sink(w->e, worker_alarm, w);
	engine_set_observer(w->e, worker_result, w);
	if (d->nft != NULL || d->cluster != NULL)
		enf_set_offload(engine_enforcer(w->e), offload_hook, d);
	if (d->nft != NULL)
		engine_set_bound(w->e, nft_known, d->nft);
	if (d->cluster != NULL)
		engine_set_shared(w->e, share_hook, d);
	if (access(d->baseline, R_OK) == 0) {
		if (state_baseline_load(w->e, d->baseline, why,
		    sizeof(why)) == -1)
			log_warnx("baseline ignored: %s", why);
		else if (k == 0)
			log_info("baseline %s loaded: training skipped",
			    d->baseline);
	}
	return 0;
}

/* ---- the cluster --------------------------------------------------------- */

/*
 * A peer's binding in every worker's table (cluster_bind_apply: the
 * segment decides how; local quotas hold).  Worker 0's result counts.  A
 * binding applied with its MAC joins the kernel's bound devices too, for
 * its life and its grace, as a local one (engine.c bind_granted).
 */
static void
apply_binding(struct daemon *d, const struct cluster_msg *m, uint64_t ttl,
    uint64_t now)
{
	enum cluster_bind_res	 r = CB_KEPT;
	bool			 same = strcmp(m->b.segment,
				    cluster_segment(d->cluster)) == 0;
	struct sg_tuple		 t;

	/*
	 * SPEC 6: a REGISTER answered 200 is the way back from a spoof
	 * entry (K); on the same segment the peer's 200 vouched for the
	 * same K (bind_granted forgives it for a local one).  Else a case
	 * b here before the binding arrived kept the device's messages
	 * dropped for blacklist.ttl.  (Another segment: the MAC is this
	 * node's, unknown until the pin, and a REGISTER here forgives.)
	 */
	memset(&t, 0, sizeof(t));
	t.m = m->b.m;
	t.has_m = true;
	t.i = m->b.i;
	t.s = m->b.s;
	t.dh = hash_bytes(m->b.d, strlen(m->b.d));
	for (int k = 0; k < d->nw; k++) {
		enum cluster_bind_res x = cluster_bind_apply(
		    engine_bindings(d->w[k].e), &d->conf, m,
		    cluster_segment(d->cluster), ttl, now);

		if (same && m->op == CLUSTER_ADD && (x == CB_APPLIED || x ==
		    CB_REFRESHED))
			enf_forgive(engine_enforcer(d->w[k].e), &t);
		if (k == 0)
			r = x;
	}
	cluster_bind_count(d->cluster, r);
	if (d->nft != NULL && (r == CB_APPLIED || r == CB_REFRESHED) && same)
		nft_known(d->nft, &m->b.m, &m->b.i, now + ttl +
		    d->conf.bind_grace);
}

/*
 * Other nodes' listings and removals, in every worker, as restored state
 * is (state_restore): under every lock, APPLY_HOLD messages at a time (a
 * binding applied to a full table looks at several rows: a resync's 256
 * at once could hold the workers for a millisecond), not published back.
 * A listing never shortens what a worker holds (merging by expiry).
 */
#define APPLY_HOLD	32

static void
cluster_apply_msgs(void *arg, const struct cluster_msg *m,
    const uint64_t *ttl, size_t n)
{
	struct daemon	*d = arg;
	uint64_t	 now = clock_now();

	lock_all(d);
	d->cluster_applying = true;
	for (size_t j = 0; j < n; j++) {
		if (j > 0 && j % APPLY_HOLD == 0) {
			d->cluster_applying = false;
			unlock_all(d);
			lock_all(d);
			d->cluster_applying = true;
		}
		char	 why[sizeof(m[j].why)];

		/* Who listed it, for `blacklist list': "flood@node-b". */
		if (strchr(m[j].why, '@') != NULL)
			snprintf(why, sizeof(why), "%s", m[j].why);
		else
			snprintf(why, sizeof(why), "%.11s@%.11s", m[j].why[0] ?
			    m[j].why : "cluster", m[j].node);
		if (m[j].kind == CLUSTER_BIND) {
			apply_binding(d, &m[j], ttl[j], now);
			continue;
		}
		for (int k = 0; k < d->nw; k++) {
			struct enforcer		*e = engine_enforcer(d->w[k].e);
			const struct bl_entry	*b = enf_find(e, &m[j].key,
						    now);

			if (m[j].op == CLUSTER_DEL) {
				if (b != NULL)
					enf_del(e, &m[j].key);
			} else if (b == NULL || b->expires < now + ttl[j])
				enf_add(e, &m[j].key, why, NULL, ttl[j], now);
		}
	}
	d->cluster_applying = false;
	unlock_all(d);
}

/* A binding's copy to the cluster's queue, with its texts. */
static void
offer_binding(struct daemon *d, const struct bind_table *bt,
    const struct binding *b)
{
	char	 dbuf[SG_ID_MAX], ibuf[SG_ID_MAX];

	cluster_offer_binding(d->cluster, b, bind_d(bt, b, dbuf),
	    bind_impi(bt, b, ibuf));
}

/*
 * (Re)connected: this node's blacklist entries, then its own bindings,
 * go out again, a page at a time (the queue holds cluster.queue
 * messages; the tables may hold far more: 43,616 of 60,001 entries were
 * lost to the full queue when the blacklist went out at once):
 * `room' offered at most, REPUBLISH_PAGE slots looked at (a few ns each:
 * at the default sizes, both tables in the first page, before the
 * resync's scan), one worker's lock at a time, and that for at most
 * REPUBLISH_HOLD slots and REPUBLISH_HOLD_OFFERS offers (an offer formats
 * a record and queues it, about a microsecond: half a queue of 16,384
 * under one hold kept a worker waiting for milliseconds).  Every
 * worker's copy of an entry or of a binding restored into each is
 * offered: Redis keeps one.
 */
#define REPUBLISH_PAGE		131072
#define REPUBLISH_HOLD		4096
#define REPUBLISH_HOLD_OFFERS	64

/* Worker w's slot in this phase of the republication: offered? */
static bool
republish_slot(struct daemon *d, struct worker *w, uint32_t slot,
    uint64_t now)
{
	const struct bl_entry	*x;
	const struct binding	*b;
	struct bind_table	*bt = engine_bindings(w->e);

	if (d->rp_phase == 0) {
		x = enf_at(engine_enforcer(w->e), slot, now);
		if (x == NULL || !cluster_shares(&x->key))
			return false;
		cluster_offer(d->cluster, x);
		return true;
	}
	b = bind_at(bt, slot);
	if (b == NULL || !cluster_bind_own(b, now))
		return false;
	offer_binding(d, bt, b);
	return true;
}

static bool
republish_page(void *arg, bool first, uint32_t room)
{
	struct daemon	*d = arg;
	uint64_t	 now = clock_now();
	uint32_t	 budget = REPUBLISH_PAGE;

	if (first) {
		d->rp_phase = 0;
		d->rp_worker = 0;
		d->rp_slot = 0;
	}
	for (; d->rp_phase < 2; d->rp_phase++, d->rp_worker = 0) {
		for (; d->rp_worker < d->nw; d->rp_worker++, d->rp_slot = 0) {
			struct worker	*w = &d->w[d->rp_worker];
			uint32_t	 cap = d->rp_phase == 0 ?
					    enf_capacity(engine_enforcer(w->e)) :
					    bind_capacity(engine_bindings(w->e));

			while (d->rp_slot < cap && budget > 0 && room > 0) {
				uint32_t	 slots = REPUBLISH_HOLD;
				uint32_t	 offers = REPUBLISH_HOLD_OFFERS;

				hold_worker(d, d->rp_worker, true);
				for (; d->rp_slot < cap && budget > 0 &&
				    room > 0 && slots > 0 && offers > 0;
				    d->rp_slot++, budget--, slots--)
					if (republish_slot(d, w, d->rp_slot,
					    now)) {
						room--;
						offers--;
					}
				hold_worker(d, d->rp_worker, false);
			}
			if (d->rp_slot < cap)
				return false;
		}
	}
	return true;
}

/* A worker's binding learned or removed: a copy to the queue. */
static void
share_hook(void *arg, const struct bind_table *bt, const struct binding *b,
    const struct sg_tuple *gone, uint64_t now)
{
	struct daemon	*d = arg;

	if (b != NULL)
		offer_binding(d, bt, b);
	else
		cluster_binding_removed(d->cluster, gone, now);
}

/*
 * cluster.password_file (and the Sentinels', `key'): read once, here;
 * "user password" or password.
 */
static int
read_password(const char *key, const char *path, char *buf, size_t len,
    char *err, size_t errlen)
{
	FILE	*fp;

	buf[0] = '\0';
	if (path[0] == '\0')
		return 0;
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s %s: %s", key, path,
		    strerror(errno));
		return -1;
	}
	if (fgets(buf, (int)len, fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		snprintf(err, errlen, "%s %s: empty", key,
		    path);
		return -1;
	}
	return 0;
}

static int
setup_cluster(struct daemon *d, char *err, size_t errlen)
{
	char	 pw[256], spw[256];
	int	 rc = -1;

	if (read_password("cluster.password_file",
	    d->conf.cluster_password_file, pw, sizeof(pw), err, errlen) == -1)
		return -1;
	if (read_password("cluster.sentinel_password_file",
	    d->conf.cluster_sentinel_password_file, spw, sizeof(spw), err,
	    errlen) == 0 && (d->cluster = cluster_create(&d->conf, d->epfd,
	    pw, err, errlen)) != NULL) {
		cluster_set_sentinel_password(d->cluster, spw);
		rc = 0;
	}
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(spw, sizeof(spw));
	if (rc == 0) {
		cluster_set_apply(d->cluster, cluster_apply_msgs, d);
		cluster_set_republish_page(d->cluster,
		    republish_page);
	}
	return rc;
}

/* The alarm log, the kernel's blacklist, a worker per queue. */
static int
setup_workers(struct daemon *d, char *err, size_t errlen)
{
	char	 why[512];

	d->alog = alarm_log_create(ALOG_KEYS, d->conf.log_aggregate);
	if (d->alog != NULL)
		alarm_log_set_budget(d->alog, (uint32_t)d->conf.log_budget,
		    (uint32_t)d->conf.log_burst,
		    (uint32_t)d->conf.log_budget_total);
	if ((d->events = events_create(d->conf.log_json_file)) != NULL)
		events_set_drops_rate(d->events,
		    (uint32_t)d->conf.log_json_drops_rate);
	if (d->alog != NULL)
		alarm_log_set_events(d->alog, d->events);
	if ((d->dropcap = dropcap_create()) != NULL &&
	    d->conf.drops_file[0] != '\0' && dropcap_configure(d->dropcap,
	    d->conf.drops_file, (uint64_t)d->conf.drops_size,
	    d->conf.drops_files, (uint32_t)d->conf.drops_rate) == 0)
		log_info("drops capture: %s, %d file(s) of at most %d bytes, "
		    "%d packets/s at most", d->conf.drops_file,
		    d->conf.drops_files, d->conf.drops_size,
		    d->conf.drops_rate);
	d->nw = d->conf.queue_count;
	d->w = calloc((size_t)d->nw, sizeof(*d->w));
	d->engines = calloc((size_t)d->nw, sizeof(*d->engines));
	if (d->alog == NULL || d->events == NULL || d->dropcap == NULL ||
	    d->w == NULL || d->engines == NULL ||
	    alarm_log_set_writer(d->alog, d->alogfd) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (d->conf.nft_enabled) {
		if ((d->nft = nft_open(why, sizeof(why))) == NULL)
			log_warnx("nft offload off: %s", why);
		else if (nft_configure(d->nft, d->conf.mode == MODE_DETECT,
		    (uint16_t)d->conf.admission_port,
		    (uint32_t)d->conf.admission_ceiling, d->conf.proxy,
		    d->conf.nproxy) == -1)
			log_warnx("nft: admission rules: %s", strerror(errno));
		else
			log_info("nft offload: table inet sipguard ready");
		if (d->nft != NULL && d->conf.admission_port != 0 &&
		    d->conf.nproxy == 0)
			log_warnx("nft: no proxy.addresses: the kernel's "
			    "admission matches nothing (user space admits "
			    "alone)");
	}
	if (d->conf.cluster_enabled && setup_cluster(d, err, errlen) == -1)
		return -1;
	for (int k = 0; k < d->nw; k++)
		if (setup_worker(d, k, err, errlen) == -1)
			return -1;
	return 0;
}

/* Bindings and blacklist of the last run; a bad file is ignored. */
static void
restore_state(struct daemon *d)
{
	struct state_counts	 c;
	char			 why[512];
	uint32_t		 nwl;
	int			 rc;

	rc = state_whitelist_restore(d->conf.state_dir, d->engines, d->nw,
	    &nwl, why, sizeof(why));
	if (rc == -1)
		log_warnx("runtime whitelist ignored: %s", why);
	else if (rc == 0)
		log_info("runtime whitelist restored: %u entries", nwl);
	rc = state_restore(d->conf.state_dir, d->engines, d->nw, clock_now(),
	    &c, why, sizeof(why));
	if (rc == -1)
		log_warnx("state ignored: %s", why);
	else if (rc == 0) {
		log_info("state restored: %u bindings, %u blacklist entries "
		    "(%u expired)", c.bindings, c.blacklist, c.expired);
		for (int k = 0; k < d->nw; k++)
			engine_warm_start(d->engines[k]);
		return;
	}
	/* A cold start: the proxy may know phones sipguard does not. */
	if (d->conf.startup_learn > 0)
		log_info("cold start (no state): for %llu s, a device with no "
		    "binding is let through with a notice, and learned from "
		    "its authenticated requests the proxy accepts "
		    "(startup.learn)", (unsigned long long)
		    (d->conf.startup_learn / NS_PER_SEC));
}

/*
 * bindings.import_file: the proxy's registrations, at every start, after
 * the state file.  Always, not only cold: the phones that registered
 * while sipguard was down are in the proxy's table and in no state file,
 * and the import never replaces a binding the state file gave back.  A
 * stale dump adds only what is still live by its own Expires counted
 * from the file's mtime.  A bad file is logged, not fatal.
 */
static void
import_at_start(struct daemon *d)
{
	struct import_result	 r;
	char			 why[512];

	if (d->conf.import_file[0] == '\0')
		return;
	if (import_file(d->conf.import_file, d->conf.import_domain,
	    d->engines, d->nw, clock_now(), &r, why, sizeof(why)) == -1) {
		log_warnx("bindings.import_file ignored: %s", why);
		return;
	}
	log_info("bindings imported from %s (%s): %u contacts, %u new, %u "
	    "known, %u expired, %u refused (table full or quota), %u "
	    "malformed; each MAC is pinned by the device's first message",
	    d->conf.import_file, r.format, r.contacts, r.imported, r.known,
	    r.expired, r.refused, r.malformed);
}

static int
open_queues(struct daemon *d, char *err, size_t errlen)
{
	for (int k = 0; k < d->nw; k++) {
		uint16_t qn = (uint16_t)(d->conf.queue_num + k);

		if ((d->w[k].q = cap_nfq_open(&d->conf, qn, err, errlen)) ==
		    NULL)
			return -1;
	}
	return 0;
}

/* Signals as a descriptor, the timer, the epoll set. */
static int
setup_loop(struct daemon *d, char *err, size_t errlen)
{
	struct epoll_event	 ev;
	struct itimerspec	 its;
	sigset_t		 set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGPIPE);
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->alogfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->sigfd == -1 || d->timerfd == -1 || d->epfd == -1 ||
	    d->alogfd == -1) {
		snprintf(err, errlen, "signalfd/timerfd/eventfd/epoll: %s",
		    strerror(errno));
		return -1;
	}
	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = its.it_interval.tv_nsec = 100000000;
	timerfd_settime(d->timerfd, 0, &its, NULL);
	ev.events = EPOLLIN;
	ev.data.ptr = &d->sigfd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev);
	ev.data.ptr = &d->timerfd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->timerfd, &ev);
	ev.data.ptr = &d->alogfd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->alogfd, &ev);
	return 0;
}

/* The control socket, served by control.c over what it may see. */
static int
setup_control(struct daemon *d, char *err, size_t errlen)
{
	char	 dir[128], *slash;

	snprintf(dir, sizeof(dir), "%s", d->conf.control_socket);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) == -1 && errno != EEXIST)
			log_warn("%s", dir);
	}
	d->control = (struct control){
		.engines = d->engines,
		.nw = d->nw,
		.conf = &d->conf,
		.alog = d->alog,
		.events = d->events,
		.dropcap = d->dropcap,
		.nft = d->nft,
		.cluster = d->cluster,
		.started = d->started,
		.arg = d,
		.lock = on_lock,
		.unlock = on_unlock,
		.lock_one = hold_worker,
		.queue = on_queue,
		.reload = on_reload,
		.save = on_save,
		.save_whitelist = on_save_whitelist,
	};
	if ((d->ctl = ctl_open(d->conf.control_socket, d->epfd, control_handle,
	    &d->control, err, errlen)) == NULL)
		return -1;
	return 0;
}

static int
setup(struct daemon *d, char *err, size_t errlen)
{
	struct wl_entry	*wl;
	uint32_t	 nwl, lost = 0;

	d->started = clock_now();
	d->last_save = d->started;
	/* The loop first: the cluster registers its descriptors in it. */
	if (setup_loop(d, err, errlen) == -1 ||
	    setup_state_dir(d, err, errlen) == -1 ||
	    setup_workers(d, err, errlen) == -1)
		return -1;
	restore_state(d);
	if (whitelist_read(d, &d->conf, &wl, &nwl, err, errlen) == -1)
		return -1;
	lock_all(d);
	for (int k = 0; k < d->nw; k++)
		lost = engine_whitelist_file(d->w[k].e, wl, nwl);
	unlock_all(d);
	free(wl);
	whitelist_log(&d->conf, nwl, lost);
	import_at_start(d);
	offload_known(d);
	if (open_queues(d, err, errlen) == -1 ||
	    setup_control(d, err, errlen) == -1)
		return -1;
	return 0;
}

static void
teardown(struct daemon *d)
{
	struct state_counts	 c;
	char			 err[512];

	atomic_store(&d->stop, true);
	for (int k = 0; k < d->nw; k++)
		if (d->w[k].started)
			pthread_join(d->w[k].thread, NULL);
	if (d->nw > 0 && d->w != NULL && d->w[0].e != NULL) {
		if (save_state(d, &c, err, sizeof(err)) == -1)
			log_warnx("save at stop: %s", err);
		else
			log_info("state saved: %u bindings, %u blacklist "
			    "entries", c.bindings, c.blacklist);
	}
	for (int k = 0; d->w != NULL && k < d->nw; k++) {
		cap_nfq_close(d->w[k].q);
		/* The kernel copy goes with the table below. */
		if (d->w[k].e != NULL)
			enf_set_offload(engine_enforcer(d->w[k].e), NULL,
			    NULL);
		engine_destroy(d->w[k].e);
		pthread_mutex_destroy(&d->w[k].lock);
	}
	ctl_close(d->ctl);
	/* Before the epoll set closes: it leaves it. */
	cluster_destroy(d->cluster);
	nft_close(d->nft, d->conf.nft_keep);
	/* Its last summaries go to the event file, written at its end. */
	alarm_log_destroy(d->alog);
	events_destroy(d->events);
	/* The workers are gone: what they queued is written, then closed. */
	dropcap_destroy(d->dropcap);
	free(d->w);
	free(d->engines);
	if (d->epfd > 0)
		close(d->epfd);
	if (d->sigfd > 0)
		close(d->sigfd);
	if (d->timerfd > 0)
		close(d->timerfd);
	if (d->alogfd > 0)
		close(d->alogfd);
}

/*
 * SPEC 1: fragments.  With conntrack in use the kernel reassembles IPv4
 * and IPv6 before the filter hooks (nf_defrag), so the queue sees whole
 * datagrams.  Without it IPv4 is still reassembled before INPUT on the
 * proxy host, but IPv6 fragments reach INPUT one by one and a `--dport'
 * rule only matches the first: the others would pass unjudged.  Say so.
 */
static void
defrag_notice(void)
{
	bool	 v4 = access("/sys/module/nf_defrag_ipv4", F_OK) == 0;
	bool	 v6 = access("/sys/module/nf_defrag_ipv6", F_OK) == 0;

	if (v4 && v6) {
		log_info("fragments: nf_defrag_ipv4 and nf_defrag_ipv6 are "
		    "loaded: with a conntrack rule in this namespace the "
		    "kernel reassembles before the queue");
		return;
	}
	log_warnx("fragments: nf_defrag_ipv%s not loaded: %s fragments "
	    "reach the hooks unreassembled, and a --dport rule matches only "
	    "the first of them; load it (any conntrack rule does) or queue "
	    "fragments too (ip6tables -m frag, iptables -f): see sipguard(8)",
	    !v6 ? "6" : "4", !v6 ? "IPv6" : "IPv4 (on a gateway)");
}

/*
 * The SCTP endpoints listening in this namespace (PATH is
 * /proc/net/sctp/eps: a header line, then one endpoint a line, its local
 * port the sixth column); the first one's port in *port.  -1 when PATH
 * cannot be read (no SCTP in this kernel).
 */
int
daemon_sctp_endpoints(const char *path, unsigned *port)
{
	FILE		*f;
	char		 line[512];
	unsigned	 p;
	int		 n = 0;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) != NULL)
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "%*s %*s %*d %*d %*d %u", &p) == 1 &&
			    n++ == 0)
				*port = p;
	fclose(f);
	return n;
}

/*
 * SCTP carries SIP (RFC 4168), and Kamailio listens on it for a `listen'
 * without a protocol unless disable_sctp: sipguard does not read it
 * (engine.c, sctp_unread()), and the usual queue rules do not send it
 * here.  Say so when something listens on it.
 */
static void
sctp_notice(void)
{
	unsigned	 port = 0;
	int		 n = daemon_sctp_endpoints("/proc/net/sctp/eps", &port);

	if (n > 0)
		log_warnx("sctp: %d SCTP endpoint%s listen%s in this namespace "
		    "(port %u%s): sipguard does not read SCTP; what the queue "
		    "rules send of it to the proxy is dropped (not_sip), what "
		    "they do not send reaches the proxy unjudged: turn SCTP off "
		    "in the proxy (Kamailio: disable_sctp=yes) or queue it "
		    "(-p sctp): see sipguard(8)", n, n > 1 ? "s" : "",
		    n > 1 ? "" : "s", port, n > 1 ? ", ..." : "");
}

static int
start_workers(struct daemon *d)
{
	for (int k = 0; k < d->nw; k++) {
		if (pthread_create(&d->w[k].thread, NULL, worker_main,
		    &d->w[k]) != 0) {
			log_warnx("cannot start worker %d", k);
			return -1;
		}
		d->w[k].started = true;
		d->w[k].rx_at = clock_mono();
	}
	return 0;
}

int
daemon_run(const char *conffile, const char *const *sets, int nsets,
    const struct sg_conf *conf, bool foreground, int verbose)
{
	struct daemon		 d;
	char			 err[1024];

	memset(&d, 0, sizeof(d));
	d.conffile = conffile;
	d.sets = sets;
	d.nsets = nsets;
	d.conf = *conf;
	d.foreground = foreground;
	d.epfd = d.sigfd = d.timerfd = d.alogfd = -1;
	log_init("sipguard", foreground, conf_facility(conf));
	log_set_verbose(verbose);
	if (setup(&d, err, sizeof(err)) == -1) {
		log_warnx("cannot start: %s", err);
		teardown(&d);
		return 1;
	}
	if (start_workers(&d) == -1) {
		teardown(&d);
		return 1;
	}
	defrag_notice();
	sctp_notice();
	log_info("started: queue%s %d..%d, mode %s, %d bindings capacity, "
	    "control %s", d.nw > 1 ? "s" : "", d.conf.queue_num,
	    d.conf.queue_num + d.nw - 1, d.conf.mode == MODE_DETECT ?
	    "detect" : "prevent", d.conf.tab_bindings, d.conf.control_socket);
	sd_notify(0, "READY=1\nSTATUS=judging SIP");
	serve(&d);
	sd_notify(0, "STOPPING=1");
	teardown(&d);
	log_info("stopped");
	return 0;
}
