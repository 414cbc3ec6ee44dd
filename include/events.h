/*
 * events.h: alarms as JSON Lines in Suricata's EVE layout (log.json_file),
 * for Filebeat, EveBox, CrowdSec or jq.  Two halves:
 *
 *   formatting  events_alert() and events_summary() turn what the alarm
 *               log writes (alarm.c: the budget decides, this file only
 *               mirrors) into one line each; events_timestamp() is the
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

struct events;

struct events_stats {
	uint64_t	 written;	/* lines written to the file */
	uint64_t	 lost;		/* dropped: the buffer was full */
	uint64_t	 errors;	/* dropped: no file, write failed */
	bool		 open;
};

/* The buffer, and `path' opened if not empty (a failure is logged). */
struct events	*events_create(const char *path);
/* Writes what is buffered, closes. */
void		 events_destroy(struct events *);
/* Is there a file to write to?  (A worker checks before formatting.) */
bool		 events_on(struct events *);
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
