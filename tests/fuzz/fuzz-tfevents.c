/*
 * libFuzzer target: TensorBoard event files.  The first byte picks a mode:
 *  - even: the rest is a file as it is, decoded whole and again cut in two
 *    at a point the next two bytes choose (a file read while being written),
 *    which must give the same scalars;
 *  - odd: the rest is a list of [u8 length][payload] chunks, each framed as
 *    a record with correct CRCs, so that mutations reach the Event, Summary
 *    and Tensor decoding instead of dying at the checksums.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/index/index.h"
#include "util/le.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
	size_t points;
	double sum;  /* of the finite values, to compare the two decodings */
} tally_fuzz_count;

static int count_point(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	tally_fuzz_count *c = ctx;
	(void)step;
	(void)time_ms;
	if (!*tag)
		abort();
	c->points++;
	if (value == value && value - value == 0)
		c->sum += value;
	return 0;
}

static size_t decode_in_two(const uint8_t *data, size_t size, size_t cut, tally_fuzz_count *c)
{
	tally_tfevents_decoder *d;
	if (tally__tfevents_decoder_new(&d, "dir/"))
		return 0;
	size_t used = tally__tfevents_decode(d, data, cut, count_point, c);
	used += tally__tfevents_decode(d, data + used, size - used, count_point, c);
	tally__tfevents_decoder_free(d);
	return used;
}

static void framed(const uint8_t *data, size_t size)
{
	tally_buf file = TALLY_BUF_INIT;
	while (size > 0) {
		size_t len = data[0] < size - 1 ? data[0] : size - 1;
		unsigned char h[12], f[4];
		tally_put_le(h, len, 8);
		tally_put_le(h + 8, tally__tfrecord_masked_crc(h, 8), 4);
		tally_put_le(f, tally__tfrecord_masked_crc(data + 1, len), 4);
		tally_buf_add(&file, h, sizeof h);
		tally_buf_add(&file, data + 1, len);
		tally_buf_add(&file, f, sizeof f);
		data += 1 + len;
		size -= 1 + len;
	}
	tally_fuzz_count c = {0, 0};
	if (!tally_buf_oom(&file) && decode_in_two((const uint8_t *)file.ptr, file.len, file.len, &c) != file.len)
		abort(); /* every record is whole and checksummed: all of it is consumed */
	tally_buf_release(&file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	if (data[0] & 1) {
		framed(data + 1, size - 1);
		return 0;
	}
	size_t cut = ((size_t)data[1] | (size_t)data[2] << 8) % (size - 2);
	data += 3;
	size -= 3;
	tally_fuzz_count whole = {0, 0}, split = {0, 0};
	size_t a = decode_in_two(data, size, size, &whole);
	size_t b = decode_in_two(data, size, cut, &split);
	if (a != b || whole.points != split.points || (whole.sum != split.sum && whole.sum == whole.sum))
		abort();
	return 0;
}
