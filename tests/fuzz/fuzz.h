/*
 * fuzz.h: what the libFuzzer harnesses of tests/fuzz share.
 *
 * fuzz_util.c, linked into every harness: failing loudly, reading every
 * byte of a range, files and a private directory in /tmp.
 *
 * fuzz_engine.c, for fuzz_packet and fuzz_packets: one engine per
 * process, made from a small configuration (so tables fill up and their
 * full paths run), with an observer and an alarm sink that read and
 * format every field they are handed, as `sipguard -r' does.  A field that is not NUL-terminated inside its array, a verdict
 * or reason out of range, aborts: libFuzzer reports it as a crash.
 *
 * A frame is described by one header byte:
 *   bits 0-2  link: 0, 5, 7 Ethernet; 1, 6 raw IP; 2 SLL; 3 SLL2; 4 NULL
 *   bits 3-4  enum engine_dir + 1: DIR_UNKNOWN, DIR_IN, DIR_OUT, DIR_LOCAL
 *   bits 5-6  ENGINE_CSUM_UNVERIFIED (bit 5), ENGINE_CSUM_PARTIAL (bit 6)
 *   bit 7     pass a hardware MAC (NFQUEUE's), 02:00:00:00:00:11
 */
#ifndef SG_FUZZ_H
#define SG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/* fuzz_util.c */
/* Abort with a message (libFuzzer reports a crash): a broken promise. */
void		 fz_fail(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
/* Read every byte of the range, so ASan checks all of it. */
void		 fz_touch(const void *, size_t);
/* A malloc'ed copy of exactly `len' bytes (never NULL, even for 0). */
uint8_t		*fz_copy(const void *, size_t len);
/* Write `len' bytes to `path' (created or truncated, mode 0600). */
void		 fz_write(const char *path, const void *, size_t len);
/*
 * A directory of the process's own, made with mkdtemp() under /tmp on
 * first use, removed with what it holds when the process exits.
 */
const char	*fz_dir(void);

/*
 * A configuration of the smallest tables, `extra' --set strings over
 * it; an engine made from it (a fresh one each call; aborts if it
 * cannot be made).
 */
void		 fz_small_conf(const char *const *extra, int nextra,
		    struct sg_conf *);
struct engine	*fz_small_engine(void);

/* fuzz_engine.c */

#define FZ_LINK(h)	((h) & 0x07)
#define FZ_DIR(h)	(((h) >> 3) & 0x03)
#define FZ_CSUM(h)	(((h) >> 5) & 0x03)
#define FZ_HWMAC	0x80
#define FZ_HDR(link, dir, csum, hw) ((uint8_t)((link) | ((dir) << 3) | \
			    ((csum) << 5) | ((hw) ? FZ_HWMAC : 0)))
#define FZ_L_ETHERNET	0
#define FZ_L_RAW	1
#define FZ_D_UNKNOWN	0
#define FZ_D_IN		1
#define FZ_D_OUT	2
#define FZ_D_LOCAL	3

/* Capture time of the first frame: 2025-12-01 00:00 UTC, as scenarios. */
#define FZ_T0		(1764547200ULL * 1000000000ULL)

/* The process's engine, created on first use (aborts if it cannot be). */
struct engine	*fz_engine(void);
/*
 * Judge one frame described by header byte `hdr' at time `now', from a
 * copy of exactly `len' bytes (so ASan sees a read past its end), and
 * call engine_tick() whenever `now' passes the next second, as the
 * replay does.
 */
enum sg_verdict	 fz_frame(struct engine *, uint8_t hdr, const uint8_t *,
		    size_t len, uint64_t now);

#endif
