/*
 * fuzz_packets.c: libFuzzer harness for the packet path across frames:
 * one input is a sequence of frames, so TCP reassembly (segments, holes,
 * overlaps, resets), IP fragments and the state between messages
 * (REGISTER and its answer, dialogs, the blacklist, module II) run.
 *
 * Input: records, each
 *   [header][dt][length: 2 bytes, big endian][length bytes of frame]
 * header: as in fuzz.h (link, direction, checksum flags, MAC);
 * dt: time before the frame, v = dt & 31 in the unit of class dt >> 5:
 *   0: us, 1: ms, 2: 32 ms, 3: s, 4: 32 s, 5: 1024 s, 6: 100 ns,
 *   7: v ms *backwards* (a capture's time may step back);
 * a last record shorter than its length is taken as it is.
 * The engine is made once per process (state carries over between
 * inputs too); time never restarts; engine_tick() runs every simulated
 * second, as in the replay.
 *
 * Build and run: `make fuzz' / `make fuzz-smoke'; max_len 131072.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"

#define MAX_FRAMES	256

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint64_t
advance(uint64_t now, uint8_t dt)
{
	static const uint64_t	 unit[7] = { 1000ULL, 1000000ULL,
	    32000000ULL, NS_PER_SEC, 32 * NS_PER_SEC, 1024 * NS_PER_SEC,
	    100ULL };
	uint64_t		 v = dt & 31;

	if ((dt >> 5) == 7)
		return now > v * 1000000ULL ? now - v * 1000000ULL : now;
	return now + v * unit[dt >> 5];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t	 now = FZ_T0;
	struct engine	*e = fz_engine();
	size_t		 o = 0;
	int		 n = 0;

	while (size - o >= 4 && n++ < MAX_FRAMES) {
		uint8_t	 hdr = data[o], dt = data[o + 1];
		size_t	 len = (size_t)data[o + 2] << 8 | data[o + 3];

		o += 4;
		if (len > size - o)
			len = size - o;
		now = advance(now, dt);
		fz_frame(e, hdr, data + o, len, now);
		o += len;
	}
	return 0;
}
