/*
 * test_dropcap.c: the drops capture (dropcap.h).  Packets written with
 * their comments are read back with libpcap (pcap_open_offline reads
 * pcapng): count, link type, lengths, bytes, nanosecond times; the
 * comments by walking the blocks and their options here, as the pcapng
 * draft lays them out.  Then the bounds: the ring rotates before a file
 * passes its size and keeps only its last files, the token bucket admits
 * its rate with a burst of a second, a full buffer counts what it loses,
 * an unwritable path counts errors, an existing file is moved away.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "dropcap.h"
#include "log.h"
#include "pktgen.h"
#include "sipguard.h"
#include "testlib.h"

#define T0		SEC(1796638272)	/* 2026-12-07T10:11:12Z */
#define MIB		(1u << 20)
#define ETH		14	/* pg_frame's Ethernet header, no VLAN */

static const struct pg_ep attacker = { { 0x02, 0, 0, 0, 0, 0x66 },
    "10.96.0.11", 5060 };
static const struct pg_ep proxy = { { 0x02, 0, 0, 0, 0, 0x01 },
    "10.96.0.1", 5060 };

/* An IPv4/UDP packet whose SIP payload carries `tag', padded to `len'. */
static size_t
l3_packet(uint8_t *out, size_t sz, int tag, size_t len)
{
	static uint8_t	 frame[70000 + 64];
	char		*body;
	size_t		 n, plen;

	plen = len > 28 ? len - 28 : 0;
	body = calloc(1, plen + 1);
	assert_non_null(body);
	memset(body, 'x', plen);
	n = (size_t)snprintf(body, plen + 1, "BYE sip:p%d SIP/2.0\r\n", tag);
	if (n < plen)
		body[n] = 'x';
	n = pg_frame(frame, sizeof(frame), &attacker, &proxy, body, plen,
	    NULL);
	free(body);
	assert_true(n > ETH && n - ETH <= sz);
	memcpy(out, frame + ETH, n - ETH);
	return n - ETH;
}

/* ---- reading back -------------------------------------------------------- */

static uint32_t
rd32(const uint8_t *p)
{
	uint32_t	 v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t
rd16(const uint8_t *p)
{
	uint16_t	 v;

	memcpy(&v, p, 2);
	return v;
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE	*fp = fopen(path, "rb");
	uint8_t	*b;
	long	 n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return b;
}

/*
 * The comments of every EPB of `path', in order, by hand: each block's
 * two lengths agree, the header is SHB then IDB (LINKTYPE_RAW), each
 * EPB's options end with opt_endofopt.  Returns the EPB count.
 */
static int
comments(const char *path, char out[][DROPCAP_COMMENT_MAX + 1], int max)
{
	size_t		 len, o = 0;
	uint8_t		*b = slurp(path, &len);
	int		 n = 0, k = 0;

	while (o + 12 <= len) {
		uint32_t	 type = rd32(b + o), bl = rd32(b + o + 4);

		assert_true(bl >= 12 && bl % 4 == 0 && o + bl <= len);
		assert_int_equal(rd32(b + o + bl - 4), bl);
		if (k == 0) {
			assert_int_equal(type, 0x0a0d0d0a);
			assert_int_equal(rd32(b + o + 8), 0x1a2b3c4d);
		} else if (k == 1) {
			assert_int_equal(type, 1);
			assert_int_equal(rd16(b + o + 8), 101);
		} else {
			const uint8_t	*p, *end = b + o + bl - 4;
			uint32_t	 cap = rd32(b + o + 20);
			bool		 ended = false;

			assert_int_equal(type, 6);
			p = b + o + 28 + ((cap + 3) & ~3u);
			if (n < max)
				out[n][0] = '\0';
			while (p + 4 <= end && !ended) {
				uint16_t code = rd16(p), ol = rd16(p + 2);

				assert_true(p + 4 + ol <= end);
				if (code == 0)
					ended = true;
				else if (code == 1 && n < max) {
					assert_true(ol <= DROPCAP_COMMENT_MAX);
					memcpy(out[n], p + 4, ol);
					out[n][ol] = '\0';
				}
				p += 4 + ((ol + 3u) & ~3u);
			}
			assert_true(ended);
			n++;
		}
		o += bl;
		k++;
	}
	assert_int_equal(o, len);
	free(b);
	return n;
}

/* Packets of `path' through libpcap; the tag of each in `tags'. */
static int
read_pcap(const char *path, int *tags, int max, size_t *caplen0,
    size_t *len0, uint64_t *t0)
{
	char			 err[PCAP_ERRBUF_SIZE];
	pcap_t			*p;
	struct pcap_pkthdr	*h;
	const u_char		*d;
	int			 n = 0;

	p = pcap_open_offline_with_tstamp_precision(path,
	    PCAP_TSTAMP_PRECISION_NANO, err);
	if (p == NULL)
		fail_msg("%s: %s", path, err);
	assert_int_equal(pcap_datalink(p), DLT_RAW);
	while (pcap_next_ex(p, &h, &d) == 1) {
		int	 tag = -1;

		assert_true(h->caplen > 28 && (d[0] >> 4) == 4);
		if (sscanf((const char *)d + 28, "BYE sip:p%d ", &tag) != 1)
			fail_msg("packet %d: no tag", n);
		if (n == 0) {
			if (caplen0 != NULL)
				*caplen0 = h->caplen;
			if (len0 != NULL)
				*len0 = h->len;
			if (t0 != NULL)
				*t0 = SEC(h->ts.tv_sec) +
				    (uint64_t)h->ts.tv_usec;
		}
		if (n < max)
			tags[n] = tag;
		n++;
	}
	pcap_close(p);
	return n;
}

/* ---- fixture ------------------------------------------------------------- */

struct fx {
	char		 dir[64], path[96];
	struct dropcap	*dc;
};

static int
fx_setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tl_template(f->dir, sizeof(f->dir), "/tmp/sgdropcap");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/drops.pcapng", f->dir);
	f->dc = dropcap_create();
	assert_non_null(f->dc);
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx	*f = *state;
	char		 cmd[128];

	dropcap_destroy(f->dc);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return 1;
	free(f);
	return 0;
}

static bool
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static off_t
size_of(const char *path)
{
	struct stat	 st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* ---- tests --------------------------------------------------------------- */

static uint8_t	 pkt[70000];

static const char *const reasons[] = {
	"sipguard drop: reason=ix alarm=spoof case=ix action=block queue=0",
	"sipguard drop: reason=blacklisted queue=1",
	"",
};

/* Three drops, three comments (one empty: no option), bytes and times. */
static void
test_file(void **state)
{
	struct fx		*f = *state;
	struct dropcap_stats	 s;
	char			 c[4][DROPCAP_COMMENT_MAX + 1];
	int			 tags[4];
	size_t			 n, caplen, len;
	uint64_t		 t;

	assert_false(dropcap_on(f->dc));
	assert_int_equal(dropcap_configure(f->dc, f->path, 16 * MIB, 4, 1000),
	    0);
	assert_true(dropcap_on(f->dc));
	for (int k = 0; k < 3; k++) {
		n = l3_packet(pkt, sizeof(pkt), k, 300 + (size_t)k);
		assert_int_equal(dropcap_push(f->dc, pkt, n, T0 + 123456789 +
		    (uint64_t)k, reasons[k]), 0);
	}
	/* Nothing on disk until the main loop flushes: header alone. */
	assert_int_equal(size_of(f->path), 28 + 44);
	dropcap_flush(f->dc);
	assert_int_equal(read_pcap(f->path, tags, 4, &caplen, &len, &t), 3);
	assert_int_equal(tags[0], 0);
	assert_int_equal(tags[2], 2);
	assert_int_equal(caplen, 300);
	assert_int_equal(len, 300);
	assert_true(t == T0 + 123456789);
	assert_int_equal(comments(f->path, c, 4), 3);
	for (int k = 0; k < 3; k++)
		assert_string_equal(c[k], reasons[k]);
	dropcap_stats(f->dc, &s);
	assert_int_equal(s.written, 3);
	assert_int_equal(s.rate + s.lost + s.errors + s.rotations, 0);
	assert_true(s.open);
	/* The file's mode: readable by the group, no more. */
	{
		struct stat	 st;

		assert_int_equal(stat(f->path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0640);
	}
	/* Off: nothing queued, nothing counted. */
	assert_int_equal(dropcap_configure(f->dc, "", 16 * MIB, 4, 1000), 0);
	assert_false(dropcap_on(f->dc));
	assert_int_equal(dropcap_push(f->dc, pkt, n, T0, "x"), -1);
	dropcap_stats(f->dc, &s);
	assert_int_equal(s.rate + s.lost, 0);
}

/* A packet longer than the snap length: cut, its length kept. */
static void
test_snaplen(void **state)
{
	struct fx	*f = *state;
	char		 c[2][DROPCAP_COMMENT_MAX + 1];
	char		 longc[DROPCAP_COMMENT_MAX + 100];
	int		 tags[2];
	size_t		 n, caplen, len;

	assert_int_equal(dropcap_configure(f->dc, f->path, 16 * MIB, 4, 1000),
	    0);
	/* A TCP segment the kernel coalesced (GRO): past 64 KB. */
	n = l3_packet(pkt, sizeof(pkt), 7, 1000);
	memset(pkt + n, 'y', 70000 - n);
	n = 70000;
	memset(longc, 'c', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	assert_int_equal(dropcap_push(f->dc, pkt, n, T0, longc), 0);
	dropcap_flush(f->dc);
	assert_int_equal(read_pcap(f->path, tags, 2, &caplen, &len, NULL), 1);
	assert_int_equal(tags[0], 7);
	assert_int_equal(caplen, DROPCAP_SNAPLEN);
	assert_int_equal(len, n);
	assert_int_equal(comments(f->path, c, 2), 1);
	assert_int_equal(strlen(c[0]), DROPCAP_COMMENT_MAX);
}

/*
 * The ring: 1 MiB files, 3 of them; 60 packets of about 60 KB.  No file
 * passes its size; the oldest went; the files left hold the last
 * packets in order: path.2, path.1, path.
 */
static void
test_rotate(void **state)
{
	struct fx		*f = *state;
	struct dropcap_stats	 s;
	char			 p1[128], p2[128], p3[128];
	const char		*ring[3];
	int			 tags[64], got = 0, next;

	snprintf(p1, sizeof(p1), "%s.1", f->path);
	snprintf(p2, sizeof(p2), "%s.2", f->path);
	snprintf(p3, sizeof(p3), "%s.3", f->path);
	assert_int_equal(dropcap_configure(f->dc, f->path, MIB, 3, 1000000),
	    0);
	for (int k = 0; k < 60; k++) {
		size_t	 n = l3_packet(pkt, sizeof(pkt), k, 60000);

		assert_int_equal(dropcap_push(f->dc, pkt, n, T0, "r"), 0);
		if (k % 10 == 9)
			dropcap_flush(f->dc);
	}
	dropcap_stats(f->dc, &s);
	assert_int_equal(s.written, 60);
	assert_int_equal(s.rotations, 3);	/* 17 a file: 17 17 17 9 */
	assert_true(exists(f->path) && exists(p1) && exists(p2));
	assert_false(exists(p3));
	ring[0] = p2;
	ring[1] = p1;
	ring[2] = f->path;
	next = 17;		/* the first file's 17 went */
	for (int r = 0; r < 3; r++) {
		int	 n;

		assert_true(size_of(ring[r]) <= (off_t)MIB);
		n = read_pcap(ring[r], tags, 64, NULL, NULL, NULL);
		assert_int_equal(n, r < 2 ? 17 : 9);
		for (int k = 0; k < n; k++)
			assert_int_equal(tags[k], next++);
		got += n;
	}
	assert_int_equal(got, 43);
	assert_int_equal(next, 60);
	/* One file: it is simply begun again. */
	assert_int_equal(dropcap_configure(f->dc, f->path, MIB, 1, 1000000),
	    0);
	for (int k = 0; k < 20; k++) {
		size_t	 n = l3_packet(pkt, sizeof(pkt), k, 60000);

		assert_int_equal(dropcap_push(f->dc, pkt, n, T0, "r"), 0);
	}
	dropcap_flush(f->dc);
	assert_true(size_of(f->path) <= (off_t)MIB);
	assert_int_equal(read_pcap(f->path, tags, 64, NULL, NULL, NULL), 3);
	assert_int_equal(tags[0], 17);
}

/* The bucket: `rate' at once, then 1/rate s a packet. */
static void
test_rate(void **state)
{
	struct fx		*f = *state;
	struct dropcap_stats	 s;
	size_t			 n = l3_packet(pkt, sizeof(pkt), 1, 200);
	int			 ok = 0;

	assert_int_equal(dropcap_configure(f->dc, f->path, 16 * MIB, 4, 10),
	    0);
	for (int k = 0; k < 50; k++)
		ok += dropcap_push(f->dc, pkt, n, T0, "r") == 0;
	assert_int_equal(ok, 10);
	/* A tenth of a second: one more; a second: ten more. */
	assert_int_equal(dropcap_push(f->dc, pkt, n, T0 + SEC(1) / 10, "r"),
	    0);
	assert_int_equal(dropcap_push(f->dc, pkt, n, T0 + SEC(1) / 10, "r"),
	    -1);
	ok = 0;
	for (int k = 0; k < 50; k++)
		ok += dropcap_push(f->dc, pkt, n, T0 + SEC(2), "r") == 0;
	assert_int_equal(ok, 10);
	/* A clock stepped back an hour does not shut the capture. */
	assert_int_equal(dropcap_push(f->dc, pkt, n, T0 - SEC(3600), "r"), 0);
	dropcap_flush(f->dc);
	dropcap_stats(f->dc, &s);
	assert_int_equal(s.written, 22);
	assert_int_equal(s.rate, 81);
	assert_int_equal(read_pcap(f->path, NULL, 0, NULL, NULL, NULL), 22);
	/* A new rate applies at once. */
	assert_int_equal(dropcap_configure(f->dc, f->path, 16 * MIB, 4,
	    1000), 0);
	ok = 0;
	for (int k = 0; k < 2000; k++)
		ok += dropcap_push(f->dc, pkt, n, T0 + SEC(10), "r") == 0;
	assert_int_equal(ok, 1000);
}

/* Workers faster than the main loop: a full buffer loses, and counts. */
static void
test_overflow(void **state)
{
	struct fx		*f = *state;
	struct dropcap_stats	 s;
	size_t			 n;
	size_t			 block = 28 + 65536 + 4 + 4 + 4 + 4;
	uint64_t		 fit = DROPCAP_BUFFER / block;
	int			 ok = 0;

	n = l3_packet(pkt, sizeof(pkt), 3, 65535);
	assert_int_equal(dropcap_configure(f->dc, f->path, 64 * MIB, 2,
	    1000000), 0);
	for (int k = 0; k < 100; k++)
		ok += dropcap_push(f->dc, pkt, n, T0, "ovf") == 0;
	assert_int_equal(ok, fit);
	dropcap_flush(f->dc);
	dropcap_stats(f->dc, &s);
	assert_int_equal(s.written, fit);
	assert_int_equal(s.lost, 100 - fit);
	assert_int_equal(s.rate, 0);
	/* Flushed, it takes packets again. */
	assert_int_equal(dropcap_push(f->dc, pkt, n, T0, "ovf"), 0);
}

/* No directory: logged once, the packets counted as errors. */
static void
test_unwritable(void **state)
{
	struct fx		*f = *state;
	struct dropcap_stats	 s;
	char			 path[160];
	size_t			 n = l3_packet(pkt, sizeof(pkt), 1, 200);

	snprintf(path, sizeof(path), "%s/none/drops.pcapng", f->dir);
	assert_int_equal(dropcap_configure(f->dc, path, 16 * MIB, 4, 1000),
	    -1);
	assert_true(dropcap_on(f->dc));
	for (int k = 0; k < 5; k++)
		assert_int_equal(dropcap_push(f->dc, pkt, n, T0, "e"), 0);
	dropcap_flush(f->dc);
	dropcap_stats(f->dc, &s);
	assert_int_equal(s.errors, 5);
	assert_int_equal(s.written, 0);
	assert_false(s.open);
}

/* A file from an earlier run is moved to .1, not appended to. */
static void
test_existing(void **state)
{
	struct fx	*f = *state;
	char		 p1[128];
	FILE		*fp = fopen(f->path, "w");

	assert_non_null(fp);
	fputs("an earlier run\n", fp);
	fclose(fp);
	snprintf(p1, sizeof(p1), "%s.1", f->path);
	assert_int_equal(dropcap_configure(f->dc, f->path, 16 * MIB, 4, 1000),
	    0);
	assert_int_equal(size_of(p1), 15);
	assert_int_equal(size_of(f->path), 28 + 44);
	assert_int_equal(read_pcap(f->path, NULL, 0, NULL, NULL, NULL), 0);
}

int
main(void)
{
	log_init("test_dropcap", 1, LOG_USER);
	log_set_syslog(0);
	treg_fixture(fx_setup, fx_teardown);
	TREG("dropcap", file);
	TREG("dropcap", snaplen);
	TREG("dropcap", rotate);
	TREG("dropcap", rate);
	TREG("dropcap", overflow);
	TREG("dropcap", unwritable);
	TREG("dropcap", existing);
	return treg_run("dropcap");
}
