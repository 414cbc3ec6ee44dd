/*
 * floodgen.h: a population of user agents behind one proxy, generated as
 * a capture: registrations with digest and refreshes, calls, MESSAGE,
 * OPTIONS keep-alives both ways, SUBSCRIBE/NOTIFY; plus the floods of
 * SPEC 5 and issue 4.  Every frame is labelled (which UE, attack or not,
 * direction) so a test can score `sipguard -r' output against the truth.
 */
#ifndef SG_FLOODGEN_H
#define SG_FLOODGEN_H

#include <stdbool.h>
#include <stdint.h>

struct fg_model {
	int		 nue;		/* user agents */
	int		 nbusy;		/* the first nbusy are call-centre lines */
	double		 busy_mult;	/* their call and MESSAGE rate factor */
	int		 blf;		/* extensions each busy line watches */
	double		 duration;	/* s */
	double		 reg_expires;	/* s; refreshed at about half */
	double		 opt_interval;	/* s, UE OPTIONS keep-alive */
	double		 ping_interval;	/* s, proxy OPTIONS to the UE */
	double		 call_interval;	/* s, mean between a UE's calls */
	double		 msg_interval;	/* s, mean between MESSAGEs */
	double		 sub_interval;	/* s, SUBSCRIBE refresh */
	/* busy hour: call rate factor ramps 1 -> busy_factor */
	double		 busy_from, busy_to, busy_factor;
	/*
	 * A re-registration storm after a proxy outage (s; 0: none): every
	 * UE re-registers within a minute of it (its first REGISTER resent
	 * once, then challenge and credentials) and subscribes again; with
	 * storm_blf, busy lines also to each of their `blf' extensions, 50
	 * ms apart.  Legitimate traffic.
	 */
	double		 storm_at;
	bool		 storm_blf;
	unsigned	 seed;
};

enum fg_attack_kind {
	FG_NONE = 0,
	FG_CONSTANT,		/* one bound UE, `rate' msgs/s of `method' */
	FG_OUTSIDER_REG,	/* one unbound source, REGISTERs at `rate' */
	FG_SPOOFED_REG,		/* random sources, REGISTERs at `rate' */
	FG_DISTRIBUTED,		/* `count' busy UEs at `factor' x baseline */
	FG_INCREASING,		/* one bound UE doubling every `period' s */
	FG_BRUTEFORCE,		/* `count' REGISTERs w/ credentials, 401 */
	FG_SCAN,		/* `count' identities probed, 404/401 */
};

struct fg_attack {
	enum fg_attack_kind kind;
	double		 start, dur;
	double		 rate;
	const char	*method;
	int		 ue;		/* the attacking UE (bound kinds) */
	int		 count;
	double		 factor;
	double		 period;
};

/* Per frame (index = frame number - 1). */
struct fg_frame {
	double		 t;		/* s since the capture start */
	int32_t		 ue;		/* UE index, -1: proxy or attacker */
	uint8_t		 inbound;
	uint8_t		 attack;
};

struct fg_result {
	struct fg_frame	*frame;
	uint64_t	 nframes;
	double		 t0;		/* capture start, s since the epoch */
	char		 attacker_ip[48];
	char		 attacker_mac[20];
	/* trained rate of the attacking UE (inbound msgs/s), if any */
	double		 ue_rate;
	double		 factor;	/* distributed: the factor used */
};

void	fg_model_default(struct fg_model *);
/* The IP and MAC text of UE k, as they appear in sipguard's output. */
void	fg_ue_addr(int k, char *ip, size_t iplen, char *mac, size_t maclen);
/*
 * Write the capture.  `baseline_rate' (optional) receives each UE's
 * inbound messages/s during [0, train_until) for the distributed and
 * increasing-rate attacks.  Returns 0, -1 on error.
 */
int	fg_generate(const struct fg_model *, const struct fg_attack *,
	    const char *pcap_path, struct fg_result *);
void	fg_result_free(struct fg_result *);

#endif
