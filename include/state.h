/*
 * state.h: what survives a restart (SPEC 7): bindings, the blacklist and
 * the keyed-hash key their stored hashes were made with, in one text
 * file under state.dir, written atomically (temporary file, fsync,
 * rename, fsync of the directory).  The learned baseline has a file of
 * its own (state_baseline_save), written the same way.  A corrupt or truncated file (or one
 * with records after its end line) is reported and ignored as a whole:
 * the daemon starts empty, never crashes.
 */
#ifndef SG_STATE_H
#define SG_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct engine;

#define STATE_FILE	"state"
#define BASELINE_FILE	"baseline"
#define WHITELIST_FILE	"whitelist"

struct state_counts {
	uint32_t	 bindings, blacklist, expired, bad;
};

/*
 * Read the hash key from the state file, if there is one, and install
 * it (hash_set_key) so the hashes in the file stay valid.  Call before
 * any engine exists.  0: key installed; 1: no usable file; -1 error.
 */
int	state_load_key(const char *dir, char *err, size_t errlen);
/* Restore bindings and blacklist into each engine, skipping expired. */
int	state_restore(const char *dir, struct engine **, int n, uint64_t now,
	    struct state_counts *, char *err, size_t errlen);
/*
 * Save the bindings and blacklist of all engines (duplicates merged),
 * holding each worker a page at a time (sg_hold_fn; NULL when nothing
 * else runs: a report, a test); the file is written and fsync'ed with
 * nothing held.
 */
int	state_save(const char *dir, struct engine **, int n, uint64_t now,
	    sg_hold_fn, void *, struct state_counts *, char *err,
	    size_t errlen);
/*
 * The learned baseline of module II (SPEC 5), in a file of its own: load
 * one into an engine to skip training; save one (training ends at `now'
 * if it has not).  Both return 0, or -1 with a one-line reason in err.
 */
int	state_baseline_load(struct engine *, const char *path, char *err,
	    size_t errlen);
int	state_baseline_save(struct engine *, const char *path, uint64_t now,
	    sg_hold_fn, void *, char *err, size_t errlen);
/*
 * The whitelist entries added at run time (sipguardctl whitelist add),
 * in a file of their own (state.dir/whitelist, written the same way), so
 * a change writes that small file alone, and an older sipguard reading
 * the state file finds nothing it does not know.  Save the runtime ones
 * of n entries (a copy, taken under the workers' lock): 0 (count set) or
 * -1.  Restore into every engine: 0, 1 when there is no file, or -1 (a
 * file not whole is ignored, as the state file is).
 */
struct wl_entry;
int	state_whitelist_save(const char *dir, const struct wl_entry *,
	    uint32_t n, uint32_t *count, char *err, size_t errlen);
int	state_whitelist_restore(const char *dir, struct engine **, int n,
	    uint32_t *count, char *err, size_t errlen);
/*
 * Replace `path' atomically with what `fill' prints (0, or -1 with the
 * reason in err): the state file and the baseline.
 */
int	state_write_atomic(const char *path, int (*fill)(void *, FILE *),
	    void *arg, char *err, size_t errlen);

#endif
