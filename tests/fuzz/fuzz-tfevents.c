/*
 * libFuzzer target: any bytes as the contents of a TensorBoard event file,
 * decoded whole and again cut in two at a point the input chooses (as a
 * file read while it is being written), which must give the same scalars.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t cut = data[0] % (size + 1);
	data++;
	size--;
	cut = cut > size ? size : cut;
	tally_fuzz_count whole = {0, 0}, split = {0, 0};
	size_t a = decode_in_two(data, size, size, &whole);
	size_t b = decode_in_two(data, size, cut, &split);
	if (a != b || whole.points != split.points || (whole.sum != split.sum && whole.sum == whole.sum))
		abort();
	return 0;
}
