#ifndef TALLY_RNG_H
#define TALLY_RNG_H

#include <stdint.h>

/*
 * A small seeded generator (xoshiro256**, seeded through splitmix64) for
 * sweeps: the same seed gives the same trials on every machine, which the
 * C library's rand() does not promise.
 */
typedef struct {
	uint64_t s[4];
} tally_rng;

void tally_rng_seed(tally_rng *rng, uint64_t seed);
uint64_t tally_rng_next(tally_rng *rng);
/* Uniform in [0, n), n > 0, without modulo bias. */
uint64_t tally_rng_below(tally_rng *rng, uint64_t n);
/* Uniform in [0, 1). */
double tally_rng_unit(tally_rng *rng);
/* A seed from the system's entropy source (the clock if it has none). */
uint64_t tally_rng_fresh_seed(void);

#endif
