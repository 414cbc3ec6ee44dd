/*
 * dropcap.c: the drops capture.  A worker that dropped a packet lays its
 * pcapng Enhanced Packet Block into a bounded buffer under a short lock;
 * the main loop alone touches the files, writing the blocks every 100 ms
 * into a ring of size-bounded files.  The pcapng layout (SHB, IDB, EPB,
 * opt_comment) is that of draft-ietf-opsawg-pcapng, sections 4.1-4.3.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "dropcap.h"
#include "log.h"
#include "sipguard.h"

#define RETRY		SEC(10)	/* between attempts to open */
#define BT_SHB		0x0a0d0d0au
#define BT_IDB		0x00000001u
#define BT_EPB		0x00000006u
#define BOM		0x1a2b3c4du
#define OPT_END		0
#define OPT_COMMENT	1
#define IF_NAME		2
#define IF_TSRESOL	9
#define FILES_MAX	1000	/* capture.drops_files' most */

#define PAD4(n)		(((n) + 3) & ~(size_t)3)

struct dropcap {
	pthread_mutex_t	 lock;
	char		*fill;		/* workers lay blocks here, */
	char		*out;		/* the main loop writes this */
	size_t		 len;		/* bytes in fill */
	_Atomic uint64_t tat;		/* sg_gcra_admit()'s */
	uint32_t	 rate;		/* packets/s */
	uint64_t	 skipped_rate, lost;
	atomic_bool	 on;		/* a path is set */
	/* The main loop's alone: */
	uint64_t	 written, errors, rotations;
	int		 fd;
	uint64_t	 size;		/* bytes a file may hold */
	int		 files;		/* in the ring, current too */
	uint64_t	 cur;		/* bytes in the current file */
	char		 path[256];
	uint64_t	 retry_at;	/* mono ns: no open attempt before */
	bool		 failing;	/* the failure has been logged */
};

static void
put32(char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void
put16(char *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static uint32_t
get32(const char *p)
{
	uint32_t	 v;

	memcpy(&v, p, 4);
	return v;
}

/* The file's header: SHB, then the one IDB.  Its length. */
static size_t
header(char *b)
{
	static const char	 ifname[] = "nfqueue";	/* 7 bytes + 1 */
	char			*p = b;
	int64_t			 unknown = -1;

	/* SHB: type, length, magic, version 1.0, section length unknown. */
	put32(p, BT_SHB);
	put32(p + 4, 28);
	put32(p + 8, BOM);
	put16(p + 12, 1);
	put16(p + 14, 0);
	memcpy(p + 16, &unknown, 8);
	put32(p + 24, 28);
	p += 28;
	/* IDB: LINKTYPE_RAW, snaplen; if_name, if_tsresol 9 (ns), end. */
	put32(p, BT_IDB);
	put32(p + 4, 44);
	put16(p + 8, DROPCAP_LINKTYPE);
	put16(p + 10, 0);
	put32(p + 12, DROPCAP_SNAPLEN);
	put16(p + 16, IF_NAME);
	put16(p + 18, 7);
	memset(p + 20, 0, 8);
	memcpy(p + 20, ifname, 7);
	put16(p + 28, IF_TSRESOL);
	put16(p + 30, 1);
	memset(p + 32, 0, 4);
	p[32] = 9;
	put16(p + 36, OPT_END);
	put16(p + 38, 0);
	put32(p + 40, 44);
	p += 44;
	return (size_t)(p - b);
}

static void
failed(struct dropcap *dc, const char *what)
{
	if (!dc->failing)
		log_warn("drops capture %s: %s", dc->path, what);
	dc->failing = true;
}

/*
 * path.(files-2) -> path.(files-1), ..., path -> path.1; with one file,
 * path goes.  A rename that fails unlinks: the bound on disk comes first.
 */
static void
shift(struct dropcap *dc)
{
	char	 from[300], to[300];

	/* No current file (a failed open): the older ones stay where they
	 * are, or every retry would push one out. */
	if (access(dc->path, F_OK) == -1)
		return;
	for (int k = dc->files - 1; k >= 1; k--) {
		if (k == 1)
			snprintf(from, sizeof(from), "%s", dc->path);
		else
			snprintf(from, sizeof(from), "%s.%d", dc->path, k - 1);
		snprintf(to, sizeof(to), "%s.%d", dc->path, k);
		if (rename(from, to) == -1 && errno != ENOENT)
			(void)unlink(from);
	}
	if (dc->files == 1)
		(void)unlink(dc->path);
}

/* A fresh `path' with its header, the old one rotated away; mode 0640. */
static int
open_file(struct dropcap *dc)
{
	char	 h[128];
	size_t	 hl = header(h);
	int	 fd;

	dc->retry_at = clock_mono() + RETRY;
	shift(dc);
	fd = open(dc->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOCTTY, 0640);
	if (fd == -1) {
		failed(dc, "cannot open");
		return -1;
	}
	(void)fchmod(fd, 0640);
	if (sg_write_all(fd, h, hl) == -1) {
		close(fd);
		failed(dc, "write failed");
		return -1;
	}
	if (dc->failing)
		log_info("drops capture %s: writing again", dc->path);
	dc->failing = false;
	dc->fd = fd;
	dc->cur = hl;
	return 0;
}

static void
close_file(struct dropcap *dc)
{
	if (dc->fd != -1)
		close(dc->fd);
	dc->fd = -1;
}

struct dropcap *
dropcap_create(void)
{
	struct dropcap	*dc;

	if ((dc = calloc(1, sizeof(*dc))) == NULL)
		return NULL;
	pthread_mutex_init(&dc->lock, NULL);
	dc->fd = -1;
	dc->rate = 1;
	return dc;
}

void
dropcap_destroy(struct dropcap *dc)
{
	if (dc == NULL)
		return;
	dropcap_flush(dc);
	close_file(dc);
	pthread_mutex_destroy(&dc->lock);
	free(dc->fill);
	free(dc->out);
	free(dc);
}

int
dropcap_configure(struct dropcap *dc, const char *path, uint64_t size,
    int files, uint32_t rate)
{
	bool	 same;

	if (size < DROPCAP_SIZE_MIN)
		size = DROPCAP_SIZE_MIN;
	if (files < 1)
		files = 1;
	if (files > FILES_MAX)
		files = FILES_MAX;
	pthread_mutex_lock(&dc->lock);
	dc->rate = rate > 0 ? rate : 1;
	pthread_mutex_unlock(&dc->lock);
	same = strcmp(path, dc->path) == 0 && size == dc->size &&
	    files == dc->files;
	if (same && (path[0] == '\0' || dc->fd != -1))
		return 0;
	/* Off first: no worker lays a block meant for no file. */
	if (path[0] == '\0')
		atomic_store(&dc->on, false);
	/* What the workers laid so far goes to the file it was meant for. */
	dropcap_flush(dc);
	close_file(dc);
	if (path[0] == '\0') {
		dc->path[0] = '\0';
		return 0;
	}
	if (dc->fill == NULL) {
		char	*a = sg_table_alloc(DROPCAP_BUFFER, 1);
		char	*b = sg_table_alloc(DROPCAP_BUFFER, 1);

		if (a == NULL || b == NULL) {
			free(a);
			free(b);
			log_warnx("drops capture: cannot allocate its buffer");
			return -1;
		}
		pthread_mutex_lock(&dc->lock);
		dc->fill = a;
		dc->out = b;
		pthread_mutex_unlock(&dc->lock);
	}
	if (strcmp(path, dc->path) != 0) {
		snprintf(dc->path, sizeof(dc->path), "%s", path);
		dc->failing = false;
	}
	dc->size = size;
	dc->files = files;
	atomic_store(&dc->on, true);
	return open_file(dc);
}

bool
dropcap_on(struct dropcap *dc)
{
	return dc != NULL && atomic_load_explicit(&dc->on,
	    memory_order_relaxed);
}


int
dropcap_push(struct dropcap *dc, const uint8_t *pkt, size_t len,
    uint64_t now, const char *comment)
{
	size_t	 cap = len < DROPCAP_SNAPLEN ? len : DROPCAP_SNAPLEN;
	size_t	 cl = strnlen(comment, DROPCAP_COMMENT_MAX);
	/* Header, data, comment option, end of options, length. */
	size_t	 total = 28 + PAD4(cap) + (cl > 0 ? 4 + PAD4(cl) : 0) + 8;
	char	*p;
	int	 rc = -1;

	if (!dropcap_on(dc))
		return -1;
	pthread_mutex_lock(&dc->lock);
	if (dc->fill == NULL)
		goto out;
	if (!sg_gcra_admit(&dc->tat, dc->rate, now)) {
		dc->skipped_rate++;
		goto out;
	}
	if (total > DROPCAP_BUFFER - dc->len) {
		dc->lost++;
		goto out;
	}
	p = dc->fill + dc->len;
	memset(p, 0, total);
	put32(p, BT_EPB);
	put32(p + 4, (uint32_t)total);
	put32(p + 8, 0);			/* interface 0 */
	put32(p + 12, (uint32_t)(now >> 32));	/* ns: if_tsresol 9 */
	put32(p + 16, (uint32_t)now);
	put32(p + 20, (uint32_t)cap);
	put32(p + 24, (uint32_t)(len > UINT32_MAX ? UINT32_MAX : len));
	memcpy(p + 28, pkt, cap);
	p += 28 + PAD4(cap);
	if (cl > 0) {
		put16(p, OPT_COMMENT);
		put16(p + 2, (uint16_t)cl);
		memcpy(p + 4, comment, cl);
		p += 4 + PAD4(cl);
	}
	put16(p, OPT_END);
	put16(p + 2, 0);
	put32(p + 4, (uint32_t)total);
	dc->len += total;
	rc = 0;
out:
	pthread_mutex_unlock(&dc->lock);
	return rc;
}

/* Count the blocks in [p, p + n): packets lost with them. */
static uint64_t
blocks(const char *p, size_t n)
{
	uint64_t	 k = 0;

	for (size_t o = 0; o + 8 <= n; o += get32(p + o + 4))
		k++;
	return k;
}

void
dropcap_flush(struct dropcap *dc)
{
	char	*p;
	size_t	 len, o = 0;

	pthread_mutex_lock(&dc->lock);
	len = sg_swap_buffers(&dc->fill, &dc->out, &dc->len);
	pthread_mutex_unlock(&dc->lock);
	p = dc->out;
	if (len == 0)
		return;
	if (dc->fd == -1 && dc->path[0] != '\0' &&
	    clock_mono() >= dc->retry_at)
		open_file(dc);
	/* Runs of blocks that fit the current file, one write each. */
	while (o < len) {
		size_t		 run = 0;
		uint64_t	 n = 0;

		if (dc->fd == -1) {
			dc->errors += blocks(p + o, len - o);
			return;
		}
		while (o + run < len && dc->cur + run +
		    get32(p + o + run + 4) <= dc->size) {
			run += get32(p + o + run + 4);
			n++;
		}
		if (run == 0) {
			/* Full: the next file (a block always fits one). */
			close_file(dc);
			dc->rotations++;
			open_file(dc);
			continue;
		}
		if (sg_write_all(dc->fd, p + o, run) == -1) {
			failed(dc, "write failed");
			dc->errors += blocks(p + o, len - o);
			/* A torn block may end the file: begin another. */
			close_file(dc);
			return;
		}
		if (dc->failing)
			log_info("drops capture %s: writing again", dc->path);
		dc->failing = false;
		dc->cur += run;
		dc->written += n;
		o += run;
	}
}

void
dropcap_stats(struct dropcap *dc, struct dropcap_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (dc == NULL)
		return;
	pthread_mutex_lock(&dc->lock);
	s->rate = dc->skipped_rate;
	s->lost = dc->lost;
	pthread_mutex_unlock(&dc->lock);
	s->written = dc->written;
	s->errors = dc->errors;
	s->rotations = dc->rotations;
	s->open = dc->fd != -1;
}
