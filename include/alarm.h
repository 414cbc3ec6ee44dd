/*
 * alarm.h: the one way alarms leave the engine.  A struct alarm carries
 * the fields of SPEC 7; sinks (syslog with aggregation in the daemon,
 * JSON Lines in `sipguard -r') receive each one.  Strings point into the
 * caller's storage and are valid only during the call.
 */
#ifndef SG_ALARM_H
#define SG_ALARM_H

#include <stddef.h>
#include <stdint.h>

#include "sipguard.h"

enum alarm_type {
	ALARM_SPOOF,		/* module I */
	ALARM_MALFORMED,
	ALARM_TABLE_FULL,
	ALARM_SS,		/* module II, SPEC 5 */
	ALARM_DS1,
	ALARM_DS2,
	ALARM_IR,
	ALARM_BRUTEFORCE,
	ALARM_SCAN,
	ALARM__COUNT
};

enum alarm_action {
	ACT_DROP,		/* this message dropped, nothing listed */
	ACT_BLOCK,		/* the offender's key is now blacklisted */
	ACT_NOTICE,		/* logged only (mode = detect, or DS1) */
	ACT_CLEAR,		/* a raised condition (DS1) ended */
};

struct alarm {
	enum alarm_type	 type;
	const char	*kase;		/* case label, NULL: none */
	enum alarm_action action;
	struct sg_mac	 m;
	bool		 has_m;
	struct sg_addr	 i, s;
	const char	*identity;
	const char	*method;
	const char	*call_id;
	double		 rate;		/* msgs/s, < 0: none */
	const char	*cls;		/* attack class (SPEC 5), or NULL */
	const char	*detail;	/* free text, or NULL */
	uint64_t	 now;
	/*
	 * The IP packet that raised it, or NULL: set by the daemon's sink
	 * (not the engine) so that the event file can give its ports.
	 */
	const uint8_t	*l3;
	size_t		 l3len;
};

typedef void	(*alarm_sink)(void *, const struct alarm *);

const char	*alarm_type_str(enum alarm_type);
const char	*alarm_action_str(enum alarm_action);
/* "type=spoof case=vi action=drop mac=... rate=-": SPEC 7 key order. */
size_t		 alarm_format(const struct alarm *, char *, size_t);
/*
 * Write `s' to buf as a JSON string literal (quotes included): ", \\ and
 * every byte below 0x20 or from 0x7f escaped, bytes >= 0x80 as \u00HH,
 * so the output is ASCII and valid JSON whatever the input (invalid
 * UTF-8 included).  Cut, quote closed, where buf ends.
 */
size_t		 json_str(char *, size_t, const char *);

/*
 * The journal's fields of an alarm's line: SIPGUARD_ALARM= (type),
 * _CASE=, _ACTION= (`action' if not NULL, e.g. "summary"), _SRC_IP=,
 * _MAC=, _IDENTITY=, _METHOD=, _CALL_ID=, and _SUPPRESSED= when
 * `suppressed' is not 0; those the alarm lacks are left out.  Values
 * are escaped and capped as in the line, without its quotes.
 */
#define ALARM_FIELDS	9
#define ALARM_FIELD_MAX	560
struct alarm_fields {
	const char	*v[ALARM_FIELDS];
	int		 n;
	char		 buf[ALARM_FIELDS][ALARM_FIELD_MAX];
};
void		 alarm_fields(const struct alarm *, const char *action,
		    uint64_t suppressed, struct alarm_fields *);

/*
 * The daemon's alarm sink: one syslog line per alarm (SPEC 7), identical
 * alarms (same type, case, action, source and identity) within
 * `interval' logged once and then summarised with "N more suppressed";
 * and a budget of lines per second for each (type, case), so alarms from
 * ever new (spoofed) sources cannot flood the log either: what it holds
 * back is summarised once a second per (type, case), whatever the
 * sources ("alarm type=spoof case=b action=summary suppressed=N ...").
 * Only lines are budgeted; the engine counts and acts before the sink.
 * A fixed table of recent keys, sized at creation; thread-safe.
 * Each line goes to the journal with its fields (alarm_fields) when
 * there is one, and, with an event file (events.h), as one JSON line
 * too: exactly the lines of the log, so the budget bounds the file.
 */
struct alarm_log;
struct events;

struct alarm_log *alarm_log_create(uint32_t keys, uint64_t interval);
void		 alarm_log_destroy(struct alarm_log *);
void		 alarm_log_set_interval(struct alarm_log *, uint64_t);
/* Mirror every line to `ev' (NULL: none); ev outlives the log's use. */
void		 alarm_log_set_events(struct alarm_log *, struct events *);
/*
 * Lines/s per (type, case) and its burst in lines, lines/s for all of
 * them together (burst: two seconds' worth); 0: no limit.  The default is
 * 20/s, burst 40, 250/s in all (under journald's default rate limit).
 * Refills every bucket.
 */
void		 alarm_log_set_budget(struct alarm_log *, uint32_t rate,
		    uint32_t burst, uint32_t total);
/* An alarm_sink: arg is the alarm_log. */
void		 alarm_log_emit(void *, const struct alarm *);
/*
 * Write the summaries of windows that have closed, and the budget's
 * summaries (at most once a second).  The daemon calls it each second.
 */
void		 alarm_log_flush(struct alarm_log *, uint64_t now);
/*
 * From now on the lines (journal, syslog, stderr) are written by whoever
 * calls alarm_log_write(), not by the thread that raised the alarm: the
 * daemon's workers queue them, its main loop writes them, and a worker
 * never waits on journald, a syslog reconnect or a pipe.  `wakefd' (an
 * eventfd, -1: none) is written when the queue gets a line while empty.
 * A line that finds the queue (128 KB) full is written at once, after
 * the queued ones: none is lost or reordered.  -1: out of memory.
 */
int		 alarm_log_set_writer(struct alarm_log *, int wakefd);
void		 alarm_log_write(struct alarm_log *);
/* Alarms without a line of their own: aggregated or over the budget. */
uint64_t	 alarm_log_suppressed(const struct alarm_log *);
/* Of those, held back by the budget for `type' (and `kase', or any). */
uint64_t	 alarm_log_over_budget(struct alarm_log *, enum alarm_type,
		    const char *kase);

#endif
