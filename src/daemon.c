/*
 * daemon.c: the live service.  One worker thread per NFQUEUE, each with
 * its own engine (with --queue-balance the kernel hashes both directions
 * of a phone-proxy pair to one queue, so a worker sees a phone's
 * requests and the proxy's answers to it).  The main thread runs one
 * epoll loop over signals (signalfd), a one-second timer (timerfd) and
 * the control socket; it never judges packets.  A worker holds its
 * engine's lock while judging a batch; the main thread takes it for
 * ticks, statistics, blacklist changes, reloads and saves.
 */
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "bind.h"
#include "capture_nfq.h"
#include "clock.h"
#include "conf.h"
#include "ctl.h"
#include "daemon.h"
#include "enforce.h"
#include "engine.h"
#include "flood.h"
#include "hash.h"
#include "log.h"
#include "nft.h"
#include "pending.h"
#include "state.h"

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
	struct nft	*nft;
	struct ctl	*ctl;
	int		 epfd, sigfd, timerfd;
	atomic_bool	 stop;
	uint64_t	 started, last_save;
	char		 baseline[512];
	bool		 foreground;
};

/* ---- workers ---------------------------------------------------------------- */

static enum sg_verdict
judge(void *arg, const uint8_t *p, size_t len, const struct sg_mac *mac,
    enum engine_dir dir, unsigned csum, uint64_t now)
{
	struct worker	*w = arg;

	return engine_packet_flags(w->e, LINK_RAW, p, len, mac, dir, csum,
	    now);
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

/* ---- state ------------------------------------------------------------------- */

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
}

static int
save_state(struct daemon *d, struct state_counts *c, char *err, size_t len)
{
	uint64_t	 now = clock_now();
	int		 rc;

	lock_all(d);
	rc = state_save(d->conf.state_dir, d->engines, d->nw, now, c, err,
	    len);
	/* The baseline once learned (worker 0 speaks for all). */
	if (rc == 0 && !flood_training(engine_flood(d->engines[0]), now) &&
	    engine_baseline_save(d->engines[0], d->baseline, now, err, len) ==
	    -1)
		rc = -1;
	unlock_all(d);
	if (rc == 0)
		d->last_save = now;
	return rc;
}

/* ---- configuration ---------------------------------------------------------- */

static int
offload_one(void *arg, const struct bl_entry *b)
{
	struct daemon	*d = arg;

	if (b->key.kind != BL_K)
		nft_offload(d->nft, b, d->conf.mode != MODE_DETECT);
	return 0;
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
#undef KEEP
	if (names[0] != '\0')
		log_warnx("reload: %s take%s effect at restart", names,
		    strchr(names, ',') ? "" : "s");
}

static int
reload(struct daemon *d, struct ctl_buf *out)
{
	struct sg_conf		 next;
	struct conf_errors	 errs;
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
	lock_all(d);
	for (int k = 0; k < d->nw; k++)
		ignored |= engine_reload(d->w[k].e, &next);
	unlock_all(d);
	if (ignored)
		log_warnx("reload: table sizes take effect at restart");
	alarm_log_set_interval(d->alog, next.log_aggregate);
	alarm_log_set_budget(d->alog, (uint32_t)next.log_budget,
	    (uint32_t)next.log_burst, (uint32_t)next.log_budget_total);
	if (conf_facility(&next) != conf_facility(&d->conf))
		log_set_facility(conf_facility(&next));
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

/* ---- control commands -------------------------------------------------------- */

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
cmd_stats(struct daemon *d, bool json, struct ctl_buf *o)
{
	struct engine_stats	 s, t;
	struct engine_tables	 tb, tt;
	struct cap_nfq_stats	 q, qt;
	struct flood_stats	 fs;
	struct nft_stats	 ns = { 0 };
	uint64_t		 now = clock_now(), qd = 0, ud = 0;

	memset(&t, 0, sizeof(t));
	memset(&tt, 0, sizeof(tt));
	memset(&qt, 0, sizeof(qt));
	lock_all(d);
	for (int k = 0; k < d->nw; k++) {
		uint64_t	 a, b;

		engine_stats(d->w[k].e, &s);
		engine_tables(d->w[k].e, now, &tb);
		cap_nfq_stats(d->w[k].q, &q);
		t.packets += s.packets;
		t.inbound += s.inbound;
		t.outbound += s.outbound;
		t.transit += s.transit;
		t.sip += s.sip;
		t.keepalive += s.keepalive;
		t.not_sip += s.not_sip;
		t.malformed += s.malformed;
		for (int v = 0; v < 2; v++)
			t.verdict[v] += s.verdict[v];
		for (int r = 0; r < SG_R__COUNT; r++) {
			t.accept[r] += s.accept[r];
			t.drop[r] += s.drop[r];
		}
		for (int a2 = 0; a2 < ALARM__COUNT; a2++)
			t.alarms[a2] += s.alarms[a2];
		tt.bindings += tb.bindings;
		tt.bindings_cap += tb.bindings_cap;
		tt.pending += tb.pending;
		tt.pending_cap += tb.pending_cap;
		tt.sources += tb.sources;
		tt.sources_cap += tb.sources_cap;
		tt.blacklist += tb.blacklist;
		tt.blacklist_cap += tb.blacklist_cap;
		qt.packets += q.packets;
		qt.enobufs += q.enobufs;
		qt.errors += q.errors;
		kernel_queue(cap_nfq_num(d->w[k].q), &a, &b);
		qd += a;
		ud += b;
	}
	flood_stats(engine_flood(d->w[0].e), now, &fs);
	unlock_all(d);
	if (d->nft != NULL)
		nft_stats(d->nft, &ns);

	if (json) {
		ctl_printf(o, "{\"uptime\":%.0f,\"mode\":\"%s\",\"queues\":%d,",
		    (double)(now - d->started) / 1e9,
		    d->conf.mode == MODE_DETECT ? "detect" : "prevent", d->nw);
		ctl_printf(o, "\"packets\":%" PRIu64 ",\"inbound\":%" PRIu64
		    ",\"outbound\":%" PRIu64 ",\"transit\":%" PRIu64
		    ",\"sip\":%" PRIu64 ",\"keepalive\":%" PRIu64
		    ",\"not_sip\":%" PRIu64 ",\"malformed\":%" PRIu64
		    ",\"accepted\":%" PRIu64 ",\"dropped\":%" PRIu64,
		    t.packets, t.inbound, t.outbound, t.transit, t.sip,
		    t.keepalive, t.not_sip, t.malformed, t.verdict[SG_ACCEPT],
		    t.verdict[SG_DROP]);
		ctl_printf(o, ",\"accept\":{");
		for (int r = 0, n = 0; r < SG_R__COUNT; r++)
			if (t.accept[r])
				ctl_printf(o, "%s\"%s\":%" PRIu64, n++ ? "," :
				    "", sg_reason_str((enum sg_reason)r),
				    t.accept[r]);
		ctl_printf(o, "},\"drop\":{");
		for (int r = 0, n = 0; r < SG_R__COUNT; r++)
			if (t.drop[r])
				ctl_printf(o, "%s\"%s\":%" PRIu64, n++ ? "," :
				    "", sg_reason_str((enum sg_reason)r),
				    t.drop[r]);
		ctl_printf(o, "},\"alarms\":{");
		for (int a = 0; a < ALARM__COUNT; a++)
			ctl_printf(o, "%s\"%s\":%" PRIu64, a ? "," : "",
			    alarm_type_str((enum alarm_type)a), t.alarms[a]);
		ctl_printf(o, "},\"alarms_suppressed\":%" PRIu64,
		    alarm_log_suppressed(d->alog));
		ctl_printf(o, ",\"tables\":{\"bindings\":[%u,%u],\"pending\":"
		    "[%u,%u],\"sources\":[%u,%u],\"blacklist\":[%u,%u]}",
		    tt.bindings, tt.bindings_cap, tt.pending, tt.pending_cap,
		    tt.sources, tt.sources_cap, tt.blacklist,
		    tt.blacklist_cap);
		ctl_printf(o, ",\"queue\":{\"received\":%" PRIu64 ",\"enobufs\":"
		    "%" PRIu64 ",\"errors\":%" PRIu64 ",\"kernel_dropped\":%"
		    PRIu64 ",\"user_dropped\":%" PRIu64 "}", qt.packets,
		    qt.enobufs, qt.errors, qd, ud);
		ctl_printf(o, ",\"module2\":{\"training\":%s,\"train_left\":"
		    "%.0f,\"tdist_avg\":%.3f,\"init_c_avg\":%.3f,\"curr_c_avg\":"
		    "%.3f,\"ds1\":%s}", fs.training ? "true" : "false",
		    fs.train_left, fs.tdist_avg, fs.init_c_avg, fs.curr_c_avg,
		    fs.ds1 ? "true" : "false");
		ctl_printf(o, ",\"nft\":{\"enabled\":%s,\"added\":%" PRIu64
		    ",\"removed\":%" PRIu64 ",\"errors\":%" PRIu64 "}}\n",
		    d->nft ? "true" : "false", ns.added, ns.removed,
		    ns.errors);
		return;
	}
	ctl_printf(o, "uptime %.0f s, mode %s, %d queue(s) from %d\n",
	    (double)(now - d->started) / 1e9, d->conf.mode == MODE_DETECT ?
	    "detect" : "prevent", d->nw, d->conf.queue_num);
	ctl_printf(o, "packets %" PRIu64 " (inbound %" PRIu64 ", outbound %"
	    PRIu64 ", transit %" PRIu64 "): SIP %" PRIu64 ", keep-alives %"
	    PRIu64 ", not SIP %" PRIu64 ", malformed %" PRIu64 "\n",
	    t.packets, t.inbound, t.outbound, t.transit, t.sip, t.keepalive,
	    t.not_sip, t.malformed);
	ctl_printf(o, "accepted %" PRIu64 ":", t.verdict[SG_ACCEPT]);
	for (int r = 0; r < SG_R__COUNT; r++)
		if (t.accept[r])
			ctl_printf(o, " %s=%" PRIu64,
			    sg_reason_str((enum sg_reason)r), t.accept[r]);
	ctl_printf(o, "\ndropped %" PRIu64 ":", t.verdict[SG_DROP]);
	for (int r = 0; r < SG_R__COUNT; r++)
		if (t.drop[r])
			ctl_printf(o, " %s=%" PRIu64,
			    sg_reason_str((enum sg_reason)r), t.drop[r]);
	ctl_printf(o, "\nalarms:");
	for (int a = 0; a < ALARM__COUNT; a++)
		ctl_printf(o, " %s=%" PRIu64, alarm_type_str((enum alarm_type)a),
		    t.alarms[a]);
	ctl_printf(o, " (%" PRIu64 " repeats suppressed in the log)\n",
	    alarm_log_suppressed(d->alog));
	ctl_printf(o, "tables: bindings %u/%u, pending %u/%u, sources %u/%u, "
	    "blacklist %u/%u\n", tt.bindings, tt.bindings_cap, tt.pending,
	    tt.pending_cap, tt.sources, tt.sources_cap, tt.blacklist,
	    tt.blacklist_cap);
	ctl_printf(o, "queue: received %" PRIu64 ", ENOBUFS %" PRIu64
	    ", errors %" PRIu64 "; kernel dropped %" PRIu64 " (queue full), %"
	    PRIu64 " (socket full)\n", qt.packets, qt.enobufs, qt.errors, qd,
	    ud);
	if (fs.training)
		ctl_printf(o, "module II: training, %.0f s left\n",
		    fs.train_left);
	else
		ctl_printf(o, "module II: T.Dist_Avg %.2f s, Init.C_Avg %.2f/s,"
		    " Curr.C_Avg %.2f/s, DS1 %s\n", fs.tdist_avg, fs.init_c_avg,
		    fs.curr_c_avg, fs.ds1 ? "raised" : "clear");
	ctl_printf(o, "nft offload: %s, %" PRIu64 " added, %" PRIu64
	    " removed, %" PRIu64 " errors\n", d->nft ? "on" : "off", ns.added,
	    ns.removed, ns.errors);
}

static void
cmd_bindings(struct daemon *d, bool json, struct ctl_buf *o)
{
	uint64_t		 now = clock_now();
	int			 n = 0;
	struct sg_keyset	 seen = { NULL, 0, 0 };

	if (json)
		ctl_printf(o, "{\"bindings\":[");
	lock_all(d);
	/*
	 * Each worker learns the bindings of its own queue and holds those
	 * restored at start: list each binding once.
	 */
	if (d->nw > 1)
		sg_keyset_init(&seen, (size_t)d->nw *
		    bind_capacity(engine_bindings(d->w[0].e)));
	for (int k = 0; k < d->nw; k++) {
		struct bind_table *bt = engine_bindings(d->w[k].e);

		for (uint32_t s = 0; s < bind_capacity(bt); s++) {
			const struct binding	*b = bind_at(bt, s);
			char			 mac[SG_MACSTRLEN];
			char			 ip[SG_ADDRSTRLEN], sip[SG_ADDRSTRLEN];

			if (b == NULL || b->expires <= now || (d->nw > 1 &&
			    !sg_keyset_add(&seen, b->fh ^ b->devh)))
				continue;
			sg_mac_str(&b->m, b->has_m, mac, sizeof(mac));
			sg_addr_str(&b->i, ip, sizeof(ip));
			sg_addr_str(&b->s, sip, sizeof(sip));
			if (json) {
				ctl_printf(o, "%s{\"mac\":\"%s\",\"ip\":\"%s\","
				    "\"sip_ip\":\"%s\",\"port\":%u,\"nat\":%s,"
				    "\"identity\":", n ? "," : "", mac, ip, sip,
				    b->port, b->nat ? "true" : "false");
				ctl_json_str(o, b->d);
				ctl_printf(o, ",\"impi\":");
				ctl_json_str(o, b->impi);
				ctl_printf(o, ",\"expires_in\":%.0f}",
				    (double)(b->expires - now) / 1e9);
			} else
				ctl_printf(o, "%-40s %s %s sip_ip=%s port=%u%s "
				    "impi=%s expires_in=%.0f\n", b->d, mac, ip,
				    sip, b->port, b->nat ? " nat" : "",
				    b->impi[0] ? b->impi : "-",
				    (double)(b->expires - now) / 1e9);
			n++;
		}
	}
	unlock_all(d);
	sg_keyset_free(&seen);
	if (json)
		ctl_printf(o, "],\"count\":%d}\n", n);
	else
		ctl_printf(o, "%d binding(s)\n", n);
}

/*
 * With several workers, a set to merge their blacklists by (each lists
 * its own queue's offenders; manual and restored entries are in all).
 * Left empty for one worker.  Called with every worker locked.
 */
static void
blacklist_keyset(struct daemon *d, struct sg_keyset *ks)
{
	size_t	 cap = 0;

	if (d->nw < 2)
		return;
	for (int w = 0; w < d->nw; w++) {
		struct enf_stats es;

		enf_stats(engine_enforcer(d->w[w].e), &es);
		cap += es.entries;
	}
	sg_keyset_init(ks, cap);
}

struct listing {
	struct ctl_buf	*o;
	bool		 json;
	int		 n;
	uint64_t	 now;
	struct sg_keyset seen;		/* with several workers */
	bool		 dedup;
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
cmd_blacklist(struct daemon *d, char **args, int nargs, bool json,
    struct ctl_buf *o)
{
	uint64_t	 now = clock_now(), ttl = 0;
	struct bl_key	 k;
	char		 why[128];
	int		 n = 0;

	if (nargs == 0 || strcmp(args[0], "list") == 0) {
		struct listing l = { .o = o, .json = json, .now = now,
				    .dedup = d->nw > 1 };

		if (json)
			ctl_printf(o, "{\"blacklist\":[");
		lock_all(d);
		/* Each worker lists its own queue's offenders. */
		blacklist_keyset(d, &l.seen);
		for (int w = 0; w < d->nw; w++)
			enf_foreach(engine_enforcer(d->w[w].e), now, list_one,
			    &l);
		unlock_all(d);
		sg_keyset_free(&l.seen);
		if (json)
			ctl_printf(o, "],\"count\":%d}\n", l.n);
		else
			ctl_printf(o, "%d entr%s\n", l.n, l.n == 1 ? "y" :
			    "ies");
		return 0;
	}
	if (strcmp(args[0], "add") == 0) {
		/* add MAC IP [PORT] [ttl SECONDS] */
		int	 kn = nargs - 1;

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
		if (parse_key(args + 1, kn, &k, why, sizeof(why)) == -1) {
			ctl_printf(o, "error: %s\n", why);
			return -1;
		}
		lock_all(d);
		for (int w = 0; w < d->nw; w++)
			if (enf_add(engine_enforcer(d->w[w].e), &k, "manual",
			    NULL, ttl, now) == ACT_BLOCK)
				n++;
		unlock_all(d);
		if (n == 0) {
			ctl_printf(o, "error: not listed (whitelisted source, "
			    "or mode = detect)\n");
			return -1;
		}
		ctl_printf(o, json ? "{\"added\":true}\n" : "added\n");
		log_info("blacklist: added by sipguardctl: %s %s%s%s",
		    args[1], args[2], kn == 3 ? " port " : "", kn == 3 ?
		    args[3] : "");
		return 0;
	}
	if (strcmp(args[0], "del") == 0) {
		if (parse_key(args + 1, nargs - 1, &k, why, sizeof(why)) ==
		    -1) {
			ctl_printf(o, "error: %s\n", why);
			return -1;
		}
		lock_all(d);
		for (int w = 0; w < d->nw; w++)
			n += enf_del(engine_enforcer(d->w[w].e), &k);
		unlock_all(d);
		if (n == 0) {
			ctl_printf(o, "error: no such entry\n");
			return -1;
		}
		ctl_printf(o, json ? "{\"deleted\":true}\n" : "deleted\n");
		log_info("blacklist: deleted by sipguardctl: %s %s", args[1],
		    args[2]);
		return 0;
	}
	if (strcmp(args[0], "forget") == 0 && nargs == 2) {
		/* forget MAC | IP: every entry naming it, any kind. */
		struct sg_mac	 m;
		struct sg_addr	 i;
		bool		 is_mac = sg_mac_parse(args[1], &m) == 0;

		if (!is_mac && sg_addr_parse(args[1], &i) == -1) {
			ctl_printf(o, "error: \"%.64s\" is neither a MAC nor "
			    "an IP address\n", args[1]);
			return -1;
		}
		struct sg_keyset seen = { NULL, 0, 0 };

		lock_all(d);
		blacklist_keyset(d, &seen);
		for (int w = 0; w < d->nw; w++)
			n += enf_forget(engine_enforcer(d->w[w].e),
			    is_mac ? &m : NULL, is_mac ? NULL : &i,
			    d->nw > 1 ? &seen : NULL);
		unlock_all(d);
		sg_keyset_free(&seen);
		if (json)
			ctl_printf(o, "{\"forgotten\":%d}\n", n);
		else
			ctl_printf(o, "forgot %d entr%s\n", n, n == 1 ? "y" :
			    "ies");
		log_info("blacklist: %d entr%s naming %s forgotten by "
		    "sipguardctl", n, n == 1 ? "y" : "ies", args[1]);
		return 0;
	}
	ctl_printf(o, "error: blacklist [list | add MAC IP [PORT] [ttl "
	    "SECONDS] | del MAC IP [PORT] | forget MAC|IP]\n");
	return -1;
}

static int
handle(void *arg, char *line, bool json, struct ctl_buf *o)
{
	struct daemon		*d = arg;
	char			*args[8], *save = NULL;
	int			 n = 0;
	struct state_counts	 c;
	char			 err[512];

	log_debug("control: %s%s", json ? "json " : "", line);
	for (char *t = strtok_r(line, " \t", &save); t != NULL; t = strtok_r(
	    NULL, " \t", &save)) {
		if (n == (int)(sizeof(args) / sizeof(args[0]))) {
			ctl_printf(o, "error: too many arguments\n");
			return -1;
		}
		args[n++] = t;
	}
	if (n == 0) {
		ctl_printf(o, "error: empty request\n");
		return -1;
	}
	if (strcmp(args[0], "stats") == 0 && n == 1) {
		cmd_stats(d, json, o);
		return 0;
	}
	if (strcmp(args[0], "bindings") == 0 && n == 1) {
		cmd_bindings(d, json, o);
		return 0;
	}
	if (strcmp(args[0], "blacklist") == 0)
		return cmd_blacklist(d, args + 1, n - 1, json, o);
	if (strcmp(args[0], "reload") == 0 && n == 1)
		return reload(d, o);
	if (strcmp(args[0], "save") == 0 && n == 1) {
		if (save_state(d, &c, err, sizeof(err)) == -1) {
			log_warnx("save: %s", err);
			ctl_printf(o, "error: %s\n", err);
			return -1;
		}
		log_info("state saved: %u bindings, %u blacklist entries",
		    c.bindings, c.blacklist);
		if (json)
			ctl_printf(o, "{\"saved\":true,\"bindings\":%u,"
			    "\"blacklist\":%u}\n", c.bindings, c.blacklist);
		else
			ctl_printf(o, "saved %u bindings, %u blacklist entries "
			    "to %s/%s\n", c.bindings, c.blacklist,
			    d->conf.state_dir, STATE_FILE);
		return 0;
	}
	if (strcmp(args[0], "help") == 0) {
		ctl_printf(o, "commands: stats | bindings | blacklist [list | "
		    "add MAC IP [PORT] [ttl SECONDS] | del MAC IP [PORT] | "
		    "forget MAC|IP] | reload | save; prefix json for JSON\n");
		return 0;
	}
	ctl_printf(o, "error: unknown command \"%.64s\" (try help)\n",
	    args[0]);
	return -1;
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

/* ---- the loop ------------------------------------------------------------------ */

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

static int
setup(struct daemon *d, char *err, size_t errlen)
{
	struct epoll_event	 ev;
	struct itimerspec	 its;
	sigset_t		 set;
	char			 why[512];
	struct state_counts	 c;
	int			 rc;
	uint64_t		 now;

	d->started = clock_now();
	d->last_save = d->started;
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

	d->alog = alarm_log_create(ALOG_KEYS, d->conf.log_aggregate);
	if (d->alog != NULL)
		alarm_log_set_budget(d->alog, (uint32_t)d->conf.log_budget,
		    (uint32_t)d->conf.log_burst,
		    (uint32_t)d->conf.log_budget_total);
	d->nw = d->conf.queue_count;
	d->w = calloc((size_t)d->nw, sizeof(*d->w));
	d->engines = calloc((size_t)d->nw, sizeof(*d->engines));
	if (d->alog == NULL || d->w == NULL || d->engines == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (d->conf.nft_enabled) {
		if ((d->nft = nft_open(why, sizeof(why))) == NULL)
			log_warnx("nft offload off: %s", why);
		else
			log_info("nft offload: table inet sipguard ready");
	}
	for (int k = 0; k < d->nw; k++) {
		struct worker	*w = &d->w[k];

		w->d = d;
		pthread_mutex_init(&w->lock, NULL);
		if ((w->e = engine_create(&d->conf)) == NULL) {
			snprintf(err, errlen, "cannot allocate the tables "
			    "(tables.*, blacklist.size too large?)");
			return -1;
		}
		d->engines[k] = w->e;
		engine_set_alarm_sink(w->e, alarm_log_emit, d->alog);
		if (d->nft != NULL)
			enf_set_offload(engine_enforcer(w->e), nft_offload,
			    d->nft);
		if (access(d->baseline, R_OK) == 0) {
			if (engine_baseline_load(w->e, d->baseline, why,
			    sizeof(why)) == -1)
				log_warnx("baseline ignored: %s", why);
			else if (k == 0)
				log_info("baseline %s loaded: training "
				    "skipped", d->baseline);
		}
	}
	now = clock_now();
	rc = state_restore(d->conf.state_dir, d->engines, d->nw, now, &c, why,
	    sizeof(why));
	if (rc == -1)
		log_warnx("state ignored: %s", why);
	else if (rc == 0)
		log_info("state restored: %u bindings, %u blacklist entries "
		    "(%u expired)", c.bindings, c.blacklist, c.expired);
	for (int k = 0; k < d->nw; k++) {
		uint16_t qn = (uint16_t)(d->conf.queue_num + k);

		if ((d->w[k].q = cap_nfq_open(&d->conf, qn, err, errlen)) ==
		    NULL)
			return -1;
	}

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGPIPE);
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sigfd == -1 || d->timerfd == -1 || d->epfd == -1) {
		snprintf(err, errlen, "signalfd/timerfd/epoll: %s",
		    strerror(errno));
		return -1;
	}
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = its.it_interval.tv_sec = 1;
	timerfd_settime(d->timerfd, 0, &its, NULL);
	ev.events = EPOLLIN;
	ev.data.ptr = &d->sigfd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev);
	ev.data.ptr = &d->timerfd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->timerfd, &ev);
	{
		char	 dir[128], *slash;

		snprintf(dir, sizeof(dir), "%s", d->conf.control_socket);
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0750) == -1 && errno != EEXIST)
				log_warn("%s", dir);
		}
	}
	if ((d->ctl = ctl_open(d->conf.control_socket, d->epfd, handle, d,
	    err, errlen)) == NULL)
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
	nft_close(d->nft, d->conf.nft_keep);
	alarm_log_destroy(d->alog);
	free(d->w);
	free(d->engines);
	if (d->epfd > 0)
		close(d->epfd);
	if (d->sigfd > 0)
		close(d->sigfd);
	if (d->timerfd > 0)
		close(d->timerfd);
}

int
daemon_run(const char *conffile, const char *const *sets, int nsets,
    const struct sg_conf *conf, bool foreground, int verbose)
{
	struct daemon		 d;
	char			 err[1024];
	int			 rc = 0;

	memset(&d, 0, sizeof(d));
	d.conffile = conffile;
	d.sets = sets;
	d.nsets = nsets;
	d.conf = *conf;
	d.foreground = foreground;
	d.epfd = d.sigfd = d.timerfd = -1;
	log_init("sipguard", foreground, conf_facility(conf));
	log_set_verbose(verbose);
	if (setup(&d, err, sizeof(err)) == -1) {
		log_warnx("cannot start: %s", err);
		teardown(&d);
		return 1;
	}
	for (int k = 0; k < d.nw; k++) {
		if (pthread_create(&d.w[k].thread, NULL, worker_main,
		    &d.w[k]) != 0) {
			log_warnx("cannot start worker %d", k);
			teardown(&d);
			return 1;
		}
		d.w[k].started = true;
	}
	defrag_notice();
	log_info("started: queue%s %d..%d, mode %s, %d bindings capacity, "
	    "control %s", d.nw > 1 ? "s" : "", d.conf.queue_num,
	    d.conf.queue_num + d.nw - 1, d.conf.mode == MODE_DETECT ?
	    "detect" : "prevent", d.conf.tab_bindings, d.conf.control_socket);
	sd_notify(0, "READY=1\nSTATUS=judging SIP");

	while (!atomic_load(&d.stop)) {
		struct epoll_event	 ev[16];
		int			 n = epoll_wait(d.epfd, ev, 16, 1000);

		for (int k = 0; k < n; k++) {
			void	*p = ev[k].data.ptr;

			if (p == &d.sigfd) {
				if (signals(&d) == 1)
					atomic_store(&d.stop, true);
			} else if (p == &d.timerfd) {
				uint64_t	 x;

				(void)!read(d.timerfd, &x, sizeof(x));
				tick(&d);
			} else if (ctl_owns(d.ctl, p))
				ctl_event(d.ctl, p, ev[k].events);
		}
	}
	sd_notify(0, "STOPPING=1");
	teardown(&d);
	log_info("stopped");
	return rc;
}
