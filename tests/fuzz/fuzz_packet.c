/*
 * fuzz_packet.c: libFuzzer harness for the packet path, one frame per
 * input, as `sipguard -r' and the NFQUEUE workers drive it.
 *
 * Input: one header byte (link type, enum engine_dir, checksum flags,
 * hardware MAC: see fuzz.h), then the frame.  The engine is made
 * once per process from a small configuration, so state (bindings,
 * pending REGISTERs, the blacklist, TCP streams, fragments, module II)
 * carries over from input to input; time moves 10 ms per input and
 * engine_tick() runs every simulated second.  A crash that does not
 * reproduce alone needs the inputs before it: fuzz_packets puts a
 * sequence in one input.
 *
 * Build and run: `make fuzz' or `make fuzz-smoke' (the fuzz section at
 * the end of the Makefile); max_len 65536 (a 64 KB frame and its header
 * byte).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t	 now = FZ_T0;
	struct engine	*e = fz_engine();

	if (size < 1)
		return 0;
	now += 10 * 1000000ULL;
	fz_frame(e, data[0], data + 1, size - 1, now);
	return 0;
}
