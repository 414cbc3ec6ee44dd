/*
 * events.h: alarms and drops as JSON Lines in Suricata's EVE layout
 * (log.json_file), for Filebeat, EveBox, CrowdSec or jq.  Two halves:
 *
 *   formatting  events_alert() and events_summary() turn what the alarm
 *               log writes (alarm.c: the budget decides, this file only
 *               mirrors) into one line each, events_drop() a dropped
 *               packet (the daemon's worker); events_timestamp() is the
 *               ISO-8601 stamp `sipguard -r' prints too.  Pure functions.
 *   the file    a bounded buffer that worker threads append formatted
 *               lines to under a short lock (a memcpy), and that the main
 *               loop writes out every 100 ms (events_flush): no worker
 *               ever waits on the disk.  When the buffer is full a line
 *               is dropped and counted; the file is reopened on SIGUSR1
 *               (events_reopen), after logrotate moved it.
 *
 * Sizing: EVENTS_BUFFER bytes, twice (the half the workers fill and the
 * half being written), allocated at events_create().  The alarm log's
 * budget (250 lines/s by default, burst 500, and a summary a second per
 * class) is what bounds the rate.  An ordinary line is about 550 bytes;
 * one whose packet strings an attacker filled with bytes to escape, at
 * their caps, about 2.6 KB: a whole burst of those (some 630 lines,
 * 1.6 MB) fits, and the main loop empties the buffer ten times a second.
 * Only a budget raised far past the default can overflow it: counted.
 *
 * Drops: every packet the daemon drops may also be a line of its own
 * (event_type "drop"), alarm or not, bounded by log.json_drops_rate: a
 * token bucket on the packet's time (GCRA, a burst of one second's
 * worth), taken without a lock (a compare-and-swap), so a packet refused
 * under a flood costs a load, a compare and a counter; only an admitted
 * one is formatted (about 1 us) and pushed.  At the default 1000/s,
 * some 400 bytes each, 40 KB per 100 ms: the buffer holds fifty times
 * that.
 */
#ifndef SG_EVENTS_H
#define SG_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alarm.h"

#define EVENTS_LINE_MAX		8192	/* a formatted line, at most */
#define EVENTS_BUFFER		(2u << 20)	/* bytes, each half */
#define EVENTS_TS_LEN		32	/* events_timestamp's buffer */

/*
 * "2026-12-07T10:11:12.123456+0000" for `ns' since the epoch: UTC, with
 * microseconds and the offset, as Suricata's EVE writes it.
 */
const char	*events_timestamp(uint64_t ns, char *, size_t);

/*
 * One EVE "alert" object for `a', newline included: timestamp,
 * event_type, src_ip, src_port, dest_ip, dest_port, proto (from
 * a->l3 when the daemon gave the packet, else src_ip alone), the
 * "alert" object (action "blocked" or "allowed", gid, signature_id,
 * rev, signature, category, severity) and a "sip" object with the
 * alarm's own fields in the syslog line's order.  Packet strings are
 * escaped (json_str: ASCII out, whatever came in) and capped.  Returns
 * the length, 0 if it did not fit `len' (nothing usable written).
 */
size_t		 events_alert(const struct alarm *, char *, size_t);
/*
 * The alarm log's summary lines: `n' alarms like `a' that had no line of
 * their own, `why' "aggregated" (repeats of one key within log.aggregate)
 * or "budget" (over the log budget, a->identity and addresses unset).
 * event_type "sipguard_summary": not an alert, so that counting alerts
 * does not count them; its time is a->now.
 */
size_t		 events_summary(const struct alarm *, uint64_t n,
		    const char *why, char *, size_t);

/*
 * A dropped packet as the daemon's worker saw it.  Strings may be NULL
 * or empty (left out); they are escaped and capped.
 */
struct events_drop {
	uint64_t		 now;		/* the packet's time, ns */
	const uint8_t		*l3;		/* the IP packet */
	size_t			 l3len;
	const struct sg_mac	*mac;		/* its source MAC, or NULL */
	const char		*reason;	/* the verdict's reason */
	unsigned		 queue;
	/* The first alarm the packet raised, if `alarmed': */
	bool			 alarmed;
	enum alarm_type		 type;
	const char		*kase;
	enum alarm_action	 action;
	/* The SIP message, when it was parsed (`sip'): */
	bool			 sip;
	const char		*method;	/* a request's */
	int			 code;		/* a response's, else 0 */
	const char		*call_id, *from, *to;
};

/*
 * One EVE "drop" object for `d', newline included: timestamp,
 * event_type "drop", the flow as in an alert, "ether" {src_mac}, the
 * "drop" object (len: the IP packet's bytes, reason, queue, and the
 * alarm's type, case and action when the packet raised one) and, when
 * the message was parsed, a "sip" object (method or code, call_id,
 * from, to).  Returns the length, 0 if it did not fit `len'.
 */
size_t		 events_drop(const struct events_drop *, char *, size_t);

struct events;

struct events_stats {
	uint64_t	 written;	/* lines written to the file */
	uint64_t	 lost;		/* dropped: the buffer was full */
	uint64_t	 errors;	/* dropped: no file, write failed */
	uint64_t	 drops;		/* drop lines buffered */
	uint64_t	 drops_skipped;	/* drops without a line: over the rate */
	bool		 open;
};

/* The buffer, and `path' opened if not empty (a failure is logged). */
struct events	*events_create(const char *path);
/* Writes what is buffered, closes. */
void		 events_destroy(struct events *);
/* Is there a file to write to?  (A worker checks before formatting.) */
bool		 events_on(struct events *);
/*
 * Drop lines a second, at most (log.json_drops_rate); 0: none.  Refills
 * the bucket.
 */
void		 events_set_drops_rate(struct events *, uint32_t);
/* A file and a rate: would a drop be written?  (One relaxed load each.) */
bool		 events_drops_on(struct events *);
/*
 * May the drop of time `now' (ns) have a line?  Takes a token, or counts
 * it skipped.  Lock-free, thread-safe.
 */
bool		 events_drop_admit(struct events *, uint64_t now);
/* events_push() for a drop line: counted as one. */
void		 events_push_drop(struct events *, const char *, size_t);
/* Append one line; never blocks on I/O.  Thread-safe. */
void		 events_push(struct events *, const char *, size_t);
/* Main loop: write out what is buffered. */
void		 events_flush(struct events *);
/*
 * Write out what is buffered, close the file and open `path' (NULL: the
 * same one; "": none): SIGUSR1 after logrotate, or a reload.  0, or -1
 * if the file could not be opened (logged; retried every 10 s).
 */
int		 events_reopen(struct events *, const char *path);
void		 events_stats(struct events *, struct events_stats *);

#endif
