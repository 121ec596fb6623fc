// A realistic CPU-bound loop for BenchmarkDeadlineOverhead: FNV-1a over a
// 64 KiB buffer, rounds times.
#include <stdint.h>

static uint8_t buf[1 << 16];

__attribute__((export_name("hash"))) uint64_t hash(uint32_t rounds) {
	for (uint32_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	uint64_t h = 1469598103934665603ULL;
	for (uint32_t r = 0; r < rounds; r++)
		for (uint32_t i = 0; i < sizeof buf; i++) {
			h ^= buf[i];
			h *= 1099511628211ULL;
		}
	return h;
}

int main(void) { return 0; }
