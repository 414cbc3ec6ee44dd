/*
 * control.h: the commands of the control socket (SPEC 7): stats,
 * bindings, blacklist list|add|del|forget, whitelist list|add|del,
 * cluster, reload, save, help.  ctl.c
 * frames a request into one line; control_handle() splits it into at
 * most CONTROL_WORDS words and runs the command a table names, one
 * function per command and subcommand.  The help text and the usage
 * errors are made from that table, and `stats' renders text and JSON
 * from one table of fields, which control_metrics() renders for
 * Prometheus too.
 *
 * The commands see the service only through struct control, which the
 * caller (daemon.c, a test, a fuzzer) fills and owns: the engines, the
 * running configuration, and callbacks for what only the service can do
 * (lock its workers, read its queues, reload, save).  Every command runs
 * in the caller's thread and takes the workers' locks itself.
 */
#ifndef SG_CONTROL_H
#define SG_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "ctl.h"

#define CONTROL_WORDS	16	/* words in a request, command too */
#define CONTROL_QUEUES	64	/* queue.count's most */

struct alarm_log;
struct cluster;
struct dropcap;
struct engine;
struct events;
struct nft;
struct state_counts;

/* A worker's queue counters, and what the kernel dropped for its queue. */
struct control_queue {
	uint64_t	 received, enobufs, errors, verdict_msgs;
	uint64_t	 kernel_dropped, user_dropped;
	double		 idle;		/* s since its last packet */
	double		 stall;		/* longest batch wait, us */
	double		 lock_wait;	/* ... for the worker's lock, us */
};

struct control {
	struct engine *const	*engines;	/* one per worker */
	int			 nw;		/* at least 1 */
	const struct sg_conf	*conf;		/* the running one */
	struct alarm_log	*alog;
	struct nft		*nft;		/* NULL: offload off */
	struct events		*events;	/* NULL: no event file */
	struct dropcap		*dropcap;	/* NULL: no drops capture */
	struct cluster		*cluster;	/* NULL: cluster off */
	uint64_t		 started;	/* clock_now() at start */

	/* Each callback is given `arg'. */
	void			*arg;
	/* Take and release every worker's lock (the engines are theirs). */
	void			(*lock)(void *);
	void			(*unlock)(void *);
	/* Take (true) or release (false) worker k's lock alone. */
	sg_hold_fn		 lock_one;
	/* Worker k's queue counters (called with no worker locked). */
	void			(*queue)(void *, int k,
				    struct control_queue *);
	/* Reload the configuration, say how it went in `out'; 0 or -1. */
	int			(*reload)(void *, struct ctl_buf *out);
	/* Save the state; 0 with the counts, or -1 with the reason. */
	int			(*save)(void *, struct state_counts *,
				    char *err, size_t errlen);
	/* Save the runtime whitelist alone (after a change): 0 or -1. */
	int			(*save_whitelist)(void *, char *err,
				    size_t errlen);
};

/* A ctl_handler: `arg' is a struct control. */
int	control_handle(void *arg, char *line, bool json,
	    struct ctl_buf *out);
/*
 * The counters of `stats', from the same table, in Prometheus's text
 * exposition format (sipguard_*, HELP and TYPE before each family's
 * samples), for node_exporter's textfile collector (metrics.file).
 */
void	control_metrics(struct control *, struct ctl_buf *out);
/* `v' as a label value: quoted, \\ \" and \n escaped; its length. */
size_t	control_prom_label(char *, size_t, const char *v);

#endif
