/*
 * dropcap.h: the drops capture (capture.drops_file): every packet the
 * live daemon drops, written as pcapng with a packet comment that names
 * the drop's reason, its alarm type and case, so that a disputed drop
 * can be opened in Wireshark.  Off unless a path is set.
 *
 * Promises:
 *   workers    dropcap_push() builds the packet's Enhanced Packet Block
 *              straight into a bounded buffer under a short lock (one
 *              memcpy of at most DROPCAP_SNAPLEN bytes); it never opens,
 *              writes or waits on a file.  A token bucket (GCRA on the
 *              packet's time) admits capture.drops_rate packets a second
 *              with a burst of one second's worth; beyond that a drop is
 *              counted (rate) and not copied.  A full buffer: counted
 *              (lost).
 *   main loop  dropcap_flush() (every 100 ms) writes the buffered blocks.
 *              The current file is `path'; when the next block would take
 *              it past capture.drops_size it is rotated: path.(n-2) ->
 *              path.(n-1) (the oldest, overwritten), ..., path -> path.1,
 *              and a fresh `path' begins with its own header (n =
 *              capture.drops_files).  Each file stays within drops_size,
 *              so the ring never holds more than size x files bytes.  An
 *              existing `path' at open is rotated the same way, never
 *              appended to.
 *
 * Format: one section (SHB), one interface (IDB, LINKTYPE_RAW 101: the
 * NFQUEUE payload is a bare IPv4 or IPv6 packet; if_tsresol 9: time in
 * nanoseconds), then an EPB per packet with opt_comment.  Host byte
 * order, as pcapng allows (the SHB's magic tells the reader).
 *
 * Sizing: DROPCAP_BUFFER bytes twice (the half the workers fill, the
 * half being written), allocated when a path is first set.  At the
 * default rate (1000/s) the main loop empties it every 100 ms: 100
 * blocks, 6.5 MB if every one were a 64 KB TCP segment, so a burst of
 * large segments can overflow it (counted); ordinary SIP over UDP (under
 * 1.5 KB) fills less than a tenth.
 */
#ifndef SG_DROPCAP_H
#define SG_DROPCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DROPCAP_SNAPLEN		65535	/* bytes of a packet kept */
#define DROPCAP_COMMENT_MAX	256	/* bytes of a comment, at most */
#define DROPCAP_BUFFER		(4u << 20)	/* bytes, each half */
#define DROPCAP_LINKTYPE	101	/* LINKTYPE_RAW */
/* An EPB at its largest: header, data, comment, end of options, length. */
#define DROPCAP_BLOCK_MAX	(28 + 65536 + 4 + DROPCAP_COMMENT_MAX + 4 + 4)
/* The smallest drops_size: the file's header and the largest block. */
#define DROPCAP_SIZE_MIN	(1 << 20)

struct dropcap;

struct dropcap_stats {
	uint64_t	 written;	/* packets written to the ring */
	uint64_t	 rate;		/* skipped: over drops_rate */
	uint64_t	 lost;		/* skipped: the buffer was full */
	uint64_t	 errors;	/* lost: no file, or a write failed */
	uint64_t	 rotations;	/* files begun after a full one */
	bool		 open;
};

/* Nothing to write to until dropcap_configure() gives a path. */
struct dropcap	*dropcap_create(void);
/* Writes what is buffered, closes. */
void		 dropcap_destroy(struct dropcap *);
/*
 * Main loop: (re)configure.  A new path, size or ring length closes the
 * current file and opens the new one (rotating an existing file away);
 * "" turns the capture off; a new rate applies at once.  0, or -1 if the
 * file could not be opened (logged; retried every 10 s while drops come)
 * or the buffer could not be allocated.
 */
int		 dropcap_configure(struct dropcap *, const char *path,
		    uint64_t size, int files, uint32_t rate);
/* Is a path set?  (A worker checks before it builds a comment.) */
bool		 dropcap_on(struct dropcap *);
/*
 * Worker: queue packet `p' (`len' bytes, the first DROPCAP_SNAPLEN
 * kept) of time `now' (ns since the epoch) with `comment' (capped).
 * Thread-safe, never blocks on I/O.  0 queued, -1 skipped (off, rate,
 * buffer full: counted).
 */
int		 dropcap_push(struct dropcap *, const uint8_t *p, size_t len,
		    uint64_t now, const char *comment);
/* Main loop: write out what is buffered, rotating as needed. */
void		 dropcap_flush(struct dropcap *);
void		 dropcap_stats(struct dropcap *, struct dropcap_stats *);

#endif
