/*
 * Little-endian integers in byte buffers: every binary file tally writes
 * (scalars.log, output.idx, TensorBoard event files) stores them so,
 * whatever the machine.
 */
#ifndef TALLY_LE_H
#define TALLY_LE_H

#include <stdint.h>

/* The `n`-byte (1 to 8) little-endian integer at `p`. */
static inline uint64_t tally_get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Store the low `n` bytes of `v` at `p`, least significant first. */
static inline void tally_put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

#endif
