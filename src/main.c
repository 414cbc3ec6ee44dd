/*
 * main.c: arguments, configuration, and the choice of packet source.
 *   sipguard -r FILE [-c FILE] [--set key=value]...   offline replay
 *   sipguard -t [-c FILE]                              check the config
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "capture_pcap.h"
#include "conf.h"
#include "daemon.h"
#include "engine.h"
#include "flood.h"
#include "hash.h"
#include "log.h"
#include "state.h"
#include "whitelist.h"

#define MAX_SETS	64

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: sipguard [-ftv] [-c file] [--set key=value]...\n"
	    "       sipguard -r capture [-c file] [--set key=value]...\n"
	    "       sipguard --learn -r capture [-c file] [--set key=value]...\n"
	    "  -c file        configuration (default " SG_CONF_PATH ")\n"
	    "  -r capture     replay a pcap/pcapng file, JSON Lines to stdout\n"
	    "  --learn        train module II on the whole capture and write\n"
	    "                 the baseline to training.baseline_file\n"
	    "  -t             check the configuration and exit\n"
	    "  -T             print the effective configuration and exit\n"
	    "  -f             log to stderr as well as syslog (sipguard never\n"
	    "                 forks; systemd runs it as Type=notify)\n"
	    "  -v             debug logging: control requests, kernel set\n"
	    "                 changes\n"
	    "  --set k=v      override a configuration key (libconfig value)\n"
	    "  -V             print the version\n");
	exit(status);
}

static void
print_summary(const char *path, const struct engine *e,
    const struct replay_summary *sum, const char *proxy_note)
{
	struct engine_stats	 st;
	bool			 first = true;

	engine_stats(e, &st);
	fprintf(stderr, "sipguard: %s: %llu frames, %llu SIP messages and "
	    "keep-alives: %llu accepted, %llu dropped; %llu alarms\n", path,
	    (unsigned long long)sum->frames,
	    (unsigned long long)sum->messages,
	    (unsigned long long)sum->accepted,
	    (unsigned long long)sum->dropped,
	    (unsigned long long)sum->alarms);
	fprintf(stderr, "sipguard: dropped by reason:");
	for (int r = 0; r < SG_R__COUNT; r++) {
		if (st.drop[r] == 0)
			continue;
		fprintf(stderr, "%s %s=%llu", first ? "" : ",",
		    sg_reason_str((enum sg_reason)r),
		    (unsigned long long)st.drop[r]);
		first = false;
	}
	fprintf(stderr, "%s\n", first ? " none" : "");
	if (st.decode[DEC_TRUNCATED] || st.decode[DEC_MALFORMED] ||
	    st.frag_bad)
		fprintf(stderr, "sipguard: undecodable frames: %llu "
		    "truncated, %llu malformed, %llu bad fragments\n",
		    (unsigned long long)st.decode[DEC_TRUNCATED],
		    (unsigned long long)st.decode[DEC_MALFORMED],
		    (unsigned long long)st.frag_bad);
	{
		struct engine_tables	 t;

		engine_tables(e, sum->last_time, &t);
		fprintf(stderr, "sipguard: tables: bindings %u/%u, pending "
		    "%u/%u (%llu recycled), sources %u/%u (%llu recycled), "
		    "blacklist %u/%u, nonces %u/%u\n", t.bindings,
		    t.bindings_cap, t.pending, t.pending_cap,
		    (unsigned long long)t.pending_evicted, t.sources,
		    t.sources_cap, (unsigned long long)t.sources_recycled,
		    t.blacklist, t.blacklist_cap, t.nonces, t.nonces_cap);
	}
	if (proxy_note != NULL)
		fprintf(stderr, "sipguard: %s\n", proxy_note);
	{
		struct sg_mac	 mac;
		bool		 has_mac = false;
		char		 mb[SG_MACSTRLEN];

		/* SPEC 1: what made a packet outbound in this replay. */
		switch (engine_proxy_mac(e, &mac, &has_mac)) {
		case 2:
			fprintf(stderr, "sipguard: proxy MACs: as listed in "
			    "proxy.macs\n");
			break;
		case 1:
			fprintf(stderr, "sipguard: proxy MAC: %s, learned from "
			    "its first packet and pinned (list proxy.macs to "
			    "choose)\n", sg_mac_str(&mac, has_mac, mb,
			    sizeof(mb)));
			break;
		default:
			break;
		}
	}
	if (st.forged_proxy || st.undecodable || st.tcp_dropped)
		fprintf(stderr, "sipguard: evasion: %llu forged proxy "
		    "packets, %llu undecodable frames, %llu TCP segments "
		    "dropped\n", (unsigned long long)st.forged_proxy,
		    (unsigned long long)st.undecodable,
		    (unsigned long long)st.tcp_dropped);
	if (sum->truncated[0] != '\0')
		fprintf(stderr, "sipguard: %s: capture cut short at %s\n",
		    path, sum->truncated);
}

static int
run_replay(const char *path, struct sg_conf *conf, bool learn)
{
	struct engine		*e;
	struct replay_summary	 sum;
	char			 err[512], note[160], buf[SG_ADDRSTRLEN];
	const char		*proxy_note = NULL;
	int			 rc;

	if (conf->nproxy == 0) {
		rc = replay_guess_proxy(path, conf, err, sizeof(err));
		if (rc == -1) {
			fprintf(stderr, "sipguard: %s\n", err);
			return 2;
		}
		if (rc == 0)
			snprintf(note, sizeof(note), "proxy.addresses not set: "
			    "took %s, the destination of most REGISTERs",
			    sg_addr_str(&conf->proxy[0], buf, sizeof(buf)));
		else
			snprintf(note, sizeof(note), "proxy.addresses not set "
			    "and no REGISTER seen: all traffic judged inbound");
		proxy_note = note;
	}
	if (learn && conf->baseline_file[0] == '\0') {
		fprintf(stderr, "sipguard: --learn writes the baseline to "
		    "training.baseline_file: set it (-c or --set)\n");
		return 2;
	}
	/* --learn: the whole capture is the training period. */
	if (learn)
		conf->training_duration = UINT64_MAX / 2;
	if ((e = engine_create(conf)) == NULL) {
		fprintf(stderr, "sipguard: cannot allocate the tables "
		    "(tables.*, blacklist.size too large?)\n");
		return 1;
	}
	if (conf->whitelist_file[0] != '\0') {
		struct wl_entry	*wl;
		uint32_t	 nwl;

		if (wl_load_file(conf->whitelist_file,
		    (uint32_t)conf->tab_whitelist, &wl, &nwl, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "sipguard: whitelist_file %s\n", err);
			engine_destroy(e);
			return 2;
		}
		engine_whitelist_file(e, wl, nwl);
		free(wl);
	}
	/* A saved baseline skips training (SPEC 5); --learn makes one. */
	if (!learn && conf->baseline_file[0] != '\0' &&
	    access(conf->baseline_file, F_OK) == -1 && errno == ENOENT)
		fprintf(stderr, "sipguard: baseline %s does not exist yet: "
		    "training on the capture\n", conf->baseline_file);
	else if (!learn && conf->baseline_file[0] != '\0') {
		if (state_baseline_load(e, conf->baseline_file, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "sipguard: baseline %s\n", err);
			engine_destroy(e);
			return 2;
		}
	}
	memset(&sum, 0, sizeof(sum));
	if (replay_run(path, e, stdout, &sum, err, sizeof(err)) == -1) {
		fflush(stdout);
		fprintf(stderr, "sipguard: %s\n", err);
		engine_destroy(e);
		return 2;
	}
	fflush(stdout);
	print_summary(path, e, &sum, proxy_note);
	if (learn) {
		struct flood_stats	 fs;

		if (state_baseline_save(e, conf->baseline_file, sum.last_time,
		    NULL, NULL, err, sizeof(err)) == -1) {
			fprintf(stderr, "sipguard: baseline %s\n", err);
			engine_destroy(e);
			return 1;
		}
		flood_stats(engine_flood(e), sum.last_time, &fs);
		fprintf(stderr, "sipguard: baseline written to %s: "
		    "T.Dist_Avg %.2f s, Init.C_Avg %.2f msgs/s, unknown "
		    "sources %.2f msgs/s\n", conf->baseline_file, fs.tdist_avg,
		    fs.init_c_avg, fs.unbound_rate);
	}
	engine_destroy(e);
	return 0;
}

/* The command line. */
struct opts {
	const char	*sets[MAX_SETS];
	int		 nsets;
	const char	*conffile, *replay;
	bool		 test, dump, foreground, learn;
	int		 verbose;
};

static void
parse_args(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		{ "set", required_argument, NULL, 's' },
		{ "learn", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int	 ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, "c:fhr:tTvV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->conffile = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'r':
			o->replay = optarg;
			break;
		case 'L':
			o->learn = true;
			break;
		case 's':
			if (o->nsets == MAX_SETS) {
				fprintf(stderr, "sipguard: too many --set\n");
				exit(2);
			}
			o->sets[o->nsets++] = optarg;
			break;
		case 't':
			o->test = true;
			break;
		case 'T':
			o->dump = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'V':
			printf("sipguard %s\n", SG_VERSION);
			exit(0);
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc || (o->learn && o->replay == NULL))
		usage(2);
	/* A replay reads no system file unless asked to. */
	if (o->conffile == NULL && o->replay == NULL)
		o->conffile = SG_CONF_PATH;
}

int
main(int argc, char *argv[])
{
	struct opts		 o;
	struct sg_conf		 conf;
	struct conf_errors	 errs;
	const char		*name;

	parse_args(argc, argv, &o);
	if (hash_init() == -1) {
		fprintf(stderr, "sipguard: libsodium initialisation failed\n");
		return 1;
	}
	/*
	 * A replay is a function of the capture and the configuration: the
	 * keyed hashes (Bloom filter, scan counting) get a fixed key, so the
	 * same capture gives the same verdicts and alarms every time.  The
	 * daemon keeps its random key, which an attacker cannot aim at.
	 */
	if (o.replay != NULL)
		hash_set_key((const uint8_t *)"sipguard replay!");
	name = o.conffile ? o.conffile : "(defaults)";
	if (conf_load(o.conffile, o.sets, o.nsets, &conf, &errs) == -1) {
		fputs(errs.buf, stderr);
		if (o.test)
			fprintf(stderr, "sipguard: configuration %s test "
			    "failed\n", name);
		return o.test ? 1 : 2;
	}
	if (o.dump) {
		conf_dump(&conf, stdout);
		return 0;
	}
	if (conf.whitelist_file[0] != '\0') {
		struct wl_entry	*wl;
		uint32_t	 nwl;
		char		 err[600];

		if (wl_load_file(conf.whitelist_file,
		    (uint32_t)conf.tab_whitelist, &wl, &nwl, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "sipguard: whitelist_file %s\n", err);
			if (o.test)
				fprintf(stderr, "sipguard: configuration %s "
				    "test failed\n", name);
			return o.test ? 1 : 2;
		}
		free(wl);
	}
	if (o.test) {
		printf("sipguard: configuration %s test is successful\n",
		    name);
		return 0;
	}
	if (o.replay != NULL) {
		log_init("sipguard", 1, LOG_DAEMON);
		log_set_syslog(0);
		log_set_verbose(o.verbose);
		return run_replay(o.replay, &conf, o.learn);
	}
	return daemon_run(o.conffile, o.sets, o.nsets, &conf, o.foreground,
	    o.verbose);
}
