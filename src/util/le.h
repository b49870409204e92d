/*
 * Little-endian integers in byte buffers: every binary file tally writes
 * (scalars.log, output.idx, TensorBoard event files) stores them so,
 * whatever the machine.
 */
#ifndef TALLY_LE_H
#define TALLY_LE_H

#include <stdbool.h>
#include <stddef.h>
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

/*
 * Variable-length integers (LEB128, as protobuf writes them): 7 bits a byte,
 * least significant first, the high bit set on every byte but the last.
 * Signed values go through zigzag first, so small negatives stay short.
 */
#define TALLY_VARINT_MAX 10

/* Store `v` at `p` (room for TALLY_VARINT_MAX bytes); returns the bytes used. */
static inline size_t tally_put_uvarint(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	for (; v >= 0x80; v >>= 7)
		p[n++] = (unsigned char)(v | 0x80);
	p[n++] = (unsigned char)v;
	return n;
}

/* Read a varint from `*p` (not past `end`) and advance `*p`; false when it is cut off or overlong. */
static inline bool tally_get_uvarint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	uint64_t x = 0;
	for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
		unsigned char b = *(*p)++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* Zigzag on the two's-complement bits of a difference (unsigned, so it never overflows). */
static inline uint64_t tally_zigzag(uint64_t v)
{
	return (v << 1) ^ (0 - (v >> 63));
}

static inline uint64_t tally_unzigzag(uint64_t v)
{
	return (v >> 1) ^ (0 - (v & 1));
}

#endif
