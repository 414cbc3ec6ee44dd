/*
 * seedgen.c: the seed corpora of the fuzz harnesses, made from the test
 * suite's own traffic (tests/scenarios.c, through pktgen), never from a
 * capture kept anywhere:
 *
 *   seedgen OUTDIR
 *
 * Every scenario runs in-process and into a pcap in OUTDIR; from its
 * frames come the seeds of
 *   packet/    one frame each, as captured (Ethernet, direction from
 *              addresses) and, for every other frame, as NFQUEUE would
 *              hand it: raw IP, DIR_IN or DIR_OUT, checksums unverified,
 *              the hardware MAC given;
 *   packets/   the scenario's frames in order, in chunks, with their
 *              time gaps (the record format of fuzz_packets.c);
 *   sipmsg/    the UDP and TCP payloads;
 * and from the engine it leaves, the state file (state_save) and the
 * baseline (state_baseline_save) for state/ and baseline/.  ctl/ gets
 * the requests sipguardctl sends.  conf/ gets conf_dump() of the
 * defaults (the Makefile adds the .conf files of conf/ and tests/conf/).
 * Seeds are capped per scenario: a flood scenario's ten thousandth
 * REGISTER teaches the fuzzer nothing its first did not.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "decode.h"
#include "fuzz.h"
#include "scenarios.h"
#include "state.h"

#define PACKET_SEEDS	32	/* frames per scenario */
#define SIPMSG_SEEDS	24	/* payloads per scenario */
#define CHUNK_FRAMES	128	/* frames per packets/ seed */
#define CHUNK_BYTES	60000
#define CHUNKS		4	/* packets/ seeds per scenario */
#define SEEN_SLOTS	(1 << 17)

static const char	*out;
static uint64_t		 seen[SEEN_SLOTS];	/* 0: a free slot */
static size_t		 nseen;

static void
die(const char *what)
{
	fprintf(stderr, "seedgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
put(const char *sub, const char *name, const void *p, size_t len)
{
	char	 path[1024];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s/%s", out, sub, name);
	if ((fp = fopen(path, "w")) == NULL)
		die(path);
	if (len > 0 && fwrite(p, 1, len, fp) != len)
		die(path);
	if (fclose(fp) != 0)
		die(path);
}

/* Copy file `from' to seed sub/name (if it exists). */
static void
put_file(const char *from, const char *sub, const char *name)
{
	static char	 buf[1 << 20];
	FILE		*fp;
	size_t		 n;

	if ((fp = fopen(from, "r")) == NULL)
		return;
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	put(sub, name, buf, n);
}

/* Not seen before (FNV-1a of the bytes and a tag)? */
static bool
fresh(uint8_t tag, const uint8_t *p, size_t len)
{
	uint64_t	 h = 14695981039346656037ULL ^ tag;

	for (size_t k = 0; k < len; k++)
		h = (h ^ p[k]) * 1099511628211ULL;
	h |= 1;
	for (size_t k = h & (SEEN_SLOTS - 1); seen[k] != 0;
	    k = (k + 1) & (SEEN_SLOTS - 1))
		if (seen[k] == h)
			return false;
	if (nseen == SEEN_SLOTS / 2)
		return false;		/* enough seeds anyway */
	for (size_t k = h & (SEEN_SLOTS - 1);; k = (k + 1) & (SEEN_SLOTS - 1))
		if (seen[k] == 0) {
			seen[k] = h;
			break;
		}
	nseen++;
	return true;
}

/* The dt byte of fuzz_packets.c closest to a gap of `ns'. */
static uint8_t
dt_of(uint64_t ns)
{
	static const uint64_t	 unit[6] = { 1000ULL, 1000000ULL,
	    32000000ULL, NS_PER_SEC, 32 * NS_PER_SEC, 1024 * NS_PER_SEC };

	for (int c = 0; c < 6; c++)
		if (ns <= 31 * unit[c])
			return (uint8_t)(c << 5 | (ns + unit[c] / 2) / unit[c]);
	return 5 << 5 | 31;
}

static bool
from_proxy(const struct dec_pkt *p)
{
	struct sg_addr	 a, b;

	sg_addr_parse("192.0.2.1", &a);
	sg_addr_parse("2001:db8::1", &b);
	return sg_addr_eq(&p->src, &a) || sg_addr_eq(&p->src, &b);
}

/* Length of the Ethernet header (and 802.1Q tags) of a frame. */
static size_t
l2_len(const uint8_t *f, size_t len)
{
	size_t	 o = 12;

	while (o + 2 <= len && (f[o] == 0x81 || f[o] == 0x88) &&
	    (f[o + 1] == 0x00 || f[o + 1] == 0xa8))
		o += 4;
	return o + 2 <= len ? o + 2 : len;
}

struct chunk {
	uint8_t		 buf[CHUNK_BYTES + 70000];
	size_t		 len;
	int		 frames, n;
};

static void
chunk_flush(struct chunk *c, const char *name)
{
	char	 file[256];

	if (c->frames > 0 && c->n < CHUNKS) {
		snprintf(file, sizeof(file), "%s-%d", name, c->n);
		put("packets", file, c->buf, c->len);
		c->n++;
	}
	c->len = 0;
	c->frames = 0;
}

static void
frames(const char *pcap_path, const char *name)
{
	static struct chunk	 chunk;
	char			 err[PCAP_ERRBUF_SIZE], file[256];
	static uint8_t		 seed[70000];
	struct pcap_pkthdr	*h;
	const u_char		*f;
	pcap_t			*pc;
	uint64_t		 last = 0;
	int			 npkt = 0, nsip = 0, k = 0;

	memset(&chunk, 0, sizeof(chunk));
	pc = pcap_open_offline_with_tstamp_precision(pcap_path,
	    PCAP_TSTAMP_PRECISION_NANO, err);
	if (pc == NULL) {
		fprintf(stderr, "seedgen: %s\n", err);
		exit(1);
	}
	while (pcap_next_ex(pc, &h, &f) == 1) {
		uint64_t	 t = (uint64_t)h->ts.tv_sec * NS_PER_SEC +
				    (uint64_t)h->ts.tv_usec;
		size_t		 len = h->caplen, l2 = l2_len(f, len);
		struct dec_pkt	 p;
		bool		 ok, out_dir;

		memset(&p, 0, sizeof(p));
		ok = dec_frame(LINK_ETHERNET, f, len, &p) == DEC_OK;
		out_dir = ok && from_proxy(&p);
		k++;

		if (npkt < PACKET_SEEDS && len < sizeof(seed) &&
		    fresh(0, f, len)) {
			seed[0] = FZ_HDR(FZ_L_ETHERNET, FZ_D_UNKNOWN, 0, false);
			memcpy(seed + 1, f, len);
			snprintf(file, sizeof(file), "%s-%d-eth", name, k);
			put("packet", file, seed, len + 1);
			if (npkt % 2 == 1) {
				seed[0] = FZ_HDR(FZ_L_RAW, out_dir ? FZ_D_OUT :
				    FZ_D_IN, 1, !out_dir);
				memcpy(seed + 1, f + l2, len - l2);
				snprintf(file, sizeof(file), "%s-%d-raw", name,
				    k);
				put("packet", file, seed, len - l2 + 1);
			}
			npkt++;
		}
		if (ok && p.plen > 0 && nsip < SIPMSG_SEEDS &&
		    fresh(1, p.payload, p.plen)) {
			snprintf(file, sizeof(file), "%s-%d", name, k);
			put("sipmsg", file, p.payload, p.plen);
			nsip++;
		}

		/* [hdr][dt][len16][frame], Ethernet as captured. */
		if (chunk.len + 4 + len > CHUNK_BYTES ||
		    chunk.frames == CHUNK_FRAMES)
			chunk_flush(&chunk, name);
		if (len <= 0xffff && chunk.n < CHUNKS) {
			uint8_t	*r = chunk.buf + chunk.len;

			r[0] = FZ_HDR(FZ_L_ETHERNET, FZ_D_UNKNOWN, 0, false);
			r[1] = dt_of(last != 0 && t > last ? t - last : 0);
			r[2] = (uint8_t)(len >> 8);
			r[3] = (uint8_t)len;
			memcpy(r + 4, f, len);
			chunk.len += 4 + len;
			chunk.frames++;
		}
		last = t;
	}
	chunk_flush(&chunk, name);
	pcap_close(pc);
}

static void
tables(struct scn *s, const char *name)
{
	char	 dir[1024], path[1100], err[512];
	struct state_counts c;

	snprintf(dir, sizeof(dir), "%s/tmp", out);
	if (state_save(dir, &s->e, 1, s->now, NULL, NULL, &c, err, sizeof(err)) == 0) {
		snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
		put_file(path, "state", name);
		unlink(path);
	} else
		fprintf(stderr, "seedgen: %s: %s\n", name, err);
	snprintf(path, sizeof(path), "%s/%s", dir, BASELINE_FILE);
	if (state_baseline_save(s->e, path, s->now, NULL, NULL, err, sizeof(err)) == 0) {
		put_file(path, "baseline", name);
		unlink(path);
	} else
		fprintf(stderr, "seedgen: %s: %s\n", name, err);
}

/* whitelist/: files as an operator writes them, and runtime lists. */
static void
whitelists(void)
{
	static const char *const seeds[] = {
		"# peers\n203.0.113.0/28   carrier A trunk\n"
		    "198.51.100.7 02:00:5e:00:53:01 peer proxy B # note\n"
		    "2001:db8:100::/48\r\n\t10.0.0.1 not-a-mac words\n",
		"10.0.0.0/8\n10.0.0.0/8 again\n",
		"10.1.2.3/8\n::ffff:192.0.2.1\n192.0.2.0/24 02:00:5e:00:53:1\n",
		"sipguard-whitelist 1\n"
		    "w 4/c0000200000000000000000000000000 24 none 1700 -\n"
		    "w 6/20010db8000500000000000000000000 48 02:00:5e:00:53:01 "
		    "1701 peer%20%25%20B\nend\n",
		"sipguard-whitelist 1\nend\n",
	};
	char	 name[32];

	for (size_t k = 0; k < nitems(seeds); k++) {
		snprintf(name, sizeof(name), "wl-%zu", k);
		put("whitelist", name, seeds[k], strlen(seeds[k]));
	}
}

static void
requests(void)
{
	static const char *const req[] = {
		"stats\n", "json stats\n", "bindings\n", "json bindings\n",
		"blacklist\n", "blacklist list\n", "json blacklist list\n",
		"blacklist add 02:00:00:00:00:66 203.0.113.66\n",
		"blacklist add 02:00:00:00:00:66 203.0.113.66 5060\n",
		"json blacklist add 02:00:00:00:00:66 2001:db8::66 5062 ttl "
		    "600\n",
		"blacklist del 02:00:00:00:00:66 203.0.113.66\n",
		"json blacklist del 02:00:00:00:00:66 203.0.113.66 5060\n",
		"blacklist forget 02:00:00:00:00:66\n",
		"blacklist forget 203.0.113.66\n",
		"json blacklist forget 2001:db8::66\n",
		"reload\n", "json reload\n", "save\n", "json save\n",
		"help\n", "json help\n", "\n", "json\n", "  json  stats\r\n",
		"frobnicate\n", "json frobnicate \"x\\y\"\n",
		"a b c d e f g h i\n", "stats",
	};
	char	 name[32], seed[4096];

	for (size_t k = 0; k < nitems(req); k++) {
		/* First byte: the size of the pieces (0: all at once). */
		seed[0] = (char)(k % 3 == 2 ? 3 : 0);
		memcpy(seed + 1, req[k], strlen(req[k]));
		snprintf(name, sizeof(name), "req-%zu", k);
		put("ctl", name, seed, strlen(req[k]) + 1);
	}
	/* Too long a line. */
	seed[0] = 0;
	memset(seed + 1, 'x', 1100);
	memcpy(seed + 1, "json ", 5);
	put("ctl", "too-long", seed, 1101);
}

int
main(int argc, char **argv)
{
	static const char *const subs[] = { "packet", "packets", "sipmsg",
	    "conf", "state", "baseline", "ctl", "whitelist", "tmp" };
	static const char	 sets[] = "#sets\nmode = \"detect\"\n"
	    "tables.bindings = 64\n"
	    "proxy.addresses = [\"192.0.2.1\", \"2001:db8::1\"]\n"
	    "whitelist = [\"10.0.0.0/8\"]\nflood.min_rate = 0.5\n";
	char			 path[1024];
	struct sg_conf		 conf;
	FILE			*fp;

	if (argc != 2) {
		fprintf(stderr, "usage: seedgen OUTDIR\n");
		return 2;
	}
	out = argv[1];
	mkdir(out, 0755);
	for (size_t k = 0; k < nitems(subs); k++) {
		snprintf(path, sizeof(path), "%s/%s", out, subs[k]);
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			die(path);
	}
	for (int k = 0; k < nscenarios; k++) {
		const struct scenario	*sc = &scenarios[k];
		struct scn		 s;

		snprintf(path, sizeof(path), "%s/tmp/%s.pcap", out, sc->name);
		if (scn_init(&s, sc->name, sc->sets, path, true) == -1) {
			fprintf(stderr, "seedgen: %s", s.fail);
			return 1;
		}
		s.what = sc->what;
		sc->run(&s);
		pg_pcap_close(s.pcap);
		s.pcap = NULL;
		tables(&s, sc->name);
		scn_fini(&s);
		frames(path, sc->name);
		unlink(path);
	}
	whitelists();
	requests();

	conf_defaults(&conf);
	snprintf(path, sizeof(path), "%s/conf/defaults.conf", out);
	if ((fp = fopen(path, "w")) == NULL)
		die(path);
	conf_dump(&conf, fp);
	fclose(fp);
	/* The same keys as --set strings (fuzz_conf.c's "#sets" form). */
	put("conf", "sets", sets, strlen(sets));
	snprintf(path, sizeof(path), "%s/tmp", out);
	rmdir(path);
	return 0;
}
