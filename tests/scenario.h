/*
 * scenario.h: one description of a traffic scenario serves three uses:
 *  - in-process: frames go straight into an engine and every expectation
 *    is checked as it is stated (test_engine);
 *  - capture: frames are written to a pcap and the expectations kept, to
 *    be checked against `sipguard -r' output (test_replay, the demo);
 *  - both at once.
 * Expectations name the verdict and reason of the last frame, and the
 * alarms it raised.  Failures are collected as text, never abort.
 */
#ifndef SG_SCENARIO_H
#define SG_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "engine.h"
#include "pktgen.h"

#define SCN_MAX_PER_FRAME	8

struct scn_expect {
	uint64_t	 frame;
	char		 verdict[8];
	char		 reason[24];
	const char	*tag;		/* attack name, NULL: legitimate */
};

struct scn_alarm_expect {
	uint64_t	 frame;
	char		 type[16];
	char		 kase[16];
	bool		 none;		/* no alarm of this type here */
};

/* What one frame produced in-process. */
struct scn_seen {
	int		 nres;
	struct {
		enum sg_verdict	 v;
		enum sg_reason	 r;
	} res[SCN_MAX_PER_FRAME];
	int		 nalarm;
	struct {
		enum alarm_type	 type;
		char		 kase[16];
		enum alarm_action act;
	} alarm[SCN_MAX_PER_FRAME];
};

struct scn {
	const char		*name;
	const char		*what;	/* scenario description */
	struct engine		*e;
	struct sg_conf		 conf;
	struct pg_pcap		*pcap;
	uint64_t		 now;
	uint64_t		 frame;
	struct scn_seen		 seen;
	enum sg_verdict		 verdict;	/* of the last frame */
	struct scn_expect	*exp;
	size_t			 nexp, capexp;
	struct scn_alarm_expect	*aexp;
	size_t			 naexp, capaexp;
	const char		*tag;
	char			 fail[16384];
	size_t			 faillen;
	int			 nfail;
	uint64_t		 seq;	/* for unique Call-IDs and branches */
};

/* `sets' are --set strings applied to the defaults (also for replay). */
int	scn_init(struct scn *, const char *name, const char *const *sets,
	    const char *pcap_path, bool in_process);
void	scn_fini(struct scn *);
void	scn_wait(struct scn *, double seconds);
uint64_t scn_send(struct scn *, const struct pg_ep *src,
	    const struct pg_ep *dst, const struct pg_msg *);
uint64_t scn_send_payload(struct scn *, const struct pg_ep *src,
	    const struct pg_ep *dst, const void *, size_t,
	    const struct pg_frame_opt *);
uint64_t scn_send_frame(struct scn *, const void *, size_t);
/* Expect the last frame's (first) message to get verdict and reason. */
void	scn_expect(struct scn *, const char *verdict, const char *reason);
/* The last frame was accepted without a line: held (part of a TCP
 * message, a fragment), judged later with the frame that completes it. */
void	scn_expect_held(struct scn *);
/* ... and to raise an alarm of this type (and case, if not NULL). */
void	scn_expect_alarm(struct scn *, const char *type, const char *kase);
/* ... and to raise no alarm of this type. */
void	scn_expect_no_alarm(struct scn *, const char *type);
/* Tag the following frames as part of an attack (NULL: legitimate). */
void	scn_tag(struct scn *, const char *tag);
void	scn_failf(struct scn *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* A fresh token for Call-IDs, tags and branches. */
const char *scn_token(struct scn *, char *buf, size_t);

/*
 * Check `sipguard -r' output (JSON Lines in `fp') against the stored
 * expectations; also counts, per tag, messages and drops for the demo.
 */
struct scn_tally {
	char		 tag[64];
	uint64_t	 sent, dropped;
	char		 cases[64];
};

int	scn_check_jsonl(struct scn *, FILE *fp, struct scn_tally *, int ntally,
	    int *nused);

/* A JSON Lines field as a string ("" if absent); tiny, for our output. */
int	jsonl_get(const char *line, const char *key, char *out, size_t len);



/*
 * Run `sipguard -r pcap --set ...' (no shell) and check its output with
 * scn_check_jsonl().  Returns the number of failures (-1: could not run).
 */
int	scn_replay_check(struct scn *, const char *sipguard, const char *pcap,
	    const char *const *sets, struct scn_tally *, int ntally,
	    int *nused);
#endif
