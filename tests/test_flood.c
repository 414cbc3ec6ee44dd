/*
 * test_flood.c: the eight module II scenarios of issue 4, each generated
 * as a capture (300 UEs, floodgen.c), replayed through `sipguard -r' and
 * scored against the truth of every frame: detection delay, share of the
 * attack dropped, legitimate messages dropped, UEs wrongly alarmed.  The
 * thresholds are part of the tests; the measured values are printed.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "floodgen.h"
#include "scenario.h"
#include "testlib.h"

#define NUE	300

static const char	*sipguard = "build/sipguard";
static char		 dir[64];
static char		 baseline[512];

struct score {
	uint64_t	 legit_in, legit_dropped;
	uint64_t	 attack_in, attack_dropped;
	uint64_t	 attack_after, attack_after_dropped;
	uint64_t	 after_ds1, after_ds1_dropped;
	double		 first_alarm;		/* naming the attacker; -1 */
	char		 first_type[16];
	unsigned long	 sources, sources_cap, pending, pending_cap;
	double		 first_ds1;		/* -1: none */
	double		 ds1_clear;		/* last clear, -1: none */
	int		 alarms[16];
	int		 legit_alarmed;		/* UEs wrongly named */
	int		 attackers_alarmed;
	double		 last_attacker_alarm;
	long		 maxrss_kb;
	int		 status;
	char		 types[256];
};

/* UE index from 198.18.X.Y (floodgen's plan), -1 otherwise. */
static int
ue_of(const char *ip)
{
	unsigned	 x, y;

	if (sscanf(ip, "198.18.%u.%u", &x, &y) != 2 || y == 0)
		return -1;
	return (int)(x * 250 + y - 1);
}

static int
alarm_index(const char *type)
{
	static const char *const names[] = { "spoof", "malformed",
	    "table-full", "ss", "ds1", "ds2", "ir", "bruteforce", "scan" };

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strcmp(names[k], type) == 0)
			return (int)k;
	return 15;
}

/*
 * Replay `pcap' and score it.  `attacker(ue_or_-1, ip)' says whether an
 * alarm naming that source names an attacker.
 */
static void
replay(const char *pcap, const struct fg_result *res, const char *const *sets,
    bool (*attacker)(int ue, const char *ip, void *), void *arg,
    struct score *sc)
{
	const char	*argv[64];
	int		 argc = 0, fds[2];
	pid_t		 pid;
	FILE		*fp;
	char		 line[4096], v[64], errpath[600];
	struct rusage	 ru;
	bool		*named = calloc(NUE, sizeof(bool));

	memset(sc, 0, sizeof(*sc));
	sc->first_alarm = sc->first_ds1 = sc->ds1_clear = -1;
	snprintf(errpath, sizeof(errpath), "%s.err", pcap);
	argv[argc++] = sipguard;
	argv[argc++] = "-r";
	argv[argc++] = pcap;
	for (int k = 0; sets[k] != NULL; k++) {
		argv[argc++] = "--set";
		argv[argc++] = sets[k];
	}
	/* SGFLOOD_SET: more --set, ';'-separated, for tuning by hand. */
	if (getenv("SGFLOOD_SET") != NULL) {
		static char	 buf[1024];
		char		*tok, *save = NULL;

		snprintf(buf, sizeof(buf), "%s", getenv("SGFLOOD_SET"));
		for (tok = strtok_r(buf, ";", &save); tok != NULL && argc < 60;
		    tok = strtok_r(NULL, ";", &save)) {
			argv[argc++] = "--set";
			argv[argc++] = tok;
		}
	}
	argv[argc] = NULL;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		int	 errfd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC,
			    0600);

		dup2(fds[1], 1);
		dup2(errfd, 2);
		close(fds[0]);
		execv(sipguard, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	fp = fdopen(fds[0], "r");
	while (fgets(line, sizeof(line), fp) != NULL) {
		uint64_t		 frame;
		const struct fg_frame	*f;

		jsonl_get(line, "frame", v, sizeof(v));
		frame = strtoull(v, NULL, 10);
		if (frame == 0 || frame > res->nframes)
			continue;
		f = &res->frame[frame - 1];
		if (jsonl_get(line, "alarm", v, sizeof(v)) == 0) {
			char	 ip[64];
			int	 ue;

			sc->alarms[alarm_index(v)]++;
			if (strstr(sc->types, v) == NULL &&
			    strlen(sc->types) + strlen(v) + 2 <
			    sizeof(sc->types)) {
				strcat(sc->types, " ");
				strcat(sc->types, v);
			}
			if (strcmp(v, "ds1") == 0) {
				char	 act[16];

				jsonl_get(line, "action", act, sizeof(act));
				if (strcmp(act, "clear") == 0) {
					sc->ds1_clear = f->t;
					continue;
				}
				if (sc->first_ds1 < 0)
					sc->first_ds1 = f->t;
				continue;
			}
			jsonl_get(line, "ip", ip, sizeof(ip));
			ue = ue_of(ip);
			if (attacker(ue, ip, arg)) {
				if (sc->first_alarm < 0) {
					sc->first_alarm = f->t;
					snprintf(sc->first_type,
					    sizeof(sc->first_type), "%s", v);
				}
				sc->last_attacker_alarm = f->t;
				if (ue >= 0 && !named[ue]) {
					named[ue] = true;
					sc->attackers_alarmed++;
				}
			} else if (ue >= 0 && !named[ue]) {
				named[ue] = true;
				sc->legit_alarmed++;
				print_message("  wrongly alarmed: %s", line);
			}
			continue;
		}
		if (!f->inbound)
			continue;
		jsonl_get(line, "verdict", v, sizeof(v));
		if (f->attack) {
			sc->attack_in++;
			if (strcmp(v, "drop") == 0)
				sc->attack_dropped++;
			if (sc->first_alarm >= 0) {
				sc->attack_after++;
				if (strcmp(v, "drop") == 0)
					sc->attack_after_dropped++;
			}
			if (sc->first_ds1 >= 0) {
				sc->after_ds1++;
				if (strcmp(v, "drop") == 0)
					sc->after_ds1_dropped++;
			}
		} else if (f->ue >= 0 && attacker(f->ue, "", arg)) {
			/* The attacker's own traffic is neither. */
		} else {
			sc->legit_in++;
			if (strcmp(v, "drop") == 0) {
				sc->legit_dropped++;
				if (sc->legit_dropped <= 5)
					print_message("  legit dropped: %s",
					    line);
			}
		}
	}
	fclose(fp);
	wait4(pid, &sc->status, 0, &ru);
	sc->maxrss_kb = ru.ru_maxrss;
	free(named);
	/* The summary's table occupancy (they are fixed, never grow). */
	if ((fp = fopen(errpath, "r")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL) {
			const char *t = strstr(line, "tables: ");

			if (t != NULL)
				sscanf(t, "tables: bindings %*u/%*u, pending "
				    "%lu/%lu (%*u recycled), sources %lu/%lu",
				    &sc->pending, &sc->pending_cap,
				    &sc->sources, &sc->sources_cap);
		}
		fclose(fp);
	}
	unlink(errpath);
}

static bool
nobody(int ue, const char *ip, void *arg)
{
	(void)ue;
	(void)ip;
	(void)arg;
	return false;
}

static bool
one_ue(int ue, const char *ip, void *arg)
{
	(void)ip;
	return ue == *(int *)arg;
}

static bool
outsider(int ue, const char *ip, void *arg)
{
	(void)ue;
	(void)arg;
	return strcmp(ip, "203.0.113.66") == 0;
}

static bool
first_n(int ue, const char *ip, void *arg)
{
	(void)ip;
	return ue >= 0 && ue < *(int *)arg;
}

static void
report(const char *name, const struct score *sc)
{
	print_message("%s: legit %llu in, %llu dropped; attack %llu in, "
	    "%llu dropped (%llu of %llu after the first alarm); first "
	    "alarm %s at %.3f s, DS1 at %.3f s; alarms:%s; UEs wrongly "
	    "alarmed %d; max RSS %ld KB\n", name,
	    (unsigned long long)sc->legit_in,
	    (unsigned long long)sc->legit_dropped,
	    (unsigned long long)sc->attack_in,
	    (unsigned long long)sc->attack_dropped,
	    (unsigned long long)sc->attack_after_dropped,
	    (unsigned long long)sc->attack_after,
	    sc->first_type[0] ? sc->first_type : "-", sc->first_alarm,
	    sc->first_ds1, sc->types[0] ? sc->types : " none",
	    sc->legit_alarmed, sc->maxrss_kb);
}

static void
path_for(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s.pcap", dir, name);
	for (char *p = buf + strlen(dir) + 1; *p != '\0'; p++)
		if (*p == ' ')
			*p = '_';
}

/* SGFLOOD_KEEP=1 keeps the captures for a look by hand. */
static void
drop_file(const char *p)
{
	if (getenv("SGFLOOD_KEEP") == NULL)
		unlink(p);
}

/* ---- the sets ---------------------------------------------------------------- */

/* The captures hold the population's registrations: no start-up window. */
static const char *const SETS_TRAIN[] = {
	"proxy.addresses = [\"192.0.2.1\"]",
	"training.duration = 1800",
	"startup.learn = 0",
	NULL,
};

static char set_baseline[600];
static const char *SETS_BASELINE[] = {
	"proxy.addresses = [\"192.0.2.1\"]",
	"startup.learn = 0",
	set_baseline,
	NULL,
};

/* ---- scenarios ------------------------------------------------------------------ */

/* 1. A legitimate hour, training in its first 30 minutes. */
static void
test_legit_hour(void **state)
{
	struct fg_model		 m;
	struct fg_result	 res;
	struct score		 sc;
	char			 p[600];

	(void)state;
	fg_model_default(&m);
	if (getenv("SGFLOOD_SEED") != NULL)
		m.seed = (unsigned)atoi(getenv("SGFLOOD_SEED"));
	path_for(p, sizeof(p), "legit_hour");
	assert_int_equal(fg_generate(&m, NULL, p, &res), 0);
	replay(p, &res, SETS_TRAIN, nobody, NULL, &sc);
	report("legit hour", &sc);
	assert_int_equal(sc.status, 0);
	assert_true(sc.legit_in > 50000);
	assert_int_equal(sc.legit_dropped, 0);
	for (int k = 0; k < 16; k++)
		assert_int_equal(sc.alarms[k], 0);
	fg_result_free(&res);
	drop_file(p);
}

/* 2. Busy hour: calls ramp to 2x after training. */
static void
test_busy_hour(void **state)
{
	struct fg_model		 m;
	struct fg_result	 res;
	struct score		 sc;
	char			 p[600];

	(void)state;
	fg_model_default(&m);
	m.busy_from = 1800;
	m.busy_to = 3000;
	m.busy_factor = 2;
	m.seed = 2;
	if (getenv("SGFLOOD_SEED") != NULL)
		m.seed = (unsigned)atoi(getenv("SGFLOOD_SEED")) + 1;
	path_for(p, sizeof(p), "busy_hour");
	assert_int_equal(fg_generate(&m, NULL, p, &res), 0);
	replay(p, &res, SETS_TRAIN, nobody, NULL, &sc);
	report("busy hour", &sc);
	assert_int_equal(sc.status, 0);
	assert_int_equal(sc.legit_dropped, 0);
	assert_int_equal(sc.legit_alarmed, 0);
	/* A DS1 notice alone is allowed. */
	for (int k = 0; k < 16; k++)
		if (k != alarm_index("ds1"))
			assert_int_equal(sc.alarms[k], 0);
	fg_result_free(&res);
	drop_file(p);
}

/* The shorter captures below start from a baseline learned here. */
static int
learn_baseline(void **state)
{
	struct fg_model		 m;
	struct fg_result	 res;
	char			 p[600], cmd[2048];

	(void)state;
	fg_model_default(&m);
	m.duration = 1800;
	path_for(p, sizeof(p), "training");
	if (fg_generate(&m, NULL, p, &res) == -1)
		return -1;
	fg_result_free(&res);
	snprintf(baseline, sizeof(baseline), "%s/baseline", dir);
	snprintf(set_baseline, sizeof(set_baseline),
	    "training.baseline_file = \"%s\"", baseline);
	snprintf(cmd, sizeof(cmd), "%s --learn -r %s --set "
	    "'proxy.addresses = [\"192.0.2.1\"]' --set '%s' >/dev/null "
	    "2>&1", sipguard, p, set_baseline);
	if (system(cmd) != 0)
		return -1;
	drop_file(p);
	return access(baseline, R_OK);
}

static void
attack_run(const char *name, const struct fg_attack *a,
    bool (*attacker)(int, const char *, void *), void *arg,
    struct score *sc, struct fg_result *res)
{
	struct fg_model	 m;
	char		 p[600];

	fg_model_default(&m);
	m.duration = a->start + a->dur + 60;
	path_for(p, sizeof(p), name);
	assert_int_equal(fg_generate(&m, a, p, res), 0);
	replay(p, res, SETS_BASELINE, attacker, arg, sc);
	report(name, sc);
	assert_int_equal(sc->status, 0);
	drop_file(p);
}

/* 3. 100 msgs/s from one bound UE, per method. */
static void
constant_rate(const char *method)
{
	struct fg_attack	 a = { .kind = FG_CONSTANT, .start = 240,
				    .dur = 30, .rate = 100, .ue = 77 };
	struct fg_result	 res;
	struct score		 sc;
	char			 name[64];
	int			 ue = 77;

	a.method = method;
	snprintf(name, sizeof(name), "constant %s", method);
	attack_run(name, &a, one_ue, &ue, &sc, &res);
	assert_true(sc.first_alarm >= a.start);
	assert_true(sc.first_alarm <= a.start + 1.0);
	assert_true(sc.attack_after_dropped * 100 >= sc.attack_after * 99);
	assert_int_equal(sc.legit_dropped, 0);
	assert_int_equal(sc.legit_alarmed, 0);
	fg_result_free(&res);
}

static void
test_constant_invite(void **state)
{
	(void)state;
	constant_rate("INVITE");
}

static void
test_constant_options(void **state)
{
	(void)state;
	constant_rate("OPTIONS");
}

static void
test_constant_message(void **state)
{
	(void)state;
	constant_rate("MESSAGE");
}

static void
test_constant_subscribe(void **state)
{
	(void)state;
	constant_rate("SUBSCRIBE");
}

/* 4. An outsider's REGISTER flood from one real source at 500/s. */
static void
test_outsider_register(void **state)
{
	struct fg_attack	 a = { .kind = FG_OUTSIDER_REG, .start = 240,
				    .dur = 30, .rate = 500, .ue = -1 };
	struct fg_result	 res;
	struct score		 sc;

	(void)state;
	attack_run("outsider REGISTER flood", &a, outsider, NULL, &sc, &res);
	assert_true(sc.first_alarm >= a.start);
	assert_true(sc.first_alarm <= a.start + 1.0);
	assert_true(sc.attack_after_dropped * 100 >= sc.attack_after * 99);
	assert_int_equal(sc.legit_dropped, 0);
	assert_int_equal(sc.legit_alarmed, 0);
	fg_result_free(&res);
}

/* 5. Spoofed sources, 2,000 REGISTER/s for 30 s. */
static void
test_spoofed_register(void **state)
{
	struct fg_attack	 a = { .kind = FG_SPOOFED_REG, .start = 240,
				    .dur = 30, .rate = 2000, .ue = -1 };
	struct fg_attack	 none = { .kind = FG_NONE, .start = 240,
				    .dur = 30, .ue = -1 };
	struct fg_result	 res;
	struct score		 sc, quiet;

	(void)state;
	attack_run("no flood (memory reference)", &none, nobody, NULL, &quiet,
	    &res);
	fg_result_free(&res);
	attack_run("spoofed REGISTER flood", &a, nobody, NULL, &sc, &res);
	assert_true(sc.first_ds1 >= a.start);
	assert_true(sc.first_ds1 <= a.start + 2.0);
	/* From DS1 on, >= 95 % of the flood dropped. */
	print_message("  flood after DS1: %llu of %llu dropped\n",
	    (unsigned long long)sc.after_ds1_dropped,
	    (unsigned long long)sc.after_ds1);
	assert_true(sc.after_ds1_dropped * 100 >= sc.after_ds1 * 95);
	/*
	 * DS1 clears once the flood has left Curr.C_Avg's window
	 * (ds.interval, 20 s) and a quarter of it more has passed quietly.
	 */
	print_message("  DS1 cleared %.1f s after the flood ended\n",
	    sc.ds1_clear - (a.start + a.dur));
	assert_true(sc.ds1_clear > a.start + a.dur);
	assert_true(sc.ds1_clear <= a.start + a.dur + 20 + 5 + 2);
	/* Bound UEs: >= 99 % accepted, none alarmed. */
	assert_true(sc.legit_dropped * 100 <= sc.legit_in);
	assert_int_equal(sc.legit_alarmed, 0);
	/*
	 * Memory: every table is allocated and touched at start, so the
	 * flood adds nothing; the tables it fills are bounded and recycle.
	 * (Under AddressSanitizer RSS counts its quarantine, not ours.)
	 */
	print_message("  max RSS with the flood %ld KB, without %ld KB; "
	    "sources %lu/%lu, pending %lu/%lu\n", sc.maxrss_kb,
	    quiet.maxrss_kb, sc.sources, sc.sources_cap, sc.pending,
	    sc.pending_cap);
	assert_true(sc.sources_cap > 0 && sc.sources <= sc.sources_cap);
	assert_true(sc.pending_cap > 0 && sc.pending <= sc.pending_cap);
#ifndef __SANITIZE_ADDRESS__
	assert_true(sc.maxrss_kb <= quiet.maxrss_kb + 2048);
#endif
	fg_result_free(&res);
}

/*
 * 6. 50 insiders at >= 3x their baseline, >= 3x the global rate, for
 * 40 s.  DS1, then DS2 after flood.ds2_hold (10 s): 48 of 50 within the
 * attack, the last at 35 s (with no hold: all 50 by 22.5 s).
 */
static void
test_distributed(void **state)
{
	struct fg_attack	 a = { .kind = FG_DISTRIBUTED, .start = 240,
				    .dur = 40, .count = 50, .ue = -1 };
	struct fg_result	 res;
	struct score		 sc;
	int			 n = 50;

	(void)state;
	attack_run("distributed insiders", &a, first_n, &n, &sc, &res);
	print_message("  each insider at %.1fx its baseline; %d of 50 "
	    "alarmed, the last at %.1f s\n", res.factor, sc.attackers_alarmed,
	    sc.last_attacker_alarm - a.start);
	assert_true(sc.attackers_alarmed >= 48);
	assert_true(sc.last_attacker_alarm <= a.start + 40);
	assert_int_equal(sc.legit_alarmed, 0);
	assert_int_equal(sc.legit_dropped, 0);
	fg_result_free(&res);
}

/*
 * 6b. Issue 11's miss: 20 of the 50 busy lines raise their own rate for
 * a minute while the global rate rises less than DS1's 2.7x, so DS2
 * never looks.  Before the rise detector none of the 20 was alarmed.
 * Measured with the defaults (seed 1): at 4x, 3 of 20 named, 42-49 s
 * after the start; at 6x, 15 of 20, 26-44 s (before flood.rise_margin:
 * 14 of 20 by 54 s, 20 by 48 s).  Busy lines legitimately reach 3.5x-4.8x
 * their trained rate over 30-45 s in the busy hour (busy-lamp answers
 * come in clusters; make eval), and the margin keeps the bar above them:
 * the README's limits.  SGFLOOD_FACTOR: another factor, by hand.
 */
static void
insiders_run(double factor, struct score *sc)
{
	struct fg_attack	 a = { .kind = FG_DISTRIBUTED, .start = 240,
				    .dur = 60, .count = 20, .ue = -1 };
	struct fg_result	 res;
	char			 name[64];
	int			 n = 20;

	a.factor = getenv("SGFLOOD_FACTOR") != NULL ?
	    atof(getenv("SGFLOOD_FACTOR")) : factor;
	snprintf(name, sizeof(name), "insiders at %gx", a.factor);
	attack_run(name, &a, first_n, &n, sc, &res);
	print_message("  %d of 20 alarmed, the first at %.1f s, the last at "
	    "%.1f s; DS1 %s\n", sc->attackers_alarmed,
	    sc->first_alarm - a.start, sc->last_attacker_alarm - a.start,
	    sc->first_ds1 < 0 ? "never" : "raised");
	assert_int_equal(sc->legit_alarmed, 0);
	assert_int_equal(sc->legit_dropped, 0);
	fg_result_free(&res);
}

static void
test_insiders(void **state)
{
	struct score	 sc;

	(void)state;
	insiders_run(4, &sc);
	assert_true(sc.attackers_alarmed >= 3);
	assert_true(sc.first_alarm >= 240 && sc.first_alarm <= 240 + 45);
	assert_true(sc.first_ds1 < 0);
	/* Notices block nothing: the insiders keep lifting the trend the
	 * bar rises with. */
	insiders_run(6, &sc);
	assert_true(sc.attackers_alarmed >= 15);
	assert_true(sc.last_attacker_alarm <= 240 + 45);
}

/*
 * 6c. A re-registration storm after a proxy outage: every UE
 * re-registers within a minute (its REGISTER resent once, challenge,
 * credentials) and subscribes again.  Legitimate: no device alarmed or
 * dropped (a DS1 notice is allowed: the whole population did rise).
 * With `blf', each busy line also re-subscribes to its 30 BLF extensions
 * at once (60 messages in 1.5 s): SS, the paper's single-source test,
 * takes that burst for a flood (a limit of SS, measured and printed);
 * the rise detector must stay quiet all the same.
 */
static void
storm_run(bool blf, struct score *sc)
{
	struct fg_model		 m;
	struct fg_result	 res;
	char			 p[600];

	fg_model_default(&m);
	m.duration = 420;
	m.storm_at = 240;
	m.storm_blf = blf;
	if (getenv("SGFLOOD_SEED") != NULL)
		m.seed = (unsigned)atoi(getenv("SGFLOOD_SEED"));
	path_for(p, sizeof(p), blf ? "storm blf" : "storm");
	assert_int_equal(fg_generate(&m, NULL, p, &res), 0);
	replay(p, &res, SETS_BASELINE, nobody, NULL, sc);
	report(blf ? "re-registration storm, BLF re-subscribed" :
	    "re-registration storm", sc);
	assert_int_equal(sc->status, 0);
	fg_result_free(&res);
	drop_file(p);
}

static void
test_storm(void **state)
{
	struct score	 sc;

	(void)state;
	storm_run(false, &sc);
	assert_int_equal(sc.legit_dropped, 0);
	assert_int_equal(sc.legit_alarmed, 0);
	for (int k = 0; k < 16; k++)
		if (k != alarm_index("ds1"))
			assert_int_equal(sc.alarms[k], 0);
	storm_run(true, &sc);
	print_message("  with BLF re-subscriptions: %d ss alarms (SS's "
	    "limit), %d ir\n", sc.alarms[alarm_index("ss")],
	    sc.alarms[alarm_index("ir")]);
	assert_int_equal(sc.alarms[alarm_index("ir")], 0);
}

/* 7. One bound UE doubling its rate every 10 s. */
static void
test_increasing(void **state)
{
	/* A call-centre line: a UE at two messages a minute sends only
	 * ten before its rate reaches 20x, too few to tell from a burst. */
	struct fg_attack	 a = { .kind = FG_INCREASING, .start = 240,
				    .dur = 90, .period = 10, .ue = 17 };
	struct fg_result	 res;
	struct score		 sc;
	int			 ue = 17;
	double			 limit = a.start + 10 * log2(20);

	(void)state;
	attack_run("increasing rate", &a, one_ue, &ue, &sc, &res);
	print_message("  UE %d baseline %.3f msgs/s\n", ue, res.ue_rate);
	print_message("  blocked at %.1fx the baseline (limit 20x)\n",
	    sc.first_alarm > 0 ? pow(2, (sc.first_alarm - a.start) / 10) :
	    -1);
	assert_true(sc.first_alarm >= a.start);
	assert_true(sc.first_alarm < limit);
	assert_int_equal(sc.legit_alarmed, 0);
	assert_int_equal(sc.legit_dropped, 0);
	fg_result_free(&res);
}

/* 8. Password guessing and extension scanning. */
static void
test_bruteforce(void **state)
{
	struct fg_attack	 a = { .kind = FG_BRUTEFORCE, .start = 240,
				    .dur = 10, .count = 50, .ue = 5 };
	struct fg_result	 res;
	struct score		 sc;

	(void)state;
	attack_run("password guessing", &a, outsider, NULL, &sc, &res);
	assert_true(sc.alarms[alarm_index("bruteforce")] >= 1);
	assert_true(sc.first_alarm <= a.start + a.dur);
	assert_true(sc.attack_after_dropped * 100 >= sc.attack_after * 95);
	assert_int_equal(sc.legit_alarmed, 0);
	fg_result_free(&res);
}

static void
test_scan(void **state)
{
	struct fg_attack	 a = { .kind = FG_SCAN, .start = 240,
				    .dur = 10, .count = 30, .ue = -1 };
	struct fg_result	 res;
	struct score		 sc;

	(void)state;
	attack_run("extension scan", &a, outsider, NULL, &sc, &res);
	assert_true(sc.alarms[alarm_index("scan")] >= 1);
	assert_true(sc.first_alarm <= a.start + a.dur);
	assert_true(sc.attack_after_dropped * 100 >= sc.attack_after * 95);
	assert_int_equal(sc.legit_alarmed, 0);
	fg_result_free(&res);
}

/* `sipguard -r' of `pcap' with the baseline sets, stdout to `out'. */
static int
replay_to(const char *pcap, const char *out)
{
	char	 cmd[4096];
	size_t	 o;

	o = (size_t)snprintf(cmd, sizeof(cmd), "%s -r %s", sipguard, pcap);
	for (int k = 0; SETS_BASELINE[k] != NULL; k++)
		o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, " --set '%s'",
		    SETS_BASELINE[k]);
	snprintf(cmd + o, sizeof(cmd) - o, " > %s 2>/dev/null", out);
	return system(cmd);
}

/*
 * A replay is a function of its input: the same capture twice gives the
 * same output, byte for byte (the keyed hashes of the Bloom filter and
 * of scan counting included).
 */
static void
test_same_twice(void **state)
{
	struct fg_attack	 a = { .kind = FG_SCAN, .start = 240,
				    .dur = 10, .count = 30, .ue = -1 };
	struct fg_model		 m;
	struct fg_result	 res;
	char			 p[600], o1[640], o2[640], cmd[1400];

	(void)state;
	fg_model_default(&m);
	m.duration = a.start + a.dur + 60;
	path_for(p, sizeof(p), "same twice");
	assert_int_equal(fg_generate(&m, &a, p, &res), 0);
	fg_result_free(&res);
	snprintf(o1, sizeof(o1), "%s.1", p);
	snprintf(o2, sizeof(o2), "%s.2", p);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(replay_to(p, k == 0 ? o1 : o2), 0);
		if (k > 0) {
			snprintf(cmd, sizeof(cmd), "cmp -s %s %s", o1, o2);
			assert_int_equal(system(cmd), 0);
		}
	}
	unlink(o1);
	unlink(o2);
	drop_file(p);
}

/* Remove the captures, unless SGFLOOD_KEEP asks to keep them. */
static int
remove_dir(void)
{
	char	 cmd[600];

	if (getenv("SGFLOOD_KEEP") != NULL) {
		fprintf(stderr, "test_flood: captures kept in %s\n", dir);
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	int	 rc;

	if (getenv("SIPGUARD") != NULL)
		sipguard = getenv("SIPGUARD");
	if (mkdtemp(tl_template(dir, sizeof(dir), "/tmp/sgflood")) == NULL)
		return 1;
	if (learn_baseline(NULL) != 0) {
		fprintf(stderr, "test_flood: could not learn a baseline\n");
		return 1;
	}
	TREG("flood", legit_hour);
	TREG("flood", busy_hour);
	TREG("flood", constant_invite);
	TREG("flood", constant_options);
	TREG("flood", constant_message);
	TREG("flood", constant_subscribe);
	TREG("flood", outsider_register);
	TREG("flood", spoofed_register);
	TREG("flood", distributed);
	TREG("flood", insiders);
	TREG("flood", storm);
	TREG("flood", increasing);
	TREG("flood", bruteforce);
	TREG("flood", scan);
	TREG("flood", same_twice);
	rc = treg_run("flood");
	if (remove_dir() == -1)
		rc = 1;
	return rc;
}
