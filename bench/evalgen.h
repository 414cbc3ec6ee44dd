/*
 * evalgen.h: the traffic of the module II evaluation (bench/eval.c):
 * four populations shaped differently, legitimate stress profiles and
 * insider floods laid on top, as a time-sorted list of events rendered
 * into Ethernet frames one at a time (no capture file).
 *
 * Deterministic per (population, seed).  Everything before `t_train' is
 * the same whatever the profile and the attack, so a trained engine can
 * be forked and given each cell's future (eval.c relies on it).
 */
#ifndef SG_EVALGEN_H
#define SG_EVALGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum eg_pop {
	EG_UE300,		/* 300 UEs, 50 busy lines (tests/floodgen) */
	EG_CALLCENTRE,		/* 40 agents, a call a minute each */
	EG_NAT,			/* 60 phones behind one IP and one MAC */
	EG_GWMIX,		/* 240 UEs, half behind 6 router MACs */
	EG__NPOP
};

enum eg_profile {
	EGP_NONE,		/* an ordinary day */
	EGP_BUSY_HOUR,		/* calls ramp 1x -> 2x over 20 min */
	EGP_MORNING,		/* half as many phones again come online,
				   calls ramp 1x -> 2x over 20 min */
	EGP_SHIFT,		/* every line de-registers, as many new
				   lines register, within 2 min */
	EGP_STORM,		/* proxy down 8 min, then every phone
				   re-registers within a minute */
	EGP_NAT_KA,		/* the router restarts: all re-register on
				   new ports within 30 s, keep-alives go on */
	EGP_REBOOT,		/* the busiest device reboots every 45 s */
	EGP__N
};

enum eg_pattern {
	EGA_STEADY,		/* evenly spaced */
	EGA_JITTER,		/* Poisson */
	EGA_RAMP,		/* own rate rises linearly 1x -> factor */
	EGA_ONOFF,		/* factor for 10 s, own rate for 10 s */
	EGA__N
};

struct eg_attack {
	int		 n;		/* attackers; 0: none */
	double		 factor;	/* x each attacker's own rate */
	int		 pattern;	/* enum eg_pattern */
	const char	*method;
	double		 dur;		/* s */
	bool		 random_pick;	/* else the busiest devices */
};

/* What the harness needs to know of one frame. */
struct eg_meta {
	double		 t;		/* s since the start */
	int32_t		 dev;		/* sender (inbound), -1: none */
	bool		 inbound;
	bool		 attack;
};

struct eg;

/*
 * The events of [0, t_end): the population's day, the profile's stress
 * from `t_start' on, the attack (may be NULL) from `t_start' for its
 * duration.  NULL on allocation failure.
 */
struct eg	*eg_create(int pop, unsigned seed, int profile,
		    const struct eg_attack *, double t_train, double t_start,
		    double t_end);
void		 eg_destroy(struct eg *);
size_t		 eg_count(const struct eg *);
/* The time of event k (s), without rendering it. */
double		 eg_time(const struct eg *, size_t k);
/* Render event k into `buf'; returns the frame length, 0: none. */
size_t		 eg_frame(struct eg *, size_t k, uint8_t *buf, size_t sz,
		    struct eg_meta *);

int		 eg_ndev(const struct eg *);
/* The device an identity ("u00042@example.com") belongs to, or -1. */
int		 eg_dev_of_identity(const struct eg *, const char *);
bool		 eg_is_attacker(const struct eg *, int dev);
/* Inbound messages/s of a device over training (after registration). */
double		 eg_base_rate(const struct eg *, int dev);
double		 eg_global_rate(const struct eg *);
/* Planned (peak) global rate during the attack / the trained rate. */
double		 eg_global_rise(const struct eg *);

const char	*eg_pop_name(int);
const char	*eg_profile_name(int);
const char	*eg_pattern_name(int);

#endif
